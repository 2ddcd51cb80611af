//! The `kustomize.toolkit.fluxcd.io` API group: manifests built with kustomize and applied
//! to a cluster.

pub mod v1;

/// The API group of the Kustomization kind.
pub const GROUP: &str = "kustomize.toolkit.fluxcd.io";
