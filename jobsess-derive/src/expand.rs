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
        ..
    } = model;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let type_name = ident.to_string();
    let keys = fields.iter().map(|f| &f.key);
    let consts = fields.iter().map(|f| field_const(krate, f));

    // Generic structs: serde's impls carry their own bounds, so ask for
    // exactly what the trait needs, on the type itself.
    let mut where_clause = where_clause.cloned();
    if generics.type_params().next().is_some() {
        let clause = where_clause.get_or_insert_with(|| syn::parse_quote!(where));
        clause
            .predicates
            .push(syn::parse_quote_spanned! {ident.span()=>
                #ident #ty_generics: #krate::__private::serde::Serialize
                    + #krate::__private::serde::de::DeserializeOwned
            });
    }
    let trait_path = quote_spanned!(ident.span()=> #krate::JobMetadata);

    quote! {
        #[automatically_derived]
        impl #impl_generics #trait_path for #ident #ty_generics #where_clause {
            const SCHEMA: #krate::Schema = #krate::Schema {
                key_prefix: #prefix,
                type_name: #type_name,
                field_keys: &[#(#keys),*],
            };
        }

        #[automatically_derived]
        impl #impl_generics #ident #ty_generics #where_clause {
            #(#consts)*
        }
    }
}

fn field_const(krate: &syn::Path, field: &Accessor) -> TokenStream {
    let Accessor {
        member,
        const_ident,
        key,
        ty,
        vis,
        default,
    } = field;
    let doc = format!("Typed key of `{member}`, stored as `\"{key}\"`.");
    // Each token crosses the proc-macro bridge and is type-checked in the
    // user's crate, so the common case (no default) is the shortest.
    let value = match default {
        Default::None => quote!(#krate::__private::field(#key)),
        Default::Field => quote_spanned! {ty.span()=>
            #krate::__private::field_or(#key, <#ty as ::core::default::Default>::default)
        },
        Default::FieldPath(path) => quote_spanned! {path.span()=>
            #krate::__private::field_or(#key, #path)
        },
        Default::Container => quote! {
            #krate::__private::field_or(#key, || <Self as ::core::default::Default>::default().#member)
        },
        Default::ContainerPath(path) => quote_spanned! {path.span()=>
            #krate::__private::field_or(#key, || {
                let __container: Self = #path();
                __container.#member
            })
        },
    };
    quote! {
        #[doc = #doc]
        #vis const #const_ident: #krate::Field<Self, #ty> = #value;
    }
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
        assert!(out.contains(":: jobsess :: __private :: field_or (\"n\" , < u8 as :: core :: default :: Default > :: default)"), "{out}");
        assert!(
            out.contains("Render < T > : :: jobsess :: __private :: serde :: Serialize"),
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
