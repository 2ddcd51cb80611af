//! Options of the Helm test action.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Whether and how the chart's tests run after an install or upgrade.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Test {
    /// Runs the tests after every successful install or upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// The time budget of each Kubernetes operation of the tests; the HelmRelease's
    /// `timeout` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub timeout: Option<String>,
    /// Does not remediate when tests fail; the install and upgrade remediation options
    /// can override this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_failures: Option<bool>,
    /// Tests to run, or to leave out, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
}

/// Selects one test by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Filter {
    /// The name of the test.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Leaves the test out instead of running only the selected tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<bool>,
}
