//! Stage 1: reads the input and its attributes, ours and serde's, into a
//! model. Nothing here is quoted.

use proc_macro2::{Span, TokenStream, TokenTree};
use serde_derive_internals::{Ctxt as SerdeCtxt, Derive, ast};
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Token};

use crate::ctxt::Ctxt;

/// The name of our attribute.
pub const ATTR: &str = "job_metadata";

/// The keys `#[job_metadata(...)]` takes on a container.
const CONTAINER_KEYS: &[&str] = &["prefix", "crate"];

/// The derive input, as far as it could be read.
pub struct Container<'a> {
    pub input: &'a DeriveInput,
    /// `#[job_metadata(prefix = "...")]`
    pub prefix: Option<LitStr>,
    /// `#[job_metadata(crate = "...")]`
    pub krate: Option<syn::Path>,
    /// serde's own model of the struct; `None` unless it has named fields.
    pub serde: Option<ast::Container<'a>>,
}

impl<'a> Container<'a> {
    pub fn from_ast(cx: &mut Ctxt, input: &'a DeriveInput) -> Self {
        let mut prefix = None;
        let mut krate = None;
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

        let serde = match &input.data {
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
                    serde_model(input)
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
            serde,
        }
    }
}

/// serde's model of the struct: its names after `rename`/`rename_all`, its
/// skips and defaults. serde's own errors are left to serde's derive, which
/// reports them; reporting them here too would show each one twice.
fn serde_model(input: &DeriveInput) -> Option<ast::Container<'_>> {
    let serde_cx = SerdeCtxt::new();
    let private = Ident::new("__private", Span::call_site());
    let model = ast::Container::from_ast(&serde_cx, input, Derive::Deserialize, &private);
    let _serde_reports_these = serde_cx.check();
    model
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

/// Where a serde attribute of `field` says `word` (`flatten`...), for errors.
pub fn serde_word_span(field: &syn::Field, word: &str) -> Option<Span> {
    fn find(tokens: TokenStream, word: &str) -> Option<Span> {
        tokens.into_iter().find_map(|tt| match tt {
            TokenTree::Ident(ident) if ident == word => Some(ident.span()),
            TokenTree::Group(group) => find(group.stream(), word),
            _ => None,
        })
    }
    field
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .find_map(|a| match &a.meta {
            syn::Meta::List(list) => find(list.tokens.clone(), word),
            _ => None,
        })
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
