//! The `helm.toolkit.fluxcd.io` API group: Helm releases managed declaratively.

pub mod v2;

/// The API group of the HelmRelease kind.
pub const GROUP: &str = "helm.toolkit.fluxcd.io";
