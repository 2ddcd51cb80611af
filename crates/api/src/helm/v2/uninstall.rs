//! Options of the Helm uninstall action.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a release is uninstalled, on deletion of the HelmRelease or as remediation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Uninstall {
    /// The time budget of each Kubernetes operation of the uninstall; the HelmRelease's
    /// `timeout` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub timeout: Option<String>,
    /// Does not run the chart's hooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    /// Deletes the objects but keeps the release history, marking the release deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_history: Option<bool>,
    /// Does not wait for the objects to be gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    /// The propagation policy of the deletions.
    #[serde(
        default = "default_deletion_propagation",
        skip_serializing_if = "Option::is_none"
    )]
    pub deletion_propagation: Option<DeletionPropagation>,
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "serde default functions return the field type"
)]
fn default_deletion_propagation() -> Option<DeletionPropagation> {
    Some(DeletionPropagation::Background)
}

/// Kubernetes deletion propagation policies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeletionPropagation {
    /// Delete the object now and its dependents in the background.
    #[default]
    Background,
    /// Delete the dependents first, then the object.
    Foreground,
    /// Delete the object and leave its dependents.
    Orphan,
}
