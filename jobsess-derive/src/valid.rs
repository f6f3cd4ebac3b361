//! Stage 2: checks the rules that span the whole input and turns the model
//! of stage 1 into the checked model that stage 3 quotes. What breaks a rule
//! is reported and left out, so the output still compiles as far as it can.

use std::collections::BTreeMap;

use proc_macro2::Span;
use serde_derive_internals::{ast, attr as serde_attr};
use syn::ext::IdentExt;
use syn::{Ident, Type, Visibility};

use crate::attr::{Container, serde_word_span};
use crate::ctxt::Ctxt;

/// The prefix used when `#[job_metadata(prefix)]` is not given.
const DEFAULT_PREFIX: &str = "job";

/// The checked input of the expansion.
pub struct Model<'a> {
    pub ident: &'a Ident,
    pub generics: &'a syn::Generics,
    pub krate: syn::Path,
    pub prefix: String,
    /// `None` for an input that isn't a struct with named fields: only the
    /// errors are emitted then.
    pub fields: Option<Vec<Accessor<'a>>>,
}

/// One stored field, which gets a typed key const.
pub struct Accessor<'a> {
    pub member: &'a Ident,
    pub const_ident: Ident,
    pub key: String,
    pub ty: &'a Type,
    pub vis: &'a Visibility,
    pub default: Default<'a>,
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

    let krate = cont
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::jobsess));

    let fields = cont.serde.as_ref().map(|serde| accessors(cx, serde));

    Model {
        ident: &cont.input.ident,
        generics: &cont.input.generics,
        krate,
        prefix,
        fields,
    }
}

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

fn accessors<'a>(cx: &mut Ctxt, serde: &'a ast::Container<'a>) -> Vec<Accessor<'a>> {
    let ast::Data::Struct(_, fields) = &serde.data else {
        return Vec::new();
    };
    let mut by_key: BTreeMap<String, &Ident> = BTreeMap::new();
    let mut by_const: BTreeMap<String, &Ident> = BTreeMap::new();
    let mut out = Vec::new();
    for field in fields {
        let Some(member) = field.original.ident.as_ref() else {
            continue;
        };
        let attrs = &field.attrs;
        if attrs.flatten() {
            let span = serde_word_span(field.original, "flatten").unwrap_or_else(|| member.span());
            cx.syn_error(syn::Error::new(
                span,
                "JobMetadata does not support `#[serde(flatten)]`: the flattened fields would have \
                 no typed keys; nest the struct as a field instead",
            ));
            continue;
        }
        if attrs.skip_serializing() || attrs.skip_deserializing() {
            // Never written or never read: no stored value to give a key to.
            continue;
        }
        let ser = attrs.name().serialize_name();
        let de = attrs.name().deserialize_name();
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
        if let Some(first) = by_key.get(&ser.value) {
            let what = format!("stored under key {:?}", ser.value);
            collision(cx, ser.span, first, member, &what);
            continue;
        }
        let const_name = member.unraw().to_string().to_uppercase();
        if let Some(first) = by_const.get(&const_name) {
            let what = format!("given the key const `{const_name}`");
            collision(cx, member.span(), first, member, &what);
            continue;
        }
        by_key.insert(ser.value.clone(), member);
        by_const.insert(const_name.clone(), member);
        out.push(Accessor {
            member,
            const_ident: Ident::new(&const_name, member.span()),
            key: ser.value.clone(),
            ty: field.ty,
            vis: &field.original.vis,
            default: match (attrs.default(), serde.attrs.default()) {
                (serde_attr::Default::Default, _) => Default::Field,
                (serde_attr::Default::Path(path), _) => Default::FieldPath(path),
                (serde_attr::Default::None, serde_attr::Default::Default) => Default::Container,
                (serde_attr::Default::None, serde_attr::Default::Path(path)) => {
                    Default::ContainerPath(path)
                }
                (serde_attr::Default::None, serde_attr::Default::None) => Default::None,
            },
        });
    }
    out
}

/// Reports two fields that would share `what`: at the second, pointing back.
fn collision(cx: &mut Ctxt, span: Span, first: &Ident, second: &Ident, what: &str) {
    cx.syn_error(syn::Error::new(
        span,
        format_args!("field `{second}` would be {what}, like field `{first}`"),
    ));
    cx.error_spanned_by(first, format_args!("field `{first}` is {what} here"));
}
