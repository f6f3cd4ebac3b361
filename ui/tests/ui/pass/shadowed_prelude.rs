//! Generated code names nothing by a relative path: a module that shadows
//! the prelude, `serde`, `core` and `jobsess` still derives.
#![allow(dead_code, non_camel_case_types)]

mod shadowed {
    pub struct Result;
    pub struct Option;
    pub struct Some;
    pub struct None;
    pub struct Ok;
    pub struct Err;
    pub trait Default {}
    pub struct Fn;
    pub struct Field;
    pub struct Value;
    pub mod serde {}
    pub mod serde_json {}
    pub mod core {}
    pub mod jobsess {}

    mod as_text {
        pub fn serialize<S: ::serde::Serializer>(v: &u64, s: S) -> ::core::result::Result<S::Ok, S::Error> {
            s.collect_str(v)
        }
        pub fn deserialize<'de, D: ::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<u64, D::Error> {
            let text = <::std::string::String as ::serde::Deserialize>::deserialize(d)?;
            text.parse().map_err(<D::Error as ::serde::de::Error>::custom)
        }
    }

    #[derive(::serde::Serialize, ::serde::Deserialize, ::jobsess::JobMetadata)]
    pub struct Job<T> {
        #[serde(with = "as_text")]
        pub size: u64,
        #[serde(default, alias = "v")]
        pub value: T,
        #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
        pub note: ::std::option::Option<::std::string::String>,
    }
}

fn main() {
    assert_eq!(shadowed::Job::<u8>::SIZE.name(), "size");
    assert_eq!(shadowed::Job::<u8>::VALUE.aliases(), ["v"]);
}
