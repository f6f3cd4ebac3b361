//! Stage 3: quotes the checked model. Generated code names the runtime by
//! absolute paths only, sits in `const _: () = { ... };`, is
//! `#[automatically_derived]` and names nothing the user could shadow.

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
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_attributes, unused_qualifications)]
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #trait_path for #ident #ty_generics #where_clause {
                const KEY_PREFIX: &'static ::core::primitive::str = #prefix;
                const TYPE_NAME: &'static ::core::primitive::str = #type_name;
                const FIELD_KEYS: &'static [&'static ::core::primitive::str] = &[#(#keys),*];
            }

            #[automatically_derived]
            impl #impl_generics #ident #ty_generics #where_clause {
                #(#consts)*
            }
        };
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
    let doc = format!(
        "Typed key of the field `{member}`, stored under `\"{key}\"` in the job's JSON object."
    );
    let default = match default {
        Default::None => quote!(::core::option::Option::None),
        Default::Field => quote_spanned! {ty.span()=>
            ::core::option::Option::Some(<#ty as ::core::default::Default>::default)
        },
        Default::FieldPath(path) => quote_spanned! {path.span()=>
            ::core::option::Option::Some(#path)
        },
        Default::Container => quote! {
            ::core::option::Option::Some(|| <Self as ::core::default::Default>::default().#member)
        },
        Default::ContainerPath(path) => quote_spanned! {path.span()=>
            ::core::option::Option::Some(|| {
                let __container: Self = #path();
                __container.#member
            })
        },
    };
    quote! {
        #[doc = #doc]
        #vis const #const_ident: #krate::Field<Self, #ty> =
            #krate::__private::field(#key, #default);
    }
}
