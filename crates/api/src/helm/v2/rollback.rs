//! Options of the Helm rollback action.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ServerSideApplyMode;

/// How a failed upgrade is rolled back to the last successful release.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rollback {
    /// The time budget of each Kubernetes operation of the rollback; the HelmRelease's
    /// `timeout` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub timeout: Option<String>,
    /// Does not wait for the rolled-back objects to become ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    /// Does not wait for the rolled-back Jobs to complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait_for_jobs: Option<bool>,
    /// Does not run the chart's hooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    /// Restarted the pods of the workloads. Deprecated: Helm removed this behaviour and
    /// the field has no effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recreate: Option<bool>,
    /// Replaces objects instead of three-way merging them with client-side apply;
    /// server-side apply always forces conflicts anyway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Deletes objects the failed rollback created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_on_fail: Option<bool>,
    /// Whether server-side apply is used; `auto` (as the release rolled back to did)
    /// when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_apply: Option<ServerSideApplyMode>,
}
