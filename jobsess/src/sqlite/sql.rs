//! The store's SQL, one file per statement in `sql/`, each with a header
//! naming its parameters and its reply. The configured table's names are
//! quoted and put in once, when the store is configured; every value of a
//! request is a bind parameter.

use std::sync::Arc;

/// A statement's text, its placeholders still in.
macro_rules! sql_file {
    ($name:literal) => {
        include_str!(concat!("sql/", $name, ".sql"))
    };
}

/// Every statement of one store, its names put in.
#[derive(Debug)]
pub(super) struct Statements {
    pub(super) migrate: Arc<str>,
    pub(super) get: Arc<str>,
    pub(super) get_field: Arc<str>,
    pub(super) insert: Arc<str>,
    pub(super) version: Arc<str>,
    pub(super) set_field: Arc<str>,
    pub(super) increment_field: Arc<str>,
    pub(super) update: Arc<str>,
    pub(super) remove: Arc<str>,
    pub(super) remove_prefix: Arc<str>,
    pub(super) remove_start: Arc<str>,
    pub(super) remove_expired: Arc<str>,
    pub(super) ids: Arc<str>,
    pub(super) ids_start: Arc<str>,
    pub(super) entries: Arc<str>,
    pub(super) entries_start: Arc<str>,
    pub(super) mark: Arc<str>,
    pub(super) claim: Arc<str>,
    pub(super) sweep_jobs: Arc<str>,
    pub(super) sweep_claims: Arc<str>,
    pub(super) changes: Arc<str>,
    pub(super) last_change: Arc<str>,
    pub(super) prune_changes: Arc<str>,
    /// The jobs table's name, as errors name it.
    pub(super) table: String,
}

/// An identifier, quoted for SQLite: any text is one (a NUL, which
/// SQLite can't hold in a name, is dropped).
fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('\0', "").replace('"', "\"\""))
}

impl Statements {
    pub(super) fn new(table: &str) -> Statements {
        let named = |suffix: &str| quote(&format!("{table}_{suffix}"));
        let names = [
            ("{jobs}", quote(table)),
            ("{claims}", named("claims")),
            ("{changes}", named("changes")),
            ("{revisions}", named("revision")),
            ("{expiry_index}", named("expires_at")),
            ("{claims_expiry_index}", named("claims_expires_at")),
            ("{created}", named("created")),
            ("{revised}", named("revised")),
            ("{changed}", named("changed")),
            ("{removed}", named("removed")),
        ];
        let fill = |text: &str| -> Arc<str> {
            names
                .iter()
                .fold(text.to_owned(), |text, (name, value)| {
                    text.replace(name, value)
                })
                .into()
        };
        Statements {
            migrate: fill(sql_file!("migrate")),
            get: fill(sql_file!("get")),
            get_field: fill(sql_file!("get_field")),
            insert: fill(sql_file!("insert")),
            version: fill(sql_file!("version")),
            set_field: fill(sql_file!("set_field")),
            increment_field: fill(sql_file!("increment_field")),
            update: fill(sql_file!("update")),
            remove: fill(sql_file!("remove")),
            remove_prefix: fill(sql_file!("remove_prefix")),
            remove_start: fill(sql_file!("remove_start")),
            remove_expired: fill(sql_file!("remove_expired")),
            ids: fill(sql_file!("ids")),
            ids_start: fill(sql_file!("ids_start")),
            entries: fill(sql_file!("entries")),
            entries_start: fill(sql_file!("entries_start")),
            mark: fill(sql_file!("mark")),
            claim: fill(sql_file!("claim")),
            sweep_jobs: fill(sql_file!("sweep_jobs")),
            sweep_claims: fill(sql_file!("sweep_claims")),
            changes: fill(sql_file!("changes")),
            last_change: fill(sql_file!("last_change")),
            prune_changes: fill(sql_file!("prune_changes")),
            table: table.to_owned(),
        }
    }
}

/// The JSON path of the object member `name` (`$."name"`), as SQLite's
/// JSON functions take it; `None` for a name that a path can't spell (a
/// `"`, a `\` or a control character in it), which the store then reads
/// and writes through the whole job.
pub(super) fn member_path(name: &str) -> Option<String> {
    let plain = !name.contains(['"', '\\']) && !name.chars().any(char::is_control);
    plain.then(|| format!("$.\"{name}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_and_every_placeholder_is_filled() {
        let sql = Statements::new("my \"jobs\"");
        assert!(sql.get.contains("\"my \"\"jobs\"\"\""), "{}", sql.get);
        assert!(sql.migrate.contains("\"my \"\"jobs\"\"_changes\""));
        for text in [
            &sql.migrate,
            &sql.get,
            &sql.get_field,
            &sql.insert,
            &sql.version,
            &sql.set_field,
            &sql.increment_field,
            &sql.update,
            &sql.remove,
            &sql.remove_prefix,
            &sql.remove_start,
            &sql.remove_expired,
            &sql.ids,
            &sql.ids_start,
            &sql.entries,
            &sql.entries_start,
            &sql.mark,
            &sql.claim,
            &sql.sweep_jobs,
            &sql.sweep_claims,
            &sql.changes,
            &sql.last_change,
            &sql.prune_changes,
        ] {
            assert!(
                !text.contains(['{', '}']),
                "a placeholder is left in {text}"
            );
        }
    }

    #[test]
    fn only_plain_names_have_a_path() {
        assert_eq!(member_path("file").as_deref(), Some("$.\"file\""));
        assert_eq!(member_path("a.b[0]").as_deref(), Some("$.\"a.b[0]\""));
        assert_eq!(member_path("say \"hi\""), None);
        assert_eq!(member_path("back\\slash"), None);
        assert_eq!(member_path("line\nbreak"), None);
    }
}
