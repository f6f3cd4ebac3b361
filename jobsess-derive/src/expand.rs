//! Stage 3: quotes the checked model. Generated code names the runtime by
//! absolute paths only, is `#[automatically_derived]` and names nothing the
//! user could shadow. It is not wrapped in `const _: () = { ... };`: the
//! output is two impls that need no private imports, and the wrapper cost 4 %
//! of the build time of a crate of 200 derived structs
//! (`benches/compile_time.sh`, BENCHMARKS.md).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
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
        ..
    } = model;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let type_name = ident.to_string();
    let keys = fields.iter().map(|f| &f.key);
    let consts = fields.iter().map(|f| field_const(krate, f));

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
    let trait_path = quote_spanned!(ident.span()=> #krate::JobMetadata);
    let (schema_version, version_items, version_check) = versions(krate, *version, *migrate_from);

    quote! {
        #[automatically_derived]
        impl #impl_generics #trait_path for #ident #ty_generics #trait_where {
            fn schema() -> &'static #krate::Schema {
                &#krate::Schema {
                    key_prefix: #prefix,
                    type_name: #type_name,
                    field_keys: &[#(#keys),*],
                    version: #schema_version,
                }
            }
            #version_items
        }
        #version_check

        #[automatically_derived]
        impl #impl_generics #ident #ty_generics #consts_where {
            #(#consts)*
        }
    }
}

/// What `version` and `migrate_from` add: the schema's version, the trait
/// items, and the check that the previous type's version is lower. The
/// check is a const assertion, so a wrong version fails the build, spanned
/// at `migrate_from`'s path; so does a previous type with no migration.
fn versions(
    krate: &syn::Path,
    version: Option<&syn::LitInt>,
    migrate_from: Option<&syn::Path>,
) -> (TokenStream, TokenStream, TokenStream) {
    let Some(version) = version else {
        return (
            quote!(::core::option::Option::None),
            TokenStream::new(),
            TokenStream::new(),
        );
    };
    let schema = quote!(::core::option::Option::Some(#version));
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
    (schema, items, check)
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

fn field_const(krate: &syn::Path, field: &Accessor) -> TokenStream {
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
    let private = quote!(#krate::__private);
    let doc = format!("Typed key of `{member}`, stored as `\"{key}\"`.");
    // Each token crosses the proc-macro bridge and is type-checked in the
    // user's crate, so the common case (no serde attributes) is the shortest.
    let mut value = if serialize_with.is_none() && deserialize_with.is_none() {
        // spanned at the type: an unmet serde bound points at the field
        respan(quote!(#private::field(#key)), ty.span())
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
    let default = match default {
        Default::None => None,
        Default::Field => Some(quote_spanned! {ty.span()=>
            <#ty as ::core::default::Default>::default
        }),
        Default::FieldPath(path) => Some(quote_spanned!(path.span()=> #path)),
        Default::Container => Some(quote! {
            || <Self as ::core::default::Default>::default().#member
        }),
        Default::ContainerPath(path) => Some(quote_spanned! {path.span()=>
            || {
                let __container: Self = #path();
                __container.#member
            }
        }),
    };
    if let Some(default) = default {
        value = quote!(#private::default(#value, #default));
    }
    // The item is spanned at the field, so a clash with another item of
    // the same name (a const of the user's own) is reported there.
    let head = respan(quote!(#vis const #const_ident), member.span());
    let end = respan(quote!(;), member.span());
    quote! {
        #[doc = #doc]
        #head: #krate::Field<Self, #ty> = #value #end
    }
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
        assert!(out.contains("key_prefix : \"render\""), "{out}");
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
        assert!(out.contains("key_prefix : \"job\""), "{out}");
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
