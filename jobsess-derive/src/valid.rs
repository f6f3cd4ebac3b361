//! Stage 2: checks the rules that span the whole input and turns the model
//! of stage 1 into the checked model that stage 3 quotes. What breaks a rule
//! is reported and left out, so the output still compiles as far as it can.

use std::collections::BTreeMap;

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::{Ident, Type, Visibility};

use crate::attr::{Container, Field, SerdeDefault};
use crate::ctxt::Ctxt;

/// The prefix used when `#[job_metadata(prefix)]` is not given.
const DEFAULT_PREFIX: &str = "job";

/// The checked input of the expansion.
pub struct Model<'a> {
    pub ident: &'a Ident,
    pub generics: &'a syn::Generics,
    pub krate: syn::Path,
    pub prefix: String,
    /// `#[job_metadata(version = N)]`: `N`, as given.
    pub version: Option<&'a syn::LitInt>,
    /// `#[job_metadata(migrate_from = Type)]`, when `version` is given too.
    pub migrate_from: Option<&'a syn::Path>,
    /// `#[job_metadata(status = field)]`: the index of that field's
    /// accessor, and the name as the attribute gives it (its span).
    pub status: Option<(usize, &'a Ident)>,
    /// `None` for an input that isn't a struct with named fields: only the
    /// errors are emitted then.
    pub fields: Option<Vec<Accessor<'a>>>,
}

/// One stored field, which gets a typed key const.
pub struct Accessor<'a> {
    pub member: &'a Ident,
    pub const_ident: Ident,
    pub key: String,
    pub aliases: Vec<String>,
    pub ty: &'a Type,
    pub vis: &'a Visibility,
    pub default: Default<'a>,
    pub serialize_with: Option<&'a syn::ExprPath>,
    pub deserialize_with: Option<&'a syn::ExprPath>,
    pub skip_serializing_if: Option<&'a syn::ExprPath>,
    /// Whether the field's type mentions a type parameter of the struct, so
    /// that the impl needs bounds on it.
    pub generic: bool,
}

/// What serde uses for a field that is absent.
pub enum Default<'a> {
    None,
    /// `#[serde(default)]` on the field.
    Field,
    /// `#[serde(default = "path")]` on the field.
    FieldPath(&'a syn::ExprPath),
    /// `#[serde(default)]` on the struct.
    Container,
    /// `#[serde(default = "path")]` on the struct.
    ContainerPath(&'a syn::ExprPath),
}

pub fn check<'a>(cx: &mut Ctxt, cont: &'a Container<'a>) -> Model<'a> {
    let prefix = match &cont.prefix {
        Some(lit) => {
            let value = lit.value();
            match prefix_problem(&value) {
                Some(problem) => {
                    cx.error_spanned_by(
                        lit,
                        format_args!(
                            "invalid prefix {value:?}: {problem}; a prefix is 1 to 64 ASCII letters, digits or `-`"
                        ),
                    );
                    DEFAULT_PREFIX.to_owned()
                }
                None => value,
            }
        }
        None => DEFAULT_PREFIX.to_owned(),
    };

    let krate = cont.krate.clone().unwrap_or_else(|| syn::Path {
        // `::jobsess`, built directly: parsing it costs more
        leading_colon: Some(syn::Token![::](Span::call_site())),
        segments: std::iter::once(syn::PathSegment::from(Ident::new(
            "jobsess",
            Span::call_site(),
        )))
        .collect(),
    });

    for key in &cont.reshaping {
        cx.error_spanned_by(
            key,
            format_args!(
                "JobMetadata can't be derived with `#[serde({key})]`: it stores the struct as \
                 a JSON object of its fields, which `{key}` replaces with another shape"
            ),
        );
    }
    // With `remote`, the type itself has no serde impls: emitting the trait
    // impl would only add errors after the one above.
    let remote = cont.reshaping.iter().any(|key| key == "remote");
    let fields = cont
        .fields
        .as_ref()
        .filter(|_| !remote)
        .map(|fields| accessors(cx, cont, fields));

    let version = cont.version.as_ref();
    let mut migrate_from = cont.migrate_from.as_ref();
    if let Some(path) = migrate_from {
        if version.is_none() {
            cx.error_spanned_by(
                path,
                "`migrate_from` needs a `version` too, above the previous type's: \
                 `#[job_metadata(version = 2, migrate_from = ...)]`",
            );
            migrate_from = None;
        } else if cont.input.generics.params.iter().next().is_some() {
            cx.error_spanned_by(path, "`migrate_from` is not supported on a generic struct");
            migrate_from = None;
        }
    }
    if let Some(tag) = cont.tag.as_ref().filter(|tag| tag.value() == VERSION_KEY) {
        cx.error_spanned_by(
            tag,
            format_args!(
                "`#[serde(tag)]` can't be {VERSION_KEY:?}: jobsess keeps the version of a job \
                 there, so the tag and the version would overwrite each other"
            ),
        );
    }
    if let (Some(deny), Some(v)) = (&cont.deny_unknown_fields, version)
        && v.base10_parse::<u32>().is_ok_and(|v| v > 1)
    {
        cx.error_spanned_by(
            deny,
            "a versioned type can't have `#[serde(deny_unknown_fields)]`: its stored jobs hold \
             a `jobsess:version` member, which serde would then refuse",
        );
    }

    let status = cont
        .status
        .as_ref()
        .and_then(|name| status_field(cx, cont, fields.as_deref(), name));

    Model {
        ident: &cont.input.ident,
        generics: &cont.input.generics,
        krate,
        prefix,
        version,
        migrate_from,
        status,
        fields,
    }
}

/// The accessor of the field `#[job_metadata(status = name)]` names, if it
/// has one: a stored field of a struct with no type parameters.
fn status_field<'a>(
    cx: &mut Ctxt,
    cont: &Container,
    fields: Option<&[Accessor<'a>]>,
    name: &'a Ident,
) -> Option<(usize, &'a Ident)> {
    let fields = fields?;
    if cont.input.generics.type_params().next().is_some() {
        cx.error_spanned_by(name, "`status` is not supported on a generic struct");
        return None;
    }
    let found = fields.iter().position(|f| f.member == name);
    if found.is_none() {
        let declared = cont.fields.iter().flatten().any(|f| f.ident == name);
        cx.error_spanned_by(
            name,
            if declared {
                format!(
                    "`status = {name}` names a field with no stored key: serde skips it, so \
                     its jobs could never say they ended"
                )
            } else {
                format!("`status = {name}`: the struct has no field `{name}`")
            },
        );
    }
    found.map(|index| (index, name))
}

/// `jobsess::VERSION_KEY`: the member a versioned job keeps its version in.
const VERSION_KEY: &str = "jobsess:version";

/// The trait const that holds a type's version.
const VERSION_CONST: &str = "__JOBSESS_VERSION";

/// The runtime's prefix rules (`jobsess::key::validate_prefix`), at compile time.
fn prefix_problem(prefix: &str) -> Option<&'static str> {
    if prefix.is_empty() {
        Some("it is empty")
    } else if prefix.len() > 64 {
        Some("it is longer than 64 bytes")
    } else if prefix.contains('_') {
        Some("it contains `_`, the separator between prefix and job id")
    } else if !prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Some("it has a character that is not an ASCII letter, digit or `-`")
    } else {
        None
    }
}

fn accessors<'a>(cx: &mut Ctxt, cont: &'a Container, fields: &'a [Field<'a>]) -> Vec<Accessor<'a>> {
    let type_params: Vec<&Ident> = cont
        .input
        .generics
        .type_params()
        .map(|p| &p.ident)
        .collect();
    let mut by_key: BTreeMap<String, &Ident> = BTreeMap::new();
    let mut by_const: BTreeMap<String, &Ident> = BTreeMap::new();
    let mut out = Vec::new();
    for field in fields {
        let member = field.ident;
        if let Some(span) = field.flatten {
            cx.syn_error(syn::Error::new(
                span,
                "JobMetadata does not support `#[serde(flatten)]`: the flattened fields would have \
                 no typed keys; nest the struct as a field instead",
            ));
            continue;
        }
        if field.skip_serializing || field.skip_deserializing {
            // Never written or never read: no stored value to give a key to.
            continue;
        }
        let (ser, de) = (&field.ser_name, &field.de_name);
        if ser.value != de.value {
            cx.syn_error(syn::Error::new(
                ser.span,
                format_args!(
                    "field `{member}` is written as {:?} but read as {:?}; JobMetadata needs one key \
                     per field, so give `rename` a single name",
                    ser.value, de.value
                ),
            ));
            continue;
        }
        if let Some(first) = by_key.get(ser.value.as_str()) {
            let what = format!("stored under key {:?}", ser.value);
            collision(cx, ser.span, first, member, &what);
            continue;
        }
        if let Some(tag) = cont.tag.as_ref().filter(|tag| tag.value() == ser.value) {
            cx.syn_error(syn::Error::new(
                ser.span,
                format_args!(
                    "field `{member}` is stored under key {:?}, which `#[serde(tag)]` also writes",
                    ser.value
                ),
            ));
            cx.error_spanned_by(tag, "the tag is given here");
            continue;
        }
        let mut aliases = Vec::new();
        for alias in &field.aliases {
            let value = alias.value();
            if value == VERSION_KEY {
                cx.error_spanned_by(
                    alias,
                    format_args!(
                        "field `{member}` can't be read from {VERSION_KEY:?}: jobsess keeps the \
                         version of a job there, so `load` would read the version as this field"
                    ),
                );
                continue;
            }
            if value == ser.value || aliases.contains(&value) {
                // serde reads it the same way either way: nothing to keep apart
                continue;
            }
            if let Some(first) = by_key.get(value.as_str()) {
                let what = format!("read from key {value:?}");
                collision(cx, alias.span(), first, member, &what);
                continue;
            }
            aliases.push(value);
        }
        if ser.value == VERSION_KEY {
            cx.syn_error(syn::Error::new(
                ser.span,
                format_args!(
                    "field `{member}` can't be stored under {VERSION_KEY:?}: jobsess keeps the \
                     version of a job there"
                ),
            ));
            continue;
        }
        let const_name = member.unraw().to_string().to_uppercase();
        if const_name == VERSION_CONST {
            cx.syn_error(syn::Error::new(
                member.span(),
                format_args!(
                    "field `{member}` would get the key const `{VERSION_CONST}`, a name the \
                     `JobMetadata` trait keeps; rename the field and keep its key with \
                     `#[serde(rename = \"{}\")]`",
                    ser.value
                ),
            ));
            continue;
        }
        if let Some(first) = by_const.get(&const_name) {
            let what = format!("given the key const `{const_name}`");
            collision(cx, member.span(), first, member, &what);
            continue;
        }
        by_key.insert(ser.value.clone(), member);
        for alias in &aliases {
            by_key.insert(alias.clone(), member);
        }
        by_const.insert(const_name.clone(), member);
        out.push(Accessor {
            member,
            // located at the field, so a clash with another item of the
            // same name is reported there, with the derive's own hygiene
            // (`call_site`), so lints still see generated code
            const_ident: Ident::new(&const_name, Span::call_site().located_at(member.span())),
            key: ser.value.clone(),
            aliases,
            ty: &field.original.ty,
            vis: &field.original.vis,
            default: match (&field.default, &cont.default) {
                (SerdeDefault::Default, _) => Default::Field,
                (SerdeDefault::Path(path), _) => Default::FieldPath(path),
                (SerdeDefault::None, SerdeDefault::Default) => Default::Container,
                (SerdeDefault::None, SerdeDefault::Path(path)) => Default::ContainerPath(path),
                (SerdeDefault::None, SerdeDefault::None) => Default::None,
            },
            serialize_with: field.serialize_with.as_ref(),
            deserialize_with: field.deserialize_with.as_ref(),
            skip_serializing_if: field.skip_serializing_if.as_ref(),
            generic: mentions_any(&field.original.ty, &type_params),
        });
    }
    out
}

/// Whether `ty` names any of `params` (by a token scan, as a path segment,
/// `T`, `Vec<T>`, `T::Item`...).
fn mentions_any(ty: &Type, params: &[&Ident]) -> bool {
    fn scan(tokens: proc_macro2::TokenStream, params: &[&Ident]) -> bool {
        tokens.into_iter().any(|tree| match tree {
            proc_macro2::TokenTree::Ident(ident) => params.iter().any(|p| **p == ident),
            proc_macro2::TokenTree::Group(group) => scan(group.stream(), params),
            _ => false,
        })
    }
    !params.is_empty() && scan(quote::ToTokens::to_token_stream(ty), params)
}

/// Reports two fields that would share `what`: at the second, pointing back.
fn collision(cx: &mut Ctxt, span: Span, first: &Ident, second: &Ident, what: &str) {
    cx.syn_error(syn::Error::new(
        span,
        format_args!("field `{second}` would be {what}, like field `{first}`"),
    ));
    cx.error_spanned_by(first, format_args!("field `{first}` is {what} here"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_str(src: &str) -> (Vec<String>, Option<String>) {
        let input: syn::DeriveInput = syn::parse_str(src).expect("parses");
        let mut cx = Ctxt::default();
        let cont = Container::from_ast(&mut cx, &input);
        let model = check(&mut cx, &cont);
        let keys = model
            .fields
            .map(|f| {
                f.iter()
                    .map(|a| format!("{}={}", a.const_ident, a.key))
                    .collect()
            })
            .unwrap_or_default();
        (keys, cx.into_error().map(|e| e.to_string()))
    }

    #[test]
    fn keys_follow_serde_names() {
        let (keys, err) = check_str(
            r#"#[serde(rename_all = "camelCase")] struct J { file_name: u8, #[serde(rename = "P")] plugin: u8, #[serde(skip)] s: u8, r#type: u8 }"#,
        );
        assert_eq!(err, None);
        assert_eq!(keys, ["FILE_NAME=fileName", "PLUGIN=P", "TYPE=type"]);
    }

    #[test]
    fn prefix_rules_match_the_runtime() {
        for (prefix, ok) in [
            ("job", true),
            ("a-b-9", true),
            ("a_b", false),
            ("", false),
            ("é", false),
        ] {
            let (_, err) = check_str(&format!(
                "#[job_metadata(prefix = {prefix:?})] struct J {{ a: u8 }}"
            ));
            assert_eq!(err.is_none(), ok, "{prefix:?}: {err:?}");
        }
    }

    #[test]
    fn collisions_keep_the_first_field() {
        let (keys, err) = check_str(r#"struct J { a: u8, #[serde(rename = "a")] b: u8 }"#);
        assert_eq!(keys, ["A=a"]);
        assert!(err.unwrap().contains("would be stored under key \"a\""));
    }

    #[test]
    fn serde_mistakes_are_left_to_serde() {
        // an unknown rename rule: serde's derive reports it; the key stays the field name
        let (keys, err) = check_str(r#"#[serde(rename_all = "Nope")] struct J { file_name: u8 }"#);
        assert_eq!((keys, err), (vec!["FILE_NAME=file_name".to_owned()], None));
    }
}
