//! YAML the way Go's Kubernetes tooling writes it.
//!
//! Helm (`toYaml`, `.Files.AsConfig`) and kustomize both print values through
//! `sigs.k8s.io/yaml`: marshal to JSON, decode that JSON with go-yaml v2, and emit it in
//! go-yaml v2's block style (keys in v2's natural order, indentless sequences, 80-column
//! folding, quoting of strings that YAML 1.1 would read as something else). This crate is
//! that one emitter, plus the plain-scalar resolvers the quoting decisions rest on, and a
//! fast reader for the common block-style subset of YAML ([`parse_block`]).

mod block;
mod emit;
mod number;
mod resolve;
mod scalar;

pub use block::{Resolve, parse_block};
pub use emit::{natural_order, to_yaml};
pub use number::{format_go_g, format_number};
pub use resolve::{
    Timestamp, needs_quotes_v2, parse_number, parse_timestamp, resolve_plain_v2, resolve_plain_v3,
};
