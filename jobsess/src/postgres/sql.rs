//! The store's SQL, one file per statement in `sql/`, each with a header
//! naming its parameters and its reply. The configured names (schema,
//! table) are quoted and put in once, when the store is configured; every
//! value of a request is a bind parameter.

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
    pub(super) get_members: Arc<str>,
    pub(super) insert: Arc<str>,
    pub(super) version: Arc<str>,
    pub(super) set_field: Arc<str>,
    pub(super) increment_field: Arc<str>,
    pub(super) update: Arc<str>,
    pub(super) remove: Arc<str>,
    pub(super) remove_prefix: Arc<str>,
    pub(super) remove_start: Arc<str>,
    pub(super) ids: Arc<str>,
    pub(super) ids_start: Arc<str>,
    pub(super) entries: Arc<str>,
    pub(super) entries_start: Arc<str>,
    pub(super) mark: Arc<str>,
    pub(super) claim: Arc<str>,
    pub(super) sweep: Arc<str>,
    /// The NOTIFY channel of the store's watched jobs.
    pub(super) channel: String,
    /// `schema.table`, as errors name the table.
    pub(super) table: String,
}

/// An identifier, quoted for PostgreSQL: any text is one (a NUL, which
/// PostgreSQL can't hold, is dropped).
pub(super) fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('\0', "").replace('"', "\"\""))
}

/// The advisory lock `migrate` takes: one number for every jobsess store,
/// so concurrent migrations take turns.
const MIGRATE_LOCK: i64 = 7_363_572_611;

impl Statements {
    pub(super) fn new(schema: &str, table: &str) -> Statements {
        let revisions = format!("{}.{}", quote(schema), quote(&format!("{table}_revision")));
        let names = [
            ("{schema}", quote(schema)),
            ("{jobs}", format!("{}.{}", quote(schema), quote(table))),
            // nextval takes the sequence's name as a text literal
            (
                "nextval('{revisions}')",
                format!("nextval('{}')", revisions.replace('\'', "''")),
            ),
            ("{revisions}", revisions),
            (
                "{claims}",
                format!("{}.{}", quote(schema), quote(&format!("{table}_claims"))),
            ),
            ("{expiry_index}", quote(&format!("{table}_expires_at"))),
            (
                "{claims_expiry_index}",
                quote(&format!("{table}_claims_expires_at")),
            ),
            ("{lock}", MIGRATE_LOCK.to_string()),
        ];
        let fill = |text: &str| -> Arc<str> {
            names
                .iter()
                .fold(text.to_owned(), |text, (name, value)| {
                    text.replace(name, value)
                })
                .into()
        };
        let table_name = format!("{schema}.{table}");
        Statements {
            migrate: fill(sql_file!("migrate")),
            get: fill(sql_file!("get")),
            get_field: fill(sql_file!("get_field")),
            get_members: fill(sql_file!("get_members")),
            insert: fill(sql_file!("insert")),
            version: fill(sql_file!("version")),
            set_field: fill(sql_file!("set_field")),
            increment_field: fill(sql_file!("increment_field")),
            update: fill(sql_file!("update")),
            remove: fill(sql_file!("remove")),
            remove_prefix: fill(sql_file!("remove_prefix")),
            remove_start: fill(sql_file!("remove_start")),
            ids: fill(sql_file!("ids")),
            ids_start: fill(sql_file!("ids_start")),
            entries: fill(sql_file!("entries")),
            entries_start: fill(sql_file!("entries_start")),
            mark: fill(sql_file!("mark")),
            claim: fill(sql_file!("claim")),
            sweep: fill(sql_file!("sweep")),
            channel: format!("jobsess_{}", &crate::store::hex_digest(&table_name)[..16]),
            table: table_name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_and_every_placeholder_is_filled() {
        let sql = Statements::new("my \"schema\"", "jobs");
        assert!(
            sql.insert
                .contains("nextval('\"my \"\"schema\"\"\".\"jobs_revision\"')")
        );
        assert!(
            sql.get.contains("\"my \"\"schema\"\"\".\"jobs\""),
            "{}",
            sql.get
        );
        for text in [
            &sql.migrate,
            &sql.get,
            &sql.get_field,
            &sql.get_members,
            &sql.insert,
            &sql.version,
            &sql.set_field,
            &sql.update,
            &sql.remove,
            &sql.remove_prefix,
            &sql.remove_start,
            &sql.ids,
            &sql.ids_start,
            &sql.entries,
            &sql.entries_start,
            &sql.mark,
            &sql.claim,
            &sql.sweep,
            &sql.increment_field,
        ] {
            for name in [
                "{schema}",
                "{jobs}",
                "{revisions}",
                "{claims}",
                "{lock}",
                "_index}",
            ] {
                assert!(!text.contains(name), "{name} in {text}");
            }
        }
        assert!(sql.channel.len() < 64);
    }
}
