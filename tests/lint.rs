//! Generated code is hygienic and lint-clean in user crates: it derives
//! under the strictest lints, inside a module that shadows the prelude names
//! and `serde`, with generics, raw identifiers and every default kind.
//! `cargo clippy --all-targets -- -D warnings` checks this file too.
#![deny(warnings, unused_qualifications, missing_docs, clippy::pedantic)]
#![allow(clippy::struct_field_names)]

/// Shadows everything generated code could name by a relative path.
pub mod shadowed {
    #![allow(dead_code, clippy::upper_case_acronyms, non_camel_case_types)]
    // `str` is not shadowed: serde's own derive needs the real one.

    /// A `Result` that is not `core`'s.
    pub struct Result;
    /// An `Option` that is not `core`'s.
    pub struct Option;
    /// A `Some` that is not `core`'s.
    pub struct Some;
    /// A `None` that is not `core`'s.
    pub struct None;
    /// An `Ok` that is not `core`'s.
    pub struct Ok;
    /// An `Err` that is not `core`'s.
    pub struct Err;
    /// A `Default` that is not `core`'s.
    pub trait Default {}
    /// A `Field` that is not jobsess's.
    pub struct Field;
    /// A `serde` that is not serde.
    pub mod serde {}
    /// A `jobsess` that is not jobsess.
    pub mod jobsess {}
    /// A `core` that is not core.
    pub mod core {}

    fn five() -> u8 {
        5
    }

    /// A `u64` kept as text.
    mod as_text {
        #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `with` signature
        pub fn serialize<S: ::serde::Serializer>(
            value: &u64,
            serializer: S,
        ) -> ::core::result::Result<S::Ok, S::Error> {
            serializer.collect_str(value)
        }

        pub fn deserialize<'de, D: ::serde::Deserializer<'de>>(
            deserializer: D,
        ) -> ::core::result::Result<u64, D::Error> {
            let text = <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)?;
            text.parse()
                .map_err(<D::Error as ::serde::de::Error>::custom)
        }
    }

    fn upper<S: ::serde::Serializer>(
        value: &str,
        serializer: S,
    ) -> ::core::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_uppercase())
    }

    fn trimmed<'de, D: ::serde::Deserializer<'de>>(
        deserializer: D,
    ) -> ::core::result::Result<::std::string::String, D::Error> {
        let text = <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)?;
        ::core::result::Result::Ok(text.trim().to_owned())
    }

    fn make_defaults() -> Defaults {
        Defaults { level: 9 }
    }

    /// Metadata with every kind of field the derive handles.
    #[derive(::serde::Serialize, ::serde::Deserialize, ::jobsess::JobMetadata)]
    #[job_metadata(prefix = "lint")]
    #[serde(rename_all = "camelCase")]
    pub struct Everything<T>
    where
        T: Clone,
    {
        /// A plain field.
        pub file_name: ::std::string::String,
        /// A raw identifier.
        pub r#type: u8,
        /// A default.
        #[serde(default)]
        pub tags: ::std::vec::Vec<::std::string::String>,
        /// A default function.
        #[serde(default = "five")]
        pub retries: u8,
        /// A generic field.
        pub payload: T,
        /// A generic field with a default.
        #[serde(default)]
        pub extra: ::std::vec::Vec<T>,
        /// Through a helper module.
        #[serde(with = "as_text")]
        pub size: u64,
        /// Written through a function.
        #[serde(serialize_with = "upper")]
        pub code: ::std::string::String,
        /// Read through a function.
        #[serde(deserialize_with = "trimmed")]
        pub note: ::std::string::String,
        /// With aliases, left out when empty.
        #[serde(
            alias = "remarks",
            alias = "comment",
            default,
            skip_serializing_if = "::std::option::Option::is_none"
        )]
        pub remark: ::std::option::Option<::std::string::String>,
        /// Named like the trait's function.
        pub schema: u8,
        /// A skipped field.
        #[serde(skip)]
        pub cache: ::std::vec::Vec<u8>,
        pub(crate) internal: u8,
    }

    /// A container default, from a function.
    #[derive(::serde::Serialize, ::serde::Deserialize, ::jobsess::JobMetadata)]
    #[serde(default = "make_defaults")]
    pub struct Defaults {
        /// A level.
        pub level: u8,
    }

    /// The first version of a versioned type.
    #[derive(::serde::Serialize, ::serde::Deserialize, ::jobsess::JobMetadata)]
    #[job_metadata(version = 1)]
    pub struct FirstVersion {
        /// A name.
        pub name: ::std::string::String,
    }

    /// Its second version, migrated from the first; a field named like the
    /// version.
    #[derive(::serde::Serialize, ::serde::Deserialize, ::jobsess::JobMetadata)]
    #[job_metadata(version = 2, migrate_from = FirstVersion)]
    pub struct SecondVersion {
        /// Names.
        pub names: ::std::vec::Vec<::std::string::String>,
        /// A version of its own.
        pub version: u32,
    }

    impl ::core::convert::From<FirstVersion> for SecondVersion {
        fn from(first: FirstVersion) -> Self {
            SecondVersion {
                names: ::std::vec![first.name],
                version: 0,
            }
        }
    }

    /// A container default, from `Default`.
    #[derive(
        ::serde::Serialize, ::serde::Deserialize, ::jobsess::JobMetadata, ::core::default::Default,
    )]
    #[serde(default)]
    pub struct Plain {
        /// A name.
        pub name: ::std::string::String,
    }
}

/// A module that imports what the generated code names by absolute paths:
/// `unused_qualifications` must not fire on them.
pub mod imported {
    #![allow(unused_imports)]
    use jobsess::{Field, JobMetadata, Schema};
    use serde::{Deserialize, Serialize};

    /// Metadata derived where `Field` and the trait are in scope.
    #[derive(Serialize, Deserialize, JobMetadata)]
    pub struct Imported {
        /// A plain field.
        pub name: String,
        /// A private one, never used.
        secret: u8,
    }
}

#[test]
fn generated_code_compiles_clean() {
    use jobsess::JobMetadata;
    use shadowed::{Defaults, Everything, Plain};
    assert_eq!(
        <Everything<u8> as JobMetadata>::field_keys(),
        [
            "fileName", "type", "tags", "retries", "payload", "extra", "size", "code", "note",
            "remark", "schema", "internal"
        ]
    );
    assert_eq!(Everything::<u8>::RETRIES.default_value(), Some(5));
    assert_eq!(Everything::<u8>::TYPE.name(), "type");
    assert_eq!(Everything::<u8>::INTERNAL.name(), "internal");
    assert_eq!(Everything::<u8>::REMARK.aliases(), ["remarks", "comment"]);
    assert_eq!(Everything::<u8>::SCHEMA.name(), "schema");
    assert_eq!(Everything::<u8>::schema().type_name, "Everything");
    assert_eq!(Defaults::LEVEL.default_value(), Some(9));
    assert_eq!(Plain::NAME.default_value().as_deref(), Some(""));
    assert_eq!(<Plain as JobMetadata>::key_prefix(), "job");
    assert_eq!(shadowed::SecondVersion::schema().version, Some(2));
    assert_eq!(shadowed::SecondVersion::VERSION.name(), "version");
}

/// The crate's front page lists every cargo feature of `jobsess`, and
/// names none that doesn't exist.
#[test]
fn the_feature_table_matches_cargo_toml() {
    let manifest = include_str!("../jobsess/Cargo.toml");
    let features: Vec<&str> = manifest
        .split("[features]")
        .nth(1)
        .expect("a [features] table")
        .lines()
        .take_while(|line| !line.starts_with('['))
        .filter_map(|line| line.split_once(" = ").map(|(name, _)| name.trim()))
        .filter(|name| *name != "default")
        .collect();
    let front_page = include_str!("../jobsess/src/lib.rs");
    let listed: Vec<&str> = front_page
        .lines()
        .filter_map(|line| line.strip_prefix("//! | `"))
        .filter_map(|rest| rest.split_once("` |").map(|(name, _)| name))
        .filter(|name| !name.contains(' '))
        .collect();
    assert!(features.len() >= 6, "{features:?}");
    for feature in &features {
        assert!(
            listed.contains(feature),
            "feature `{feature}` is not in the table: {listed:?}"
        );
    }
    for name in &listed {
        assert!(
            features.contains(name),
            "the table names `{name}`, which Cargo.toml lacks"
        );
    }
}
