//! Helm 3's release record (`helm.sh/helm/v3/pkg/release.Release`), field for field in the
//! JSON shape Helm stores, so that releases written here are read by the `helm` CLI and
//! the other way round.
//!
//! Times are kept as the strings Helm wrote (RFC 3339 with nanoseconds; `""` is Go's zero
//! time) so that a release read and written back is unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A release status (`release.Status`).
pub mod status {
    /// The release is live.
    pub const DEPLOYED: &str = "deployed";
    /// A later release replaced it.
    pub const SUPERSEDED: &str = "superseded";
    /// The release failed.
    pub const FAILED: &str = "failed";
    /// It was uninstalled (history kept).
    pub const UNINSTALLED: &str = "uninstalled";
    /// An uninstall is under way.
    pub const UNINSTALLING: &str = "uninstalling";
    /// An install is under way.
    pub const PENDING_INSTALL: &str = "pending-install";
    /// An upgrade is under way.
    pub const PENDING_UPGRADE: &str = "pending-upgrade";
    /// A rollback is under way.
    pub const PENDING_ROLLBACK: &str = "pending-rollback";
    /// Unknown state.
    pub const UNKNOWN: &str = "unknown";

    /// Whether `status` is one of the pending (locked) states.
    pub fn is_pending(status: &str) -> bool {
        matches!(status, PENDING_INSTALL | PENDING_UPGRADE | PENDING_ROLLBACK)
    }
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde skip_serializing_if passes a reference"
)]
fn is_zero(n: &i64) -> bool {
    *n == 0
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde skip_serializing_if passes a reference"
)]
fn is_false(b: &bool) -> bool {
    !*b
}

/// One release revision.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// Release name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Status and times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    /// The chart that was released (without subcharts, as Helm stores it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<ChartRecord>,
    /// User-supplied values.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub config: Map<String, Value>,
    /// The rendered manifest (non-hook documents).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    /// The hooks of the release.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookRecord>,
    /// Revision number.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: i64,
    /// Namespace the release is installed into.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

/// `release.Info`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Info {
    /// First deployment time (`""` when zero).
    #[serde(default)]
    pub first_deployed: String,
    /// Last deployment time.
    #[serde(default)]
    pub last_deployed: String,
    /// Deletion time.
    #[serde(default)]
    pub deleted: String,
    /// Human-readable description ("Install complete").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Status (see [`status`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Rendered NOTES.txt.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// Resources (only filled by `helm status --show-resources`; kept verbatim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Value>,
}

/// `chart.Chart` as stored: metadata, lock, templates, values, schema, files.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChartRecord {
    /// Chart.yaml.
    #[serde(default)]
    pub metadata: Option<ChartMetadata>,
    /// Chart.lock (kept verbatim).
    #[serde(default)]
    pub lock: Option<Value>,
    /// `templates/` files.
    #[serde(default)]
    pub templates: Option<Vec<FileRecord>>,
    /// Default values.
    #[serde(default)]
    pub values: Option<Map<String, Value>>,
    /// values.schema.json, base64 as Go encodes `[]byte`.
    #[serde(default)]
    pub schema: Option<String>,
    /// Other files.
    #[serde(default)]
    pub files: Option<Vec<FileRecord>>,
}

/// `chart.File`: a name and base64 data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Path inside the chart.
    pub name: String,
    /// Contents, base64 (Go `[]byte`).
    pub data: String,
}

/// `chart.Metadata`, in Go's field order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartMetadata {
    /// `name`
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// `home`
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub home: String,
    /// `sources`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// `version`
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// `description`
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `keywords`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// `maintainers`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintainers: Vec<Value>,
    /// `icon`
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon: String,
    /// `apiVersion`
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// `condition`
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
    /// `tags`
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tags: String,
    /// `appVersion`
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_version: String,
    /// `deprecated`
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    /// `annotations`
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// `kubeVersion`
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kube_version: String,
    /// `dependencies` (kept verbatim).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Value>,
    /// `type`
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub chart_type: String,
}

/// `release.Hook`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HookRecord {
    /// `metadata.name` of the hook object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Its kind.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Template path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// The document.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    /// Events it runs on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// The last execution.
    #[serde(default)]
    pub last_run: HookExecution,
    /// `helm.sh/hook-weight`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight: i64,
    /// `helm.sh/hook-delete-policy` entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete_policies: Vec<String>,
    /// `helm.sh/hook-output-log-policy` entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_log_policies: Vec<String>,
}

/// `release.HookExecution`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookExecution {
    /// Start time (`""` when never run).
    #[serde(default)]
    pub started_at: String,
    /// Completion time.
    #[serde(default)]
    pub completed_at: String,
    /// `Unknown`, `Running`, `Succeeded` or `Failed` (`""` when never run).
    #[serde(default)]
    pub phase: String,
}

impl Release {
    /// The status, `""` when there is no info.
    pub fn status(&self) -> &str {
        self.info.as_ref().map_or("", |i| i.status.as_str())
    }

    /// Sets status and description.
    pub fn set_status(&mut self, status: &str, description: impl Into<String>) {
        let info = self.info.get_or_insert_with(Info::default);
        status.clone_into(&mut info.status);
        info.description = description.into();
    }

    /// The chart's name, `""` when unknown.
    pub fn chart_name(&self) -> &str {
        self.metadata().map_or("", |m| m.name.as_str())
    }

    /// The chart's version, `""` when unknown.
    pub fn chart_version(&self) -> &str {
        self.metadata().map_or("", |m| m.version.as_str())
    }

    /// The chart's appVersion, `""` when unknown.
    pub fn app_version(&self) -> &str {
        self.metadata().map_or("", |m| m.app_version.as_str())
    }

    fn metadata(&self) -> Option<&ChartMetadata> {
        self.chart.as_ref().and_then(|c| c.metadata.as_ref())
    }
}

/// The current time as Go's `time.Time` marshals it (RFC 3339, nanoseconds trimmed, UTC).
pub fn now() -> String {
    format_time(jiff::Timestamp::now())
}

/// Formats a timestamp as Go's `time.RFC3339Nano` in UTC.
pub fn format_time(timestamp: jiff::Timestamp) -> String {
    // jiff prints the shortest exact fraction, as Go's RFC3339Nano does.
    timestamp.to_string()
}

/// Parses a time Helm wrote; `None` for the zero time or garbage.
pub fn parse_time(text: &str) -> Option<jiff::Timestamp> {
    if text.is_empty() {
        return None;
    }
    text.parse::<jiff::Timestamp>()
        .ok()
        .filter(|t| t.as_second() > -62_135_596_800)
}
