//! `#[derive(JobMetadata)]` for the [`jobsess`](https://docs.rs/jobsess) crate.
//!
//! Use it through `jobsess`, which re-exports it: `use jobsess::JobMetadata;`.
//! The derive runs in three stages, one module each: `attr` reads the
//! attributes (ours and serde's) into a model, `valid` checks the rules that
//! span several fields, `expand` quotes the checked model.

mod attr;
mod case;
mod ctxt;
mod expand;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `jobsess::JobMetadata`. The guide, and the table of what the
/// derive does with every serde attribute, are on `jobsess::JobMetadata`
/// (the re-export of this macro): <https://docs.rs/jobsess/latest/jobsess/derive.JobMetadata.html>;
/// the workspace's `README.md`.
#[proc_macro_derive(JobMetadata, attributes(job_metadata))]
pub fn derive_job_metadata(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
