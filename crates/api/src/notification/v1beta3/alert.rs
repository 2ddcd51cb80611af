//! Alert: which events are sent to which Provider.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::LocalObjectReference;
use crate::notification::v1::CrossNamespaceObjectReference;

/// Forwards the events of the selected Flux objects, filtered by severity and message,
/// to a Provider.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1beta3",
    kind = "Alert",
    plural = "alerts",
    namespaced,
    category = "all",
    category = "fluxcd",
    category = "fluxcd-notifications",
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    doc = "Alert selects events of Flux objects and sends them to a Provider."
)]
#[serde(rename_all = "camelCase")]
pub struct AlertSpec {
    /// The Provider, in the same namespace, that receives the events.
    pub provider_ref: LocalObjectReference,
    /// The lowest severity forwarded: `info` forwards everything, `error` only errors.
    #[serde(
        default = "default_event_severity",
        skip_serializing_if = "Option::is_none"
    )]
    pub event_severity: Option<EventSeverity>,
    /// The objects whose events are forwarded.
    pub event_sources: Vec<CrossNamespaceObjectReference>,
    /// Go regular expressions; when set, only events whose message matches one of them
    /// are forwarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_list: Option<Vec<String>>,
    /// Go regular expressions; events whose message matches one of them are dropped,
    /// even when included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusion_list: Option<Vec<String>>,
    /// Extra metadata added to every forwarded event; keys the event already has keep
    /// their value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_metadata: Option<BTreeMap<String, String>>,
    /// A short note on the impact and the cluster, added to every event. Deprecated:
    /// use `eventMetadata.summary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub summary: Option<String>,
    /// Stops forwarding events while true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "serde default functions return the field type"
)]
fn default_event_severity() -> Option<EventSeverity> {
    Some(EventSeverity::Info)
}

/// Event severities an Alert filters on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventSeverity {
    /// Informational events and errors alike.
    #[default]
    Info,
    /// Errors only.
    Error,
}
