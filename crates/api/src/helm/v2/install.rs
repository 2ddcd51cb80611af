//! Options of the Helm install action, and the types it shares with upgrade.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a HelmRelease installs its chart when no release exists yet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Install {
    /// The time budget of each Kubernetes operation of the install; the HelmRelease's
    /// `timeout` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub timeout: Option<String>,
    /// What happens after a failed install: remediate (uninstall) and retry up to a
    /// count, or retry at an interval without remediating. The controller's default
    /// (`RemediateOnFailure`, unless a feature gate changes it) when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<InstallStrategy>,
    /// Remediation of a failed install under the `RemediateOnFailure` strategy; none
    /// by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<InstallRemediation>,
    /// Fails instead of adopting objects that already exist and belong to no release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_take_ownership: Option<bool>,
    /// Does not wait for the installed objects to become ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    /// Does not wait for the installed Jobs to complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait_for_jobs: Option<bool>,
    /// Does not run the chart's hooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    /// Does not validate the rendered manifests against the cluster's OpenAPI schema.
    #[serde(
        default,
        rename = "disableOpenAPIValidation",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_openapi_validation: Option<bool>,
    /// Does not validate the values against the chart's JSON schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_schema_validation: Option<bool>,
    /// Reuses the release name when it belongs to a deleted release still kept in the
    /// history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<bool>,
    /// Does not install the chart's CRDs. Deprecated: set `crds: Skip` instead.
    #[serde(default, rename = "skipCRDs", skip_serializing_if = "Option::is_none")]
    pub skip_crds: Option<bool>,
    /// What is done with the CRDs in the chart's `crds/` directory; `Create` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crds: Option<CRDsPolicy>,
    /// Creates the target namespace if it does not exist; it is not deleted on uninstall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_namespace: Option<bool>,
    /// Applies the manifests with server-side apply; the controller's default (true,
    /// unless a feature gate changes it) when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_apply: Option<bool>,
}

/// What happens after a failed install.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "message": ".retryInterval cannot be set when .name is 'RemediateOnFailure'",
    "rule": "!has(self.retryInterval) || self.name != 'RemediateOnFailure'"
}]))]
pub struct InstallStrategy {
    /// The strategy.
    pub name: ReleaseStrategyName,
    /// How long to wait before trying again; only with `RetryOnFailure`, `5m` when
    /// left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub retry_interval: Option<String>,
}

/// The strategies for a failed install or upgrade.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ReleaseStrategyName {
    /// Remediate the failure (per `remediation`) and retry while retries remain.
    #[default]
    RemediateOnFailure,
    /// Leave the failed release as it is and try again after `retryInterval`.
    RetryOnFailure,
}

/// Remediation of a failed install.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstallRemediation {
    /// How many times to retry (uninstalling in between) before giving up; `0` when
    /// left out, a negative number retries forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::meta::go_int)]
    pub retries: Option<i64>,
    /// Does not remediate when only the tests run after the install fail; the test
    /// options' `ignoreFailures` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_test_failures: Option<bool>,
    /// Remediates the last failure too, once no retries remain; false when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediate_last_failure: Option<bool>,
}

/// What is done with the CRDs in a chart's `crds/` directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum CRDsPolicy {
    /// Neither create nor update them.
    Skip,
    /// Create the missing ones; leave existing ones alone.
    Create,
    /// Create the missing ones and replace existing ones.
    CreateReplace,
}
