//! The Flux CD API, as Rust types.
//!
//! Every kind Flux serves today, with the same group, version, fields, defaults, enums,
//! patterns, CEL rules and printer columns as the CRDs Flux publishes, so that manifests
//! written for Flux apply unchanged. The crate holds types and constants only: no client,
//! no I/O. `cargo xtask gen` turns [`crds()`] into the YAML under `config/crds/`.
//!
//! Layout: one module per API group and version (`source::v1`, `kustomize::v1`, `helm::v2`,
//! `notification::v1beta3`, `notification::v1`), shared types in [`meta`], and the strings
//! controllers put on the wire (condition types, reasons, annotations, finalizers, field
//! managers) in [`constants`].

pub mod constants;
pub mod crd;
pub mod helm;
pub mod kustomize;
pub mod meta;
pub mod notification;
pub mod source;

pub use crd::{FluxCrd, crds};
