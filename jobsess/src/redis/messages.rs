//! The messages the write scripts publish for watchers, and their parsing.
//!
//! A write to a job that is being watched (its hash holds `\0watched`, the
//! time in milliseconds until which some process watches it, renewed by
//! that process while it does) publishes what it did on a channel named as
//! the job's hash; a job nobody watches costs nothing more, as the script
//! reads `\0watched` with what it reads anyway. Each message is a JSON
//! array, `rev` being the job's revision after the write:
//!
//! | message | written by | what it says |
//! |---|---|---|
//! | `["w", rev, field, json, ...]` | `lua/insert.lua`, `lua/update.lua` (`include/publish_job.lua`) | the whole job |
//! | `["r", rev]` | the same, when the job would pass 64 KB | the job changed: read it |
//! | `["f", rev, field, "1" or "0", json, aliases...]` | `lua/set_field.lua` | one field set (`"1"`) or removed (`"0"`), its aliases removed |
//! | `["d"]` | `lua/remove.lua`, `lua/remove_all.lua` | the job was removed |

use std::sync::Arc;

use serde_json::Value;

use super::jobs::object_of;
use crate::store::watch::Note;

/// Parses a message; `None` for one that can't be read, on which
/// watchers read the job again.
pub(super) fn parse(channel: &str, text: &str) -> Option<Note> {
    let parts: Vec<Value> = serde_json::from_str(text).ok()?;
    let kind = parts.first()?.as_str()?;
    if kind == "d" {
        return Some(Note::Deleted);
    }
    let revision = parts.get(1).and_then(|r| {
        r.as_str()
            .and_then(|r| r.parse().ok())
            .or_else(|| r.as_u64())
    })?;
    let texts: Vec<&str> = parts[2..].iter().filter_map(Value::as_str).collect();
    match kind {
        "w" => {
            let pairs = texts
                .chunks_exact(2)
                .map(|p| (p[0].to_owned(), p[1].to_owned()));
            let job = object_of(channel, pairs).ok()?;
            Some(Note::Whole {
                revision,
                job: Arc::new(job),
            })
        }
        "r" => Some(Note::Changed { revision }),
        "f" if texts.len() >= 3 => Some(Note::Field {
            revision,
            name: texts[0].to_owned(),
            value: if texts[1] == "1" {
                Some(serde_json::from_str(texts[2]).ok()?)
            } else {
                None
            },
            aliases: texts[3..].iter().map(|a| (*a).to_owned()).collect(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_parse_as_the_scripts_write_them() {
        let whole = parse("c", r#"["w","3","file","\"a.mp3\"","p","5"]"#);
        assert!(
            matches!(whole, Some(Note::Whole { revision: 3, job }) if *job == json!({ "file": "a.mp3", "p": 5 }))
        );
        let one = parse("c", r#"["f","4","p","1","6","old"]"#);
        assert!(matches!(
            one,
            Some(Note::Field { revision: 4, ref name, value: Some(ref v), ref aliases })
                if name == "p" && *v == json!(6) && aliases == &["old"]
        ));
        assert!(matches!(parse("c", r#"["d"]"#), Some(Note::Deleted)));
        assert!(matches!(
            parse("c", r#"["r",9]"#),
            Some(Note::Changed { revision: 9 })
        ));
        assert!(parse("c", "not a message").is_none());
        assert!(parse("c", r#"["f","4","p","1","{"]"#).is_none());
    }
}
