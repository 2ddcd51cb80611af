//! `kustomize.toolkit.fluxcd.io/v1`.

mod kustomization;

pub use kustomization::*;

pub use crate::meta::{IgnoreRule, ResourceInventory, ResourceRef, Snapshot};
