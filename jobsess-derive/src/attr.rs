//! Stage 1: reads the input and its attributes, ours and serde's, into a
//! model. Nothing here is quoted.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Token};

use crate::case::RenameRule;
use crate::ctxt::Ctxt;

/// The name of our attribute.
pub const ATTR: &str = "job_metadata";

/// The keys `#[job_metadata(...)]` takes on a container.
const CONTAINER_KEYS: &[&str] = &["prefix", "crate", "version", "migrate_from", "status"];

/// The derive input, as far as it could be read.
pub struct Container<'a> {
    pub input: &'a DeriveInput,
    /// `#[job_metadata(prefix = "...")]`
    pub prefix: Option<LitStr>,
    /// `#[job_metadata(crate = "...")]`
    pub krate: Option<syn::Path>,
    /// `#[job_metadata(version = N)]`, checked to be 1 or more.
    pub version: Option<syn::LitInt>,
    /// `#[job_metadata(migrate_from = Type)]`
    pub migrate_from: Option<syn::Path>,
    /// `#[job_metadata(status = field)]`: the field that says when a job ended.
    pub status: Option<Ident>,
    /// `#[serde(deny_unknown_fields)]`
    pub deny_unknown_fields: Option<Ident>,
    /// `#[serde(default)]` or `#[serde(default = "path")]` on the struct.
    pub default: SerdeDefault,
    /// serde container keys that change the stored shape (`transparent`...).
    pub reshaping: Vec<Ident>,
    /// `#[serde(tag = "...")]`: serde writes this extra key into the object.
    pub tag: Option<LitStr>,
    /// The named fields as serde sees them; `None` for any other input.
    pub fields: Option<Vec<Field<'a>>>,
}

/// One named field, with what its serde attributes say.
pub struct Field<'a> {
    pub original: &'a syn::Field,
    pub ident: &'a Ident,
    /// The key serde writes it under.
    pub ser_name: Name,
    /// The key serde reads it from.
    pub de_name: Name,
    pub skip_serializing: bool,
    pub skip_deserializing: bool,
    /// Where `#[serde(flatten)]` was written, if it was.
    pub flatten: Option<Span>,
    pub default: SerdeDefault,
    /// `#[serde(alias = "...")]`, each one, in order.
    pub aliases: Vec<LitStr>,
    /// The function that writes the field: `serialize_with`, or `with`'s
    /// `serialize`.
    pub serialize_with: Option<syn::ExprPath>,
    /// The function that reads the field: `deserialize_with`, or `with`'s
    /// `deserialize`.
    pub deserialize_with: Option<syn::ExprPath>,
    /// `#[serde(skip_serializing_if = "path")]`
    pub skip_serializing_if: Option<syn::ExprPath>,
}

/// A stored key and the token it came from.
pub struct Name {
    pub value: String,
    pub span: Span,
}

/// What serde uses for an absent field.
pub enum SerdeDefault {
    None,
    /// `#[serde(default)]`
    Default,
    /// `#[serde(default = "path")]`
    Path(syn::ExprPath),
}

impl<'a> Container<'a> {
    pub fn from_ast(cx: &mut Ctxt, input: &'a DeriveInput) -> Self {
        let mut prefix = None;
        let mut krate = None;
        let mut version = None;
        let mut migrate_from = None;
        let mut status = None;
        for attr in input.attrs.iter().filter(|a| a.path().is_ident(ATTR)) {
            let parsed = attr.parse_nested_meta(|meta| {
                // #[job_metadata(prefix = "transcription")]
                if meta.path.is_ident("prefix") {
                    if let Some(lit) = string_value(cx, &meta, "prefix")? {
                        set_once(cx, &mut prefix, &meta, lit);
                    }
                // #[job_metadata(crate = "path::to::jobsess")]
                } else if meta.path.is_ident("crate") {
                    if let Some(lit) = string_value(cx, &meta, "crate")? {
                        match lit.parse::<syn::Path>() {
                            Ok(path) => set_once(cx, &mut krate, &meta, path),
                            Err(_) => cx.error_spanned_by(
                                &lit,
                                "`crate` takes the path of the jobsess crate, like `crate = \"::jobsess\"`",
                            ),
                        }
                    }
                // #[job_metadata(version = 2)]
                } else if meta.path.is_ident("version") {
                    let value = meta.value()?;
                    if value.peek(Token![-]) && value.peek2(syn::LitInt) {
                        // `version = -1`: the error spans the sign and the number
                        let minus: Token![-] = value.parse()?;
                        let lit: syn::LitInt = value.parse()?;
                        cx.error_spanned_by(
                            quote::quote!(#minus #lit),
                            "`version` takes a whole number from 1 up, like `version = 2`",
                        );
                    } else if value.peek(syn::LitInt) {
                        let lit: syn::LitInt = value.parse()?;
                        match lit.base10_parse::<u32>() {
                            Ok(v) if v >= 1 && lit.suffix().is_empty() => {
                                set_once(cx, &mut version, &meta, lit);
                            }
                            _ => cx.error_spanned_by(
                                &lit,
                                "`version` takes a whole number from 1 up, like `version = 2`",
                            ),
                        }
                    } else {
                        let rest = rest_of_value(value)?;
                        cx.error_spanned_by(
                            &rest,
                            "`version` takes a whole number from 1 up, like `version = 2`",
                        );
                    }
                // #[job_metadata(migrate_from = TranscriptionJobV1)]
                } else if meta.path.is_ident("migrate_from") {
                    let value = meta.value()?;
                    match value.parse::<syn::Path>() {
                        Ok(path) => set_once(cx, &mut migrate_from, &meta, path),
                        Err(_) => {
                            let rest = rest_of_value(value)?;
                            cx.error_spanned_by(
                                &rest,
                                "`migrate_from` takes the type of the previous version, like \
                                 `migrate_from = TranscriptionJobV1`",
                            );
                        }
                    }
                // #[job_metadata(status = status)]
                } else if meta.path.is_ident("status") {
                    let value = meta.value()?;
                    match value.call(Ident::parse_any) {
                        Ok(field) => set_once(cx, &mut status, &meta, field),
                        Err(_) => {
                            let rest = rest_of_value(value)?;
                            cx.error_spanned_by(
                                &rest,
                                "`status` takes the name of a field, like `status = status`",
                            );
                        }
                    }
                } else {
                    cx.error_spanned_by(&meta.path, unknown_key(&meta.path));
                    skip_value(meta.input)?;
                }
                Ok(())
            });
            if let Err(err) = parsed {
                cx.syn_error(err);
            }
        }

        let container = SerdeContainer::from_attrs(&input.attrs);
        let fields = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => {
                    for field in &named.named {
                        for attr in field.attrs.iter().filter(|a| a.path().is_ident(ATTR)) {
                            cx.error_spanned_by(
                                attr,
                                "`#[job_metadata(...)]` goes on the struct, not on a field; \
                                 fields take serde's attributes (`#[serde(rename = \"...\")]`...)",
                            );
                        }
                    }
                    Some(
                        named
                            .named
                            .iter()
                            .filter_map(|f| Field::from_ast(f, &container))
                            .collect(),
                    )
                }
                Fields::Unnamed(fields) => {
                    cx.error_spanned_by(
                        fields,
                        "JobMetadata needs a struct with named fields: each field is stored under its name",
                    );
                    None
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "JobMetadata needs a struct with named fields, not a unit struct",
                    );
                    None
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "JobMetadata can't be derived for an enum: job metadata is a struct with named fields",
                );
                None
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "JobMetadata can't be derived for a union: job metadata is a struct with named fields",
                );
                None
            }
        };

        Container {
            input,
            prefix,
            krate,
            version,
            migrate_from,
            status,
            deny_unknown_fields: container.deny_unknown_fields,
            default: container.default,
            reshaping: container.reshaping,
            tag: container.tag,
            fields,
        }
    }
}

/// What the struct's `#[serde(...)]` attributes say about its fields.
///
/// Only the keys that decide stored names, skips and defaults are read.
/// Mistakes in serde attributes are left to serde's own derive, which
/// reports them; reporting them here too would show each one twice.
struct SerdeContainer {
    rename_all: (Option<RenameRule>, Option<RenameRule>),
    default: SerdeDefault,
    reshaping: Vec<Ident>,
    tag: Option<LitStr>,
    deny_unknown_fields: Option<Ident>,
}

/// Container keys with which serde no longer writes the struct as an object
/// of its fields.
const RESHAPING: &[&str] = &["transparent", "into", "from", "try_from", "remote"];

impl SerdeContainer {
    fn from_attrs(attrs: &[syn::Attribute]) -> Self {
        let mut cont = SerdeContainer {
            rename_all: (None, None),
            default: SerdeDefault::None,
            reshaping: Vec::new(),
            tag: None,
            deny_unknown_fields: None,
        };
        for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
            let _serde_reports_errors = attr.parse_nested_meta(|meta| {
                // the key as text once: comparing an ident with a `&str`
                // makes its text each time
                match key_of(&meta).as_str() {
                    "rename_all" => {
                        // rename_all = "..." | rename_all(serialize = "...", deserialize = "...")
                        // serde merges the two sides across attributes.
                        let (ser, de) = ser_de_strings(&meta)?;
                        let rule =
                            |s: Option<LitStr>| s.and_then(|s| RenameRule::from_name(&s.value()));
                        cont.rename_all = (
                            rule(ser).or(cont.rename_all.0),
                            rule(de).or(cont.rename_all.1),
                        );
                    }
                    // tag = "..."
                    "tag" => cont.tag = Some(meta.value()?.parse()?),
                    // default | default = "path"
                    "default" => cont.default = default_value(&meta)?,
                    "deny_unknown_fields" => {
                        cont.deny_unknown_fields = meta.path.get_ident().cloned();
                    }
                    key => {
                        // transparent | into = "..." | from = "..." | try_from = "..." | remote = "..."
                        if RESHAPING.contains(&key)
                            && let Some(ident) = meta.path.get_ident()
                        {
                            cont.reshaping.push(ident.clone());
                        }
                        skip_value(meta.input)?;
                    }
                }
                Ok(())
            });
        }
        cont
    }
}

impl<'a> Field<'a> {
    fn from_ast(field: &'a syn::Field, cont: &SerdeContainer) -> Option<Self> {
        let ident = field.ident.as_ref()?;
        let name = ident.unraw().to_string();
        let mut rename = (None, None);
        let mut out = Field {
            original: field,
            ident,
            ser_name: Name {
                value: String::new(),
                span: ident.span(),
            },
            de_name: Name {
                value: String::new(),
                span: ident.span(),
            },
            skip_serializing: false,
            skip_deserializing: false,
            flatten: None,
            default: SerdeDefault::None,
            aliases: Vec::new(),
            serialize_with: None,
            deserialize_with: None,
            skip_serializing_if: None,
        };
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
            let _serde_reports_errors = attr.parse_nested_meta(|meta| {
                match key_of(&meta).as_str() {
                    "rename" => {
                        // rename = "..." | rename(serialize = "...", deserialize = "...")
                        let (ser, de) = ser_de_strings(&meta)?;
                        rename = (ser.or(rename.0.take()), de.or(rename.1.take()));
                    }
                    "skip" => {
                        out.skip_serializing = true;
                        out.skip_deserializing = true;
                    }
                    "skip_serializing" => out.skip_serializing = true,
                    "skip_deserializing" => out.skip_deserializing = true,
                    "flatten" => out.flatten = meta.path.get_ident().map(Ident::span),
                    "default" => out.default = default_value(&meta)?,
                    // alias = "..."
                    "alias" => out.aliases.push(meta.value()?.parse()?),
                    "with" => {
                        // with = "module": module::serialize and module::deserialize
                        let lit: LitStr = meta.value()?.parse()?;
                        let module: syn::ExprPath = lit.parse()?;
                        let function = |name: &str| {
                            let mut path = module.clone();
                            path.path.segments.push(Ident::new(name, lit.span()).into());
                            path
                        };
                        out.serialize_with = Some(function("serialize"));
                        out.deserialize_with = Some(function("deserialize"));
                    }
                    // serialize_with = "path"
                    "serialize_with" => {
                        out.serialize_with = Some(meta.value()?.parse::<LitStr>()?.parse()?);
                    }
                    // deserialize_with = "path"
                    "deserialize_with" => {
                        out.deserialize_with = Some(meta.value()?.parse::<LitStr>()?.parse()?);
                    }
                    // skip_serializing_if = "path"
                    "skip_serializing_if" => {
                        out.skip_serializing_if = Some(meta.value()?.parse::<LitStr>()?.parse()?);
                    }
                    _ => skip_value(meta.input)?,
                }
                Ok(())
            });
        }
        let named = |lit: Option<LitStr>, rule: Option<RenameRule>| match lit {
            Some(lit) => Name {
                value: lit.value(),
                span: lit.span(),
            },
            None => Name {
                value: rule.map_or_else(|| name.clone(), |r| r.apply_to_field(&name)),
                span: ident.span(),
            },
        };
        out.ser_name = named(rename.0, cont.rename_all.0);
        out.de_name = named(rename.1, cont.rename_all.1);
        Some(out)
    }
}

/// The key of a nested meta item as text (empty for a path that is not
/// one identifier, which matches no key).
fn key_of(meta: &ParseNestedMeta) -> String {
    meta.path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// `key = "both"` or `key(serialize = "a", deserialize = "b")`.
fn ser_de_strings(meta: &ParseNestedMeta) -> syn::Result<(Option<LitStr>, Option<LitStr>)> {
    if meta.input.peek(Token![=]) {
        let lit: LitStr = meta.value()?.parse()?;
        return Ok((Some(lit.clone()), Some(lit)));
    }
    let (mut ser, mut de) = (None, None);
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("serialize") {
            ser = Some(inner.value()?.parse()?);
        } else if inner.path.is_ident("deserialize") {
            de = Some(inner.value()?.parse()?);
        } else {
            skip_value(inner.input)?;
        }
        Ok(())
    })?;
    Ok((ser, de))
}

/// `default` or `default = "path"`.
fn default_value(meta: &ParseNestedMeta) -> syn::Result<SerdeDefault> {
    if meta.input.peek(Token![=]) {
        let lit: LitStr = meta.value()?.parse()?;
        Ok(SerdeDefault::Path(lit.parse()?))
    } else {
        Ok(SerdeDefault::Default)
    }
}

/// The string after `key =`; a non-string value is reported and skipped.
fn string_value(cx: &mut Ctxt, meta: &ParseNestedMeta, key: &str) -> syn::Result<Option<LitStr>> {
    let value = meta.value()?;
    if value.peek(LitStr) {
        return value.parse().map(Some);
    }
    let rest = rest_of_value(value)?;
    cx.error_spanned_by(
        &rest,
        format_args!("`{key}` takes a string literal, like `{key} = \"...\"`"),
    );
    Ok(None)
}

/// Stores the value of a key, or reports the key as given twice: at the
/// second one, with a pointer back at the first.
fn set_once<T>(cx: &mut Ctxt, slot: &mut Option<T>, meta: &ParseNestedMeta, value: T)
where
    T: quote::ToTokens,
{
    let key = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    if let Some(first) = slot {
        cx.error_spanned_by(
            &meta.path,
            format_args!("duplicate `{key}` in #[job_metadata]"),
        );
        cx.error_spanned_by(first, format_args!("`{key}` first given here"));
    } else {
        *slot = Some(value);
    }
}

/// The message for a key we don't know, with the keys we do.
fn unknown_key(path: &syn::Path) -> String {
    let given = quote::quote!(#path).to_string().replace(' ', "");
    let known = CONTAINER_KEYS
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut msg = format!("unknown #[job_metadata] key `{given}`; the keys are: {known}");
    if let Some(close) = CONTAINER_KEYS
        .iter()
        .find(|k| edit_distance(k, &given) <= 2)
    {
        msg.push_str(&format!(" (did you mean `{close}`?)"));
    }
    msg
}

/// Consumes `= value` (if any) after an unknown key, so the keys after it are
/// still read and their mistakes reported in the same pass.
fn skip_value(input: ParseStream) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        rest_of_value(input)?;
    } else if input.peek(syn::token::Paren) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

/// The tokens of a value, up to the next `,`.
fn rest_of_value(input: ParseStream) -> syn::Result<TokenStream> {
    let mut tokens = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        tokens.extend([input.parse::<TokenTree>()?]);
    }
    Ok(tokens)
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("prefix", "prefix"), 0);
        assert_eq!(edit_distance("prefx", "prefix"), 1);
        assert_eq!(edit_distance("crate", "krate"), 1);
        assert_eq!(edit_distance("name", "prefix"), 6);
    }
}
