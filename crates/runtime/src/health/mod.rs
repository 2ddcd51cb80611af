//! Health of Kubernetes objects with the semantics of kstatus
//! (`sigs.k8s.io/cli-utils/pkg/kstatus/status`), as Flux's health checks and `wait` see it.
//!
//! [`compute`] first applies the rules every object shares — a deletion timestamp means
//! `Terminating`, an unobserved generation means `InProgress`, the `Reconciling` and
//! `Stalled` conditions decide on their own — then the rules of the built-in kind (see
//! [`kinds`]), and finally the `Ready` condition of custom resources. An object without any
//! of these signals is `Current`.
//!
//! Jobs follow Flux's own reader rather than kstatus: a running Job is `InProgress` until it
//! completes, so that `wait` blocks on it.

mod kinds;
#[cfg(test)]
mod tests;

use std::fmt;

use jiff::Timestamp;
use serde_json::Value;

/// The health of an object, as kstatus names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The object is being reconciled and has not reached its desired state yet.
    InProgress,
    /// The object's controller gave up: it will not reach its desired state by itself.
    Failed,
    /// The object has reached its desired state.
    Current,
    /// The object is being deleted.
    Terminating,
    /// The object does not exist.
    NotFound,
    /// The health could not be determined.
    Unknown,
}

impl Status {
    /// The kstatus name: `InProgress`, `Failed`, `Current`, `Terminating`, `NotFound`,
    /// `Unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "InProgress",
            Self::Failed => "Failed",
            Self::Current => "Current",
            Self::Terminating => "Terminating",
            Self::NotFound => "NotFound",
            Self::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The computed health of an object with a human-readable explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthResult {
    /// The health.
    pub status: Status,
    /// Why, e.g. `Ready: 1/3`.
    pub message: String,
}

impl HealthResult {
    /// A result with `status` and `message`.
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// A `Current` result.
    pub fn current(message: impl Into<String>) -> Self {
        Self::new(Status::Current, message)
    }

    /// An `InProgress` result.
    pub fn in_progress(message: impl Into<String>) -> Self {
        Self::new(Status::InProgress, message)
    }

    /// A `Failed` result.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(Status::Failed, message)
    }
}

/// A custom health rule (Flux's `healthCheckExprs`): returns `Some` to decide the health of
/// an object, `None` to leave it to the built-in rules. `Sync` so that waits can share it.
pub type CustomHealth<'a> = &'a (dyn Fn(&Value) -> Option<HealthResult> + Sync);

/// Computes the health of `object` (a full Kubernetes object as JSON) with kstatus rules.
pub fn compute(object: &Value) -> HealthResult {
    compute_with(object, None)
}

/// Like [`compute`], but consults `custom` first; when it returns `Some`, that result is
/// final (the custom rule is responsible for generation checks of its own).
pub fn compute_with(object: &Value, custom: Option<CustomHealth<'_>>) -> HealthResult {
    compute_at(object, custom, Timestamp::now())
}

/// [`compute_with`] at a given time (a Pod's scheduling grace period depends on it).
pub(crate) fn compute_at(
    object: &Value,
    custom: Option<CustomHealth<'_>>,
    now: Timestamp,
) -> HealthResult {
    if let Some(result) = custom.and_then(|rule| rule(object)) {
        return result;
    }
    if let Some(result) = generic(object) {
        return result;
    }
    if let Some(result) = kinds::by_kind(object, now) {
        return result;
    }
    if let Some(result) = ready_condition(object) {
        return result;
    }
    HealthResult::current("Resource is current")
}

/// The rules every object shares; `None` when they do not decide.
fn generic(object: &Value) -> Option<HealthResult> {
    let deletion = object.pointer("/metadata/deletionTimestamp");
    if deletion
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
    {
        return Some(HealthResult::new(
            Status::Terminating,
            "Resource scheduled for deletion",
        ));
    }
    if let Some(result) = unobserved_generation(object) {
        return Some(result);
    }
    for condition in conditions(object) {
        if condition.type_ == "Reconciling" && condition.status == "True" {
            return Some(HealthResult::in_progress(condition.message));
        }
        if condition.type_ == "Stalled" && condition.status == "True" {
            return Some(HealthResult::failed(condition.message));
        }
    }
    None
}

/// `InProgress` when both generations are present and differ.
fn unobserved_generation(object: &Value) -> Option<HealthResult> {
    let generation = object.pointer("/metadata/generation")?.as_i64()?;
    let observed = object.pointer("/status/observedGeneration")?.as_i64()?;
    (generation != observed).then(|| {
        HealthResult::in_progress(format!(
            "{} generation is {generation}, but latest observed generation is {observed}",
            kind(object)
        ))
    })
}

/// The `Ready` condition of custom resources: True is `Current`, anything else `InProgress`.
fn ready_condition(object: &Value) -> Option<HealthResult> {
    let ready = conditions(object).find(|c| c.type_ == "Ready")?;
    match ready.status {
        "True" => Some(HealthResult::current("Resource is Ready")),
        "False" | "Unknown" => Some(HealthResult::in_progress(ready.message)),
        _ => None,
    }
}

/// One entry of `status.conditions`, borrowed from the object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConditionView<'a> {
    pub type_: &'a str,
    pub status: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
}

/// The object's `status.conditions`, skipping malformed entries.
pub(crate) fn conditions(object: &Value) -> impl Iterator<Item = ConditionView<'_>> {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|condition| {
            let text = |key: &str| condition.get(key).and_then(Value::as_str).unwrap_or("");
            let type_ = condition.get("type")?.as_str()?;
            Some(ConditionView {
                type_,
                status: text("status"),
                reason: text("reason"),
                message: text("message"),
            })
        })
}

/// An integer field at a JSON pointer, or `default` when absent.
pub(crate) fn int_at(object: &Value, pointer: &str, default: i64) -> i64 {
    object
        .pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

/// A string field at a JSON pointer, or `default` when absent.
pub(crate) fn str_at<'a>(object: &'a Value, pointer: &str, default: &'a str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or(default)
}

/// The object's kind.
pub(crate) fn kind(object: &Value) -> &str {
    str_at(object, "/kind", "")
}

/// The API group of the object's `apiVersion` (empty for the core group).
pub(crate) fn group(object: &Value) -> &str {
    str_at(object, "/apiVersion", "")
        .rsplit_once('/')
        .map_or("", |(group, _)| group)
}
