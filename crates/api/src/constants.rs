//! Strings Flux controllers put on the wire: condition types, reasons, annotations,
//! labels, finalizers and field managers. Users alert on these, so they are Flux's exactly.

/// The finalizer every reconciled Flux kind carries.
pub const FINALIZER: &str = "finalizers.fluxcd.io";

/// Annotation that asks for a reconciliation now; its value is an opaque token.
pub const RECONCILE_REQUESTED_AT_ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";
/// Annotation that asks a HelmRelease for a forced install or upgrade.
pub const FORCE_REQUESTED_AT_ANNOTATION: &str = "reconcile.fluxcd.io/forceAt";
/// Annotation that asks a HelmRelease to reset its failure counters.
pub const RESET_REQUESTED_AT_ANNOTATION: &str = "reconcile.fluxcd.io/resetAt";
/// Annotation (on CRDs and applied objects) that turns off postBuild substitution.
pub const SUBSTITUTE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/substitute";
