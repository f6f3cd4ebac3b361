//! Stage 3: quotes the checked model. Generated code names the runtime by
//! absolute paths only, is `#[automatically_derived]` and names nothing the
//! user could shadow. It is not wrapped in `const _: () = { ... };`: the
//! output is two impls that need no private imports, and the wrapper cost 4 %
//! of the build time of a crate of 200 derived structs
//! (`benches/compile_time.sh`, BENCHMARKS.md).
//!
//! Tokens are made one by one, each once, with the span an error should
//! point at ([`Out`]); no stream is re-spanned or copied afterwards. On an
//! unchanged crate, rebuilding runs the derive again while everything else
//! comes from the incremental cache, so the derive's own run is most of what
//! a rebuild pays over hand-written code: this way it is 29 % fewer
//! instructions than quoting and re-spanning (BENCHMARKS.md). Only the
//! schema, a long run with no span of its own, is parsed from text: a parse
//! is one call, but a costly one.

use std::fmt::Write as _;

use proc_macro2::{Delimiter, Group, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned;

use crate::attr::Container;
use crate::ctxt::Ctxt;
use crate::valid::{self, Accessor, Default, Model};

pub fn derive(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let cont = Container::from_ast(&mut cx, input);
    let model = valid::check(&mut cx, &cont);
    let mut tokens = cx
        .into_error()
        .map(|err| err.to_compile_error())
        .unwrap_or_default();
    // Even with errors, what could be checked is emitted, so the user sees the
    // errors above and not a cascade of "no `JobMetadata` for ..." after them.
    tokens.extend(expand(&model));
    tokens
}

/// Output under construction, token by token: each generated token is made
/// once, with the span errors should point at, and pushed; nothing is
/// re-spanned or copied afterwards. A long run of generated tokens with no
/// span of its own can go in as text, parsed in one call.
struct Out {
    tokens: TokenStream,
}

impl Out {
    fn new() -> Self {
        Out {
            tokens: TokenStream::new(),
        }
    }

    /// A long run of generated tokens, as source text.
    fn text(&mut self, text: &str) -> &mut Self {
        self.tokens.extend(parse(text));
        self
    }

    /// Tokens that keep their spans: the user's, or quoted ones.
    fn tokens(&mut self, tokens: &impl ToTokens) -> &mut Self {
        tokens.to_tokens(&mut self.tokens);
        self
    }

    fn tree(&mut self, tree: impl Into<TokenTree>) -> &mut Self {
        self.tokens.extend(std::iter::once(tree.into()));
        self
    }

    fn ident(&mut self, name: &str, at: Span) -> &mut Self {
        self.tree(proc_macro2::Ident::new(name, at))
    }

    fn punct(&mut self, ch: char, at: Span) -> &mut Self {
        let mut punct = Punct::new(ch, Spacing::Alone);
        punct.set_span(at);
        self.tree(punct)
    }

    /// `::`
    fn colons(&mut self, at: Span) -> &mut Self {
        let mut first = Punct::new(':', Spacing::Joint);
        first.set_span(at);
        self.tree(first).punct(':', at)
    }

    /// `{krate}::{names}...`
    fn path(&mut self, krate: &syn::Path, names: &[&str], at: Span) -> &mut Self {
        if krate.leading_colon.is_some() {
            self.colons(at);
        }
        for (i, segment) in krate.segments.iter().enumerate() {
            if i > 0 {
                self.colons(at);
            }
            let mut ident = segment.ident.clone();
            ident.set_span(at);
            self.tree(ident);
        }
        for name in names {
            self.colons(at).ident(name, at);
        }
        self
    }

    fn string(&mut self, value: &str, at: Span) -> &mut Self {
        let mut literal = proc_macro2::Literal::string(value);
        literal.set_span(at);
        self.tree(literal)
    }

    fn group(&mut self, delimiter: Delimiter, at: Span, inner: Out) -> &mut Self {
        let mut group = Group::new(delimiter, inner.tokens);
        group.set_span(at);
        self.tree(group)
    }

    fn finish(self) -> TokenStream {
        self.tokens
    }
}

/// Generated source text as tokens (spanned at the call site, as `quote!`
/// spans them). In the compiler this goes straight to its lexer: proc_macro2's
/// `FromStr` lexes the text once more first, to validate it.
fn parse(text: &str) -> TokenStream {
    let parsed = if proc_macro::is_available() {
        text.parse::<proc_macro::TokenStream>()
            .map(TokenStream::from)
            .map_err(|err| err.to_string())
    } else {
        text.parse::<TokenStream>().map_err(|err| err.to_string())
    };
    parsed.unwrap_or_else(|err| {
        let message = format!("jobsess-derive generated tokens that don't lex ({err}): {text}");
        quote!(::core::compile_error!(#message);)
    })
}

fn expand(model: &Model) -> TokenStream {
    let Some(fields) = &model.fields else {
        return TokenStream::new();
    };
    let Model {
        ident,
        generics,
        krate,
        prefix,
        version,
        migrate_from,
        status,
        ..
    } = model;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let krate_text = krate.to_token_stream().to_string();

    // Generic structs: serde's impls carry their own bounds, so the trait
    // asks for exactly what it needs, on the type itself; the field consts
    // ask, on the field types that mention a type parameter, for what each
    // one's codec and default use, as serde's derive does for its impls.
    let mut trait_where = where_clause.cloned();
    let mut consts_where = where_clause.cloned();
    if generics.type_params().next().is_some() {
        let serde = quote!(#krate::__private::serde);
        trait_where
            .get_or_insert_with(|| syn::parse_quote!(where))
            .predicates
            .push(syn::parse_quote_spanned! {ident.span()=>
                #ident #ty_generics: #serde::Serialize + #serde::de::DeserializeOwned
            });
        let bounds = fields.iter().flat_map(|f| field_bounds(&serde, f)).chain(
            fields
                .iter()
                .any(|f| matches!(f.default, Default::Container))
                .then(|| quote_spanned!(ident.span()=> Self: ::core::default::Default)),
        );
        let clause = consts_where.get_or_insert_with(|| syn::parse_quote!(where));
        for bound in bounds {
            clause.predicates.push(syn::parse_quote!(#bound));
        }
    }
    // spanned at the struct's name: "`Job` does not implement Serialize" points there
    let trait_path = quote_spanned!(ident.span()=> #krate::JobMetadata);
    let (schema_version, version_items, version_check) = versions(krate, *version, *migrate_from);

    // One run of text: nothing in it is what an error points at.
    let mut text = format!(
        "fn schema() -> &'static {krate_text}::Schema {{ \
         const SCHEMA: {krate_text}::Schema = {krate_text}::__private::schema( \
         {prefix:?}, {:?}, &[",
        ident.to_string()
    );
    for field in fields {
        let _ = write!(text, "{:?}, ", field.key);
    }
    let _ = match schema_version {
        Some(version) => write!(
            text,
            "], ::core::option::Option::Some({version})); &SCHEMA }}"
        ),
        None => write!(text, "], ::core::option::Option::None); &SCHEMA }}"),
    };
    let mut schema = Out::new();
    schema.text(&text).tokens(&version_items);
    let status_impl = status.map(|(index, name)| {
        let field = &fields[index];
        let (ty, const_ident) = (field.ty, &field.const_ident);
        // spanned at the name in `status = name`: an unmet `JobStatus`
        // bound on the field's type points there
        schema.tokens(&quote_spanned! {name.span()=>
            fn __end(
                key: &str,
                job: &#krate::__private::serde_json::Value,
            ) -> ::core::option::Option<#krate::__private::End> {
                #krate::__private::status_end::<Self>(key, job)
            }
        });
        quote_spanned! {name.span()=>
            #[automatically_derived]
            impl #krate::HasStatus for #ident {
                type Status = #ty;
                const STATUS: #krate::Field<Self, #ty> = Self::#const_ident;
            }
        }
    });

    let mut consts = Out::new();
    for field in fields {
        field_const(&mut consts, krate, field);
    }

    let site = Span::call_site();
    let generic = !generics.params.is_empty() || where_clause.is_some();
    let mut out = Out::new();
    for (trait_impl, body) in [(true, schema), (false, consts)] {
        // #[automatically_derived]
        let mut attr = Out::new();
        attr.ident("automatically_derived", site);
        out.punct('#', site)
            .group(Delimiter::Bracket, site, attr)
            .ident("impl", site);
        if generic {
            out.tokens(&impl_generics);
        }
        if trait_impl {
            out.tokens(&trait_path).ident("for", site);
        }
        out.tokens(*ident);
        if generic {
            out.tokens(&ty_generics);
            out.tokens(if trait_impl {
                &trait_where
            } else {
                &consts_where
            });
        }
        out.group(Delimiter::Brace, site, body);
        if trait_impl {
            out.tokens(&version_check);
        }
    }
    if let Some(status_impl) = status_impl {
        out.tokens(&status_impl);
    }
    out.finish()
}

/// What `version` and `migrate_from` add: the schema's version, the trait
/// items, and the check that the previous type's version is lower. The
/// check is a const assertion, so a wrong version fails the build, spanned
/// at `migrate_from`'s path; so does a previous type with no migration.
fn versions<'v>(
    krate: &syn::Path,
    version: Option<&'v syn::LitInt>,
    migrate_from: Option<&syn::Path>,
) -> (Option<&'v syn::LitInt>, TokenStream, TokenStream) {
    let Some(version) = version else {
        return (None, TokenStream::new(), TokenStream::new());
    };
    let mut items = quote!(const __JOBSESS_VERSION: u32 = #version;);
    let mut check = TokenStream::new();
    if let Some(prev) = migrate_from {
        let span = prev.span();
        items.extend(quote_spanned! {span=>
            fn __migrate(
                found: u32,
                key: &str,
                job: &#krate::__private::serde_json::Value,
            ) -> #krate::Result<Self> {
                #krate::__private::migrate::<Self, #prev>(found, key, job)
            }
        });
        let message = format!(
            "`migrate_from = {}` must name a type whose version is below {}",
            quote!(#prev).to_string().replace(' ', ""),
            version
        );
        check = quote_spanned! {span=>
            const _: () = ::core::assert!(
                <#prev as #krate::JobMetadata>::__JOBSESS_VERSION < #version,
                #message
            );
        };
    }
    (Some(version), items, check)
}

/// The bounds the const of a field whose type mentions a type parameter
/// needs: its type's own serde impls where no `with` replaces them, and
/// `Default` for `#[serde(default)]`. Spanned at the field's type, so an
/// unmet bound points there.
fn field_bounds(serde: &TokenStream, field: &Accessor) -> Vec<TokenStream> {
    if !field.generic {
        return Vec::new();
    }
    let ty = field.ty;
    let mut bounds = Vec::new();
    if field.serialize_with.is_none() {
        bounds.push(quote_spanned!(ty.span()=> #ty: #serde::Serialize));
    }
    if field.deserialize_with.is_none() {
        bounds.push(quote_spanned!(ty.span()=> #ty: #serde::de::DeserializeOwned));
    }
    if matches!(field.default, Default::Field) {
        bounds.push(quote_spanned!(ty.span()=> #ty: ::core::default::Default));
    }
    bounds
}

/// The typed key const of one field. Its first tokens, name and `;` are
/// located at the field, so a clash with another item of the same name is
/// reported there; its value at the field's type, so an unmet serde bound
/// points there.
fn field_const(out: &mut Out, krate: &syn::Path, field: &Accessor) {
    let Accessor {
        member,
        const_ident,
        key,
        aliases,
        ty,
        vis,
        default,
        serialize_with,
        deserialize_with,
        skip_serializing_if,
        generic: _,
    } = field;
    let site = Span::call_site();
    let at = const_ident.span();
    let ty_at = first_span(ty);

    // #[doc = "..."]
    let mut doc = Out::new();
    doc.ident("doc", site).punct('=', site).string(
        &format!("Typed key of `{member}`, stored as `\"{key}\"`."),
        site,
    );
    out.punct('#', site).group(Delimiter::Bracket, site, doc);
    // vis const NAME: {krate}::Field<Self, Type> =
    match vis {
        syn::Visibility::Inherited => {}
        syn::Visibility::Public(_) => {
            out.ident("pub", at);
        }
        syn::Visibility::Restricted(_) => {
            out.tokens(&respan(vis.to_token_stream(), at));
        }
    }
    out.ident("const", at)
        .tree(const_ident.clone())
        .punct(':', site);
    out.path(krate, &["Field"], site)
        .punct('<', site)
        .ident("Self", site)
        .punct(',', site)
        .tokens(*ty)
        .punct('>', site)
        .punct('=', site);

    let plain = serialize_with.is_none() && deserialize_with.is_none();
    let field_call = |value: &mut Out| {
        let mut key_arg = Out::new();
        key_arg.string(key, ty_at);
        value.path(krate, &["__private", "field"], ty_at).group(
            Delimiter::Parenthesis,
            ty_at,
            key_arg,
        );
    };
    if plain
        && aliases.is_empty()
        && skip_serializing_if.is_none()
        && matches!(default, Default::None | Default::Field)
    {
        // The common case: `field("key")`, or
        // `default(field("key"), <Type as Default>::default)`.
        if matches!(default, Default::None) {
            field_call(out);
        } else {
            let mut value = Out::new();
            field_call(&mut value);
            value.punct(',', ty_at).tokens(&quote_spanned! {ty_at=>
                <#ty as ::core::default::Default>::default
            });
            out.path(krate, &["__private", "default"], ty_at).group(
                Delimiter::Parenthesis,
                ty_at,
                value,
            );
        }
        out.punct(';', at);
        return;
    }
    let private = quote!(#krate::__private);
    let mut value = if plain {
        let mut value = Out::new();
        field_call(&mut value);
        value.finish()
    } else {
        // The same functions the struct's own impls call, as serde_derive
        // wraps them: `path(value, serializer)` and `path(deserializer)`.
        // Spanned at the attribute's path, so a function of the wrong type
        // is reported there.
        let encode = match serialize_with {
            Some(path) => respan(
                quote! {
                    |__value: &#ty| #private::encode_with(|__serializer| #path(__value, __serializer))
                },
                path.span(),
            ),
            None => quote!(#private::plain_encode::<#ty>),
        };
        let (decode, missing) = match deserialize_with {
            Some(path) => (
                respan(
                    quote! {
                        |__value: &#private::serde_json::Value| #private::decode_with(__value, |__deserializer| #path(__deserializer))
                    },
                    path.span(),
                ),
                quote!(::core::option::Option::None),
            ),
            None => (
                quote!(#private::plain_decode::<#ty>),
                quote!(::core::option::Option::Some(#private::plain_missing::<#ty>)),
            ),
        };
        quote!(#private::field_with(#key, #encode, #decode, #missing))
    };
    if !aliases.is_empty() {
        value = quote!(#private::aliases(#value, &[#(#aliases),*]));
    }
    if let Some(path) = skip_serializing_if {
        value = quote_spanned! {path.span()=>
            #private::skip_if(#value, |__value: &#ty| #path(__value))
        };
    }
    out.tokens(&with_default(krate, member, ty, ty_at, default, value))
        .punct(';', at);
}

/// `value` with serde's default for the field, if it has one.
fn with_default(
    krate: &syn::Path,
    member: &syn::Ident,
    ty: &syn::Type,
    ty_at: Span,
    default: &Default,
    value: TokenStream,
) -> TokenStream {
    let default = match default {
        Default::None => return value,
        Default::Field => quote_spanned! {ty_at=>
            <#ty as ::core::default::Default>::default
        },
        Default::FieldPath(path) => quote_spanned!(path.span()=> #path),
        Default::Container => quote! {
            || <Self as ::core::default::Default>::default().#member
        },
        Default::ContainerPath(path) => quote_spanned! {path.span()=>
            || {
                let __container: Self = #path();
                __container.#member
            }
        },
    };
    quote!(#krate::__private::default(#value, #default))
}

/// Where `ty` starts, located there with the derive's own hygiene
/// (`call_site`). Cheaper than `Spanned::span`, which turns the whole type
/// into tokens and, on a stable compiler, also takes the first token's span.
fn first_span(ty: &syn::Type) -> Span {
    let start = match ty {
        syn::Type::Path(path) => match (&path.qself, &path.path.leading_colon) {
            (Some(qself), _) => qself.lt_token.span,
            (None, Some(colon)) => colon.spans[0],
            (None, None) => path
                .path
                .segments
                .first()
                .map_or_else(|| ty.span(), |segment| segment.ident.span()),
        },
        syn::Type::Reference(reference) => reference.and_token.span,
        _ => ty.span(),
    };
    Span::call_site().located_at(start)
}

/// `tokens` located at `at`, for what errors point at. They keep the
/// derive's own hygiene (`call_site`, resolved there), so lints still see
/// generated code and names resolve as before.
fn respan(tokens: TokenStream, at: proc_macro2::Span) -> TokenStream {
    let span = proc_macro2::Span::call_site().located_at(at);
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = proc_macro2::TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn output_uses_absolute_paths_only() {
        let input: syn::DeriveInput =
            syn::parse_str(r#"#[job_metadata(prefix = "render")] pub struct Render<T> { pub scene: T, #[serde(default)] pub n: u8 }"#)
                .expect("parses");
        let out = super::derive(&input).to_string();
        assert!(
            out.contains(":: jobsess :: JobMetadata for Render < T >"),
            "{out}"
        );
        assert!(
            out.contains(":: jobsess :: __private :: schema (\"render\" , \"Render\""),
            "{out}"
        );
        assert!(out.contains("pub const SCENE : :: jobsess :: Field < Self , T > = :: jobsess :: __private :: field (\"scene\")"), "{out}");
        assert!(out.contains(":: jobsess :: __private :: default (:: jobsess :: __private :: field (\"n\") , < u8 as :: core :: default :: Default > :: default)"), "{out}");
        assert!(
            out.contains("Render < T > : :: jobsess :: __private :: serde :: Serialize"),
            "{out}"
        );
        // the consts are bounded on the field types that mention `T`, and only those
        assert!(
            out.contains("impl < T > Render < T > where T : :: jobsess :: __private :: serde :: Serialize , T : :: jobsess :: __private :: serde :: de :: DeserializeOwned {"),
            "{out}"
        );
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn errors_come_with_the_checked_output() {
        let input: syn::DeriveInput =
            syn::parse_str(r#"#[job_metadata(prefix = "a_b")] struct J { x: u8 }"#)
                .expect("parses");
        let out = super::derive(&input).to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("schema (\"job\" , \"J\""), "{out}");
        assert!(out.contains("const X"), "{out}");
    }

    #[test]
    fn non_structs_get_only_errors() {
        let input: syn::DeriveInput = syn::parse_str("enum E { A }").expect("parses");
        let out = super::derive(&input).to_string();
        assert!(
            out.contains("compile_error") && !out.contains("impl"),
            "{out}"
        );
    }
}
