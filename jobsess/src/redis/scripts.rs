//! The Lua scripts, one file each in `lua/` with a header naming its KEYS,
//! ARGV and reply, and the small helper files of `lua/include/` that each
//! script puts before its body, in a fixed order (each after those it
//! uses): `names`, `now`, `deadline` (writes), `watched`, `zcall`,
//! `member`, `renew`, `publish_job`, and for a field write
//! `any_revision` or `expected_revision`. A script includes only the helpers it
//! uses: Redis runs a script's whole text on every call. The messages the
//! scripts publish are described in `messages.rs`, which parses them.

use std::sync::LazyLock;

use fred::types::scripts::Script;

/// The hash field of a watched job: until when (ms) it is watched.
/// `WATCHED` in `lua/include/names.lua`.
pub(super) const WATCHED: &str = "\u{0}watched";

/// The hash field that marks a job's hash, so a job with no fields still
/// exists, and holds its revision: every write adds one, so an update
/// writes only over the revision it read. No serde field is named so; it
/// is never returned. (Releases before updates wrote `1` and never changed
/// it.) `MARKER` in `lua/include/names.lua`.
pub(super) const MARKER: &str = "\u{0}jobsess";

/// A script from its files: `include/<helper>.lua` for each helper named,
/// in the order given, then `<script>.lua`.
macro_rules! lua_script {
    ($script:literal $(, $helper:literal)*) => {
        LazyLock::new(|| {
            Script::from_lua(concat!(
                $(include_str!(concat!("lua/include/", $helper, ".lua")),)*
                include_str!(concat!("lua/", $script, ".lua")),
            ))
        })
    };
}

/// `lua/insert.lua`: replaces a job.
pub(super) static INSERT: LazyLock<Script> = lua_script!(
    "insert",
    "names",
    "now",
    "deadline",
    "watched",
    "zcall",
    "member",
    "renew",
    "publish_job"
);

/// `lua/update.lua`: replaces a job still at the revision an update read.
pub(super) static UPDATE: LazyLock<Script> = lua_script!(
    "update",
    "names",
    "now",
    "deadline",
    "watched",
    "zcall",
    "member",
    "renew",
    "publish_job"
);

/// `lua/set_field.lua` with its helpers, the last of them `$revision`:
/// whether the write checks the revision an update read.
macro_rules! field_write {
    ($revision:literal) => {
        lua_script!(
            "set_field",
            "names",
            "now",
            "deadline",
            "watched",
            "zcall",
            "member",
            "renew",
            $revision
        )
    };
}

/// `lua/set_field.lua`: sets one field of an existing job.
pub(super) static SET_FIELD: LazyLock<Script> = field_write!("any_revision");

/// `lua/set_field.lua` for `update_field`: sets one field of a job still
/// at the revision the update read (its last argument).
pub(super) static UPDATE_FIELD: LazyLock<Script> = field_write!("expected_revision");

/// `lua/increment_field.lua`: adds to a whole-number field of an existing
/// job, in one atomic step.
pub(super) static INCREMENT_FIELD: LazyLock<Script> = lua_script!(
    "increment_field",
    "names",
    "now",
    "deadline",
    "watched",
    "zcall",
    "member",
    "renew"
);

/// `lua/watch.lua`: marks a job as watched.
pub(super) static WATCH: LazyLock<Script> = lua_script!("watch", "names", "now");

/// `lua/claim.lua`: the owner token claimed for a session.
#[cfg_attr(not(any(feature = "axum", feature = "actix")), allow(dead_code))]
pub(super) static CLAIM: LazyLock<Script> = lua_script!("claim");

/// `lua/remove.lua`: removes a job.
pub(super) static REMOVE: LazyLock<Script> = lua_script!(
    "remove", "names", "now", "deadline", "watched", "zcall", "member"
);

/// `lua/list.lua`: the owner's live job keys with their expiries.
pub(super) static LIST: LazyLock<Script> = lua_script!("list", "now", "zcall");

/// `lua/remove_all.lua`: removes jobs of one owner.
pub(super) static REMOVE_ALL: LazyLock<Script> =
    lua_script!("remove_all", "names", "now", "deadline", "watched", "zcall");

/// Every script, by its file's name, for the tests and the Lua linter.
#[cfg(test)]
pub(super) fn all() -> [(&'static str, &'static LazyLock<Script>); 10] {
    [
        ("increment_field", &INCREMENT_FIELD),
        ("insert", &INSERT),
        ("update", &UPDATE),
        ("set_field", &SET_FIELD),
        ("update_field", &UPDATE_FIELD),
        ("watch", &WATCH),
        ("claim", &CLAIM),
        ("remove", &REMOVE),
        ("list", &LIST),
        ("remove_all", &REMOVE_ALL),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names Rust and Lua share are the same on both sides.
    #[test]
    fn names_agree_with_the_lua() {
        let names = include_str!("lua/include/names.lua");
        for (name, value) in [
            ("MARKER", MARKER),
            ("WATCHED", WATCHED),
            ("VERSION_KEY", crate::VERSION_KEY),
        ] {
            let lua = value.replace('\u{0}', "\\0");
            let line = format!("local {name} = '{lua}'");
            assert!(names.lines().any(|l| l == line), "no `{line}` in names.lua");
        }
    }

    /// Each script ends with its own file, after its helpers, each of
    /// which ends with a line break. With `JOBSESS_LUA_OUT` set, it also
    /// writes each whole script there as `<name>.lua`, for `.ci/run`'s Lua
    /// linter.
    #[test]
    fn write_scripts_for_the_linter() {
        let out = std::env::var_os("JOBSESS_LUA_OUT").map(std::path::PathBuf::from);
        if let Some(dir) = &out {
            std::fs::create_dir_all(dir).unwrap();
        }
        for (name, script) in all() {
            let text = script.lua().expect("a script made from Lua text");
            assert!(text.starts_with("-- "), "{name} starts with a header");
            assert!(
                !text.contains("\n\n\n"),
                "{name}: a file without its last line break"
            );
            if let Some(dir) = &out {
                std::fs::write(dir.join(format!("{name}.lua")), text.as_bytes()).unwrap();
            }
        }
    }
}
