//! Which Alerts an event goes to: a pure function over the event and the Alerts, with
//! Flux's rules.
//!
//! An Alert matches when it is not suspended, one of its `eventSources` matches (kind and
//! namespace equal — the namespace defaults to the Alert's —, severity allowed, name equal
//! or `*`, labels selected), the message matches one `inclusionList` regex (when set) and
//! none of the `exclusionList` regexes. Invalid regexes are skipped with a warning.

use std::collections::BTreeMap;
use std::sync::Arc;

use ferroflux_api::notification::v1::{CrossNamespaceObjectReference, FluxKind};
use ferroflux_api::notification::v1beta3::{Alert, EventSeverity};
use ferroflux_runtime::events::FluxEvent;
use kube::ResourceExt;
use regex::Regex;

/// Reason of the warning for an unusable inclusion or exclusion regex.
pub const INVALID_CONFIG_REASON: &str = "InvalidConfig";
/// Reason of the warning when the involved object's labels could not be read.
pub const SOURCE_FETCH_FAILED_REASON: &str = "SourceFetchFailed";

/// A Warning event to record on an Alert.
#[derive(Debug, Clone)]
pub struct AlertWarning {
    /// The Alert.
    pub alert: Arc<Alert>,
    /// Flux's reason.
    pub reason: &'static str,
    /// What is wrong.
    pub message: String,
}

/// The Alerts an event goes to, and the warnings found on the way.
#[derive(Debug, Clone, Default)]
pub struct Matches {
    /// Matching Alerts, in the order given.
    pub alerts: Vec<Arc<Alert>>,
    /// Warnings to record on Alerts.
    pub warnings: Vec<AlertWarning>,
}

/// The name of a Flux kind as events spell it.
pub fn kind_name(kind: FluxKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `Kind/namespace/name` of the event's object, as Flux prints it.
pub fn involved_object_string(event: &FluxEvent) -> String {
    let object = &event.involved_object;
    format!(
        "{}/{}/{}",
        object.kind.as_deref().unwrap_or_default(),
        object.namespace.as_deref().unwrap_or_default(),
        object.name.as_deref().unwrap_or_default()
    )
}

/// Whether the source matches the event on everything but labels.
fn source_matches_without_labels(
    event: &FluxEvent,
    alert: &Alert,
    source: &CrossNamespaceObjectReference,
) -> bool {
    let object = &event.involved_object;
    let alert_namespace = alert.namespace().unwrap_or_default();
    let namespace = source.namespace.as_deref().unwrap_or(&alert_namespace);
    if object.namespace.as_deref() != Some(namespace)
        || object.kind.as_deref() != Some(kind_name(source.kind).as_str())
    {
        return false;
    }
    let severity = alert.spec.event_severity.unwrap_or_default();
    if severity == EventSeverity::Error && event.severity != "error" {
        return false;
    }
    source.name == "*" || object.name.as_deref() == Some(source.name.as_str())
}

/// Whether some non-suspended Alert needs the involved object's labels to decide; the
/// caller then reads them once and passes them to [`matching_alerts`].
pub fn needs_labels(event: &FluxEvent, alerts: &[Arc<Alert>]) -> bool {
    alerts
        .iter()
        .filter(|alert| !alert.spec.suspend.unwrap_or(false))
        .any(|alert| {
            alert.spec.event_sources.iter().any(|source| {
                source.match_labels.is_some() && source_matches_without_labels(event, alert, source)
            })
        })
}

/// The Alerts `event` goes to. `labels` are the involved object's labels, `None` when
/// they could not be read (sources with `matchLabels` then do not match).
pub fn matching_alerts(
    event: &FluxEvent,
    alerts: &[Arc<Alert>],
    labels: Option<&BTreeMap<String, String>>,
) -> Matches {
    let mut matches = Matches::default();
    for alert in alerts {
        if alert.spec.suspend.unwrap_or(false) {
            continue;
        }
        let mut warnings = Vec::new();
        let source_matches = alert.spec.event_sources.iter().any(|source| {
            if !source_matches_without_labels(event, alert, source) {
                return false;
            }
            let Some(selector) = &source.match_labels else {
                return true;
            };
            let Some(labels) = labels else {
                warnings.push((
                    SOURCE_FETCH_FAILED_REASON,
                    format!(
                        "error getting source object {}",
                        involved_object_string(event)
                    ),
                ));
                return false;
            };
            selector
                .iter()
                .all(|(key, value)| labels.get(key) == Some(value))
        });
        let allowed = source_matches
            && included(
                &event.message,
                alert.spec.inclusion_list.as_deref(),
                &mut warnings,
            )
            && !excluded(
                &event.message,
                alert.spec.exclusion_list.as_deref(),
                &mut warnings,
            );
        matches
            .warnings
            .extend(warnings.into_iter().map(|(reason, message)| AlertWarning {
                alert: alert.clone(),
                reason,
                message,
            }));
        if allowed {
            matches.alerts.push(alert.clone());
        }
    }
    matches
}

type Warnings = Vec<(&'static str, String)>;

fn compile(expression: &str, list: &str, warnings: &mut Warnings) -> Option<Regex> {
    if let Ok(regex) = Regex::new(expression) {
        Some(regex)
    } else {
        warnings.push((
            INVALID_CONFIG_REASON,
            format!("failed to compile {list} regex: {expression}"),
        ));
        None
    }
}

fn included(message: &str, list: Option<&[String]>, warnings: &mut Warnings) -> bool {
    let Some(list) = list.filter(|l| !l.is_empty()) else {
        return true;
    };
    // Every expression is compiled (not short-circuited) so that each invalid one is
    // reported, as Flux does.
    let mut hit = false;
    for expression in list {
        if let Some(regex) = compile(expression, "inclusion", warnings) {
            hit |= regex.is_match(message);
        }
        if hit {
            break;
        }
    }
    hit
}

fn excluded(message: &str, list: Option<&[String]>, warnings: &mut Warnings) -> bool {
    for expression in list.unwrap_or_default() {
        if compile(expression, "exclusion", warnings).is_some_and(|r| r.is_match(message)) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests;
