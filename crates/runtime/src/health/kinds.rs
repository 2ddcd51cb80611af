//! Health rules of the built-in kinds, with kstatus's messages.
//!
//! Workload controllers publish counters rather than conditions, so each rule compares the
//! desired replicas with what the controller reports, in the order kstatus does (the first
//! shortfall found is the message).

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::{HealthResult, Status, conditions, group, int_at, kind, str_at};

/// How long a Pod may stay unschedulable before it counts as `Failed`.
const SCHEDULE_WINDOW: SignedDuration = SignedDuration::from_secs(15);

/// The rule of the object's built-in kind; `None` for other kinds.
pub(super) fn by_kind(object: &Value, now: Timestamp) -> Option<HealthResult> {
    let result = match (group(object), kind(object)) {
        ("", "Service") => service(object),
        ("", "Pod") => pod(object, now),
        ("", "Secret" | "ConfigMap") | ("batch", "CronJob") => {
            HealthResult::current("Resource is always ready")
        }
        ("", "PersistentVolumeClaim") => persistent_volume_claim(object),
        ("", "Namespace") => namespace(object),
        ("apps", "StatefulSet") => stateful_set(object),
        ("apps" | "extensions", "DaemonSet") => daemon_set(object),
        ("apps" | "extensions", "Deployment") => deployment(object),
        ("apps" | "extensions", "ReplicaSet") => replica_set(object),
        ("policy", "PodDisruptionBudget") => {
            HealthResult::current("AllowedDisruptions has been computed.")
        }
        ("batch", "Job") => job(object),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => custom_resource_definition(object),
        _ => return None,
    };
    Some(result)
}

fn has_condition(object: &Value, type_: &str, status: &str) -> bool {
    conditions(object).any(|c| c.type_ == type_ && c.status == status)
}

fn deployment(object: &Value) -> HealthResult {
    // Without progressDeadlineSeconds the controller never sets Progressing.
    let mut progressing = object.pointer("/spec/progressDeadlineSeconds").is_none()
        || int_at(object, "/spec/progressDeadlineSeconds", 0) == i64::from(i32::MAX);
    let mut available = false;
    for condition in conditions(object) {
        match condition.type_ {
            "Progressing" if condition.reason == "ProgressDeadlineExceeded" => {
                return HealthResult::failed("Progress deadline exceeded");
            }
            "Progressing" if condition.status == "True" => {
                progressing |= condition.reason == "NewReplicaSetAvailable";
            }
            "Available" if condition.status == "True" => available = true,
            _ => {}
        }
    }
    let spec = int_at(object, "/spec/replicas", 1);
    let replicas = int_at(object, "/status/replicas", 0);
    let updated = int_at(object, "/status/updatedReplicas", 0);
    let ready = int_at(object, "/status/readyReplicas", 0);
    let available_replicas = int_at(object, "/status/availableReplicas", 0);
    if spec > replicas {
        return HealthResult::in_progress(format!("Replicas: {replicas}/{spec}"));
    }
    if spec > updated {
        return HealthResult::in_progress(format!("Updated: {updated}/{spec}"));
    }
    if replicas > spec {
        return HealthResult::in_progress(format!("Pending termination: {}", replicas - spec));
    }
    if updated > available_replicas {
        return HealthResult::in_progress(format!("Available: {available_replicas}/{updated}"));
    }
    if spec > ready {
        return HealthResult::in_progress(format!("Ready: {ready}/{spec}"));
    }
    if !progressing {
        return HealthResult::in_progress("ReplicaSet not Available");
    }
    if !available {
        return HealthResult::in_progress("Deployment not Available");
    }
    HealthResult::current(format!("Deployment is available. Replicas: {replicas}"))
}

fn stateful_set(object: &Value) -> HealthResult {
    if str_at(object, "/spec/updateStrategy/type", "") == "OnDelete" {
        return HealthResult::current("StatefulSet is using the ondelete update strategy");
    }
    let spec = int_at(object, "/spec/replicas", 1);
    let ready = int_at(object, "/status/readyReplicas", 0);
    let current = int_at(object, "/status/currentReplicas", 0);
    let updated = int_at(object, "/status/updatedReplicas", 0);
    let replicas = int_at(object, "/status/replicas", 0);
    let partition = int_at(object, "/spec/updateStrategy/rollingUpdate/partition", -1);
    if spec > replicas {
        return HealthResult::in_progress(format!("Replicas: {replicas}/{spec}"));
    }
    if spec > ready {
        return HealthResult::in_progress(format!("Ready: {ready}/{spec}"));
    }
    if replicas > spec {
        return HealthResult::in_progress(format!("Pending termination: {}", replicas - spec));
    }
    if partition != -1 {
        if updated < spec - partition {
            return HealthResult::in_progress(format!("updated: {updated}/{}", spec - partition));
        }
        return HealthResult::current(format!("Partition rollout complete. updated: {updated}"));
    }
    if spec > current {
        return HealthResult::in_progress(format!("current: {current}/{spec}"));
    }
    if str_at(object, "/status/currentRevision", "") != str_at(object, "/status/updateRevision", "")
    {
        return HealthResult::in_progress("Waiting for updated revision to match current");
    }
    HealthResult::current(format!(
        "All replicas scheduled as expected. Replicas: {replicas}"
    ))
}

fn daemon_set(object: &Value) -> HealthResult {
    // The daemon set controller always sets both; their absence means it has not acted yet.
    for (pointer, field) in [
        ("/metadata/generation", "metadata.generation"),
        ("/status/observedGeneration", "status.observedGeneration"),
    ] {
        if object.pointer(pointer).is_none() {
            return HealthResult::in_progress(format!("{} {field} not found", kind(object)));
        }
    }
    let desired = int_at(object, "/status/desiredNumberScheduled", -1);
    if desired == -1 {
        return HealthResult::in_progress("Missing .status.desiredNumberScheduled");
    }
    let checks = [
        (
            "Current",
            int_at(object, "/status/currentNumberScheduled", 0),
        ),
        (
            "Updated",
            int_at(object, "/status/updatedNumberScheduled", 0),
        ),
        ("Available", int_at(object, "/status/numberAvailable", 0)),
        ("Ready", int_at(object, "/status/numberReady", 0)),
    ];
    for (label, count) in checks {
        if desired > count {
            return HealthResult::in_progress(format!("{label}: {count}/{desired}"));
        }
    }
    HealthResult::current(format!(
        "All replicas scheduled as expected. Replicas: {desired}"
    ))
}

fn replica_set(object: &Value) -> HealthResult {
    if has_condition(object, "ReplicaFailure", "True") {
        return HealthResult::in_progress("Replica Failure condition. Check Pods");
    }
    let spec = int_at(object, "/spec/replicas", 1);
    let replicas = int_at(object, "/status/replicas", 0);
    let checks = [
        (
            "Labelled",
            int_at(object, "/status/fullyLabeledReplicas", 0),
        ),
        ("Available", int_at(object, "/status/availableReplicas", 0)),
        ("Ready", int_at(object, "/status/readyReplicas", 0)),
    ];
    for (label, count) in checks {
        if spec > count {
            return HealthResult::in_progress(format!("{label}: {count}/{spec}"));
        }
    }
    if replicas > spec {
        return HealthResult::in_progress(format!("Pending termination: {}", replicas - spec));
    }
    HealthResult::current(format!("ReplicaSet is available. Replicas: {replicas}"))
}

fn pod(object: &Value, now: Timestamp) -> HealthResult {
    match str_at(object, "/status/phase", "") {
        "Succeeded" => HealthResult::current("Pod has completed successfully"),
        "Failed" => HealthResult::current("Pod has completed, but not successfully"),
        "Running" => {
            if has_condition(object, "Ready", "True") {
                return HealthResult::current("Pod is Ready");
            }
            let crash_looping = crash_looping_containers(object);
            if crash_looping.is_empty() {
                HealthResult::in_progress("Pod is running but is not Ready")
            } else {
                HealthResult::failed(format!(
                    "Containers in CrashLoop state: {}",
                    crash_looping.join(",")
                ))
            }
        }
        "Pending" => {
            let unschedulable = conditions(object).any(|c| {
                c.type_ == "PodScheduled" && c.status == "False" && c.reason == "Unschedulable"
            });
            if !unschedulable {
                return HealthResult::in_progress("Pod is in the Pending phase");
            }
            let created = str_at(object, "/metadata/creationTimestamp", "")
                .parse::<Timestamp>()
                .unwrap_or(now);
            if now.duration_since(created) <= SCHEDULE_WINDOW {
                HealthResult::in_progress("Pod has not been scheduled")
            } else {
                HealthResult::failed("Pod could not be scheduled")
            }
        }
        "" => HealthResult::in_progress("Pod phase not available"),
        phase => HealthResult::new(Status::Unknown, format!("unknown phase {phase}")),
    }
}

fn crash_looping_containers(object: &Value) -> Vec<&str> {
    object
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|status| {
            status
                .pointer("/state/waiting/reason")
                .and_then(Value::as_str)
                == Some("CrashLoopBackOff")
        })
        .filter_map(|status| status.get("name").and_then(Value::as_str))
        .collect()
}

/// Flux's Job reader: `Current` only once complete (or suspended), `Failed` on failure.
fn job(object: &Value) -> HealthResult {
    if object.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        return HealthResult::current("Job is suspended");
    }
    let parallelism = int_at(object, "/spec/parallelism", 1);
    let completions = int_at(object, "/spec/completions", parallelism);
    let active = int_at(object, "/status/active", 0);
    let succeeded = int_at(object, "/status/succeeded", 0);
    let failed = int_at(object, "/status/failed", 0);
    for condition in conditions(object) {
        match (condition.type_, condition.status) {
            ("Complete", "True") => {
                return HealthResult::current(format!(
                    "Job Completed. succeeded: {succeeded}/{completions}"
                ));
            }
            ("Failed", "True") => {
                return HealthResult::failed(format!("Job Failed. failed: {failed}/{completions}"));
            }
            _ => {}
        }
    }
    if str_at(object, "/status/startTime", "").is_empty() {
        return HealthResult::in_progress(format!("Job not started. active: 0/{parallelism}"));
    }
    HealthResult::in_progress(format!(
        "Job in progress. success:{succeeded}, active: {active}, failed: {failed}"
    ))
}

fn service(object: &Value) -> HealthResult {
    // Like kstatus, a LoadBalancer is healthy once it has a cluster IP: waiting for an
    // external address would hang on clusters without a load-balancer implementation.
    let load_balancer = str_at(object, "/spec/type", "ClusterIP") == "LoadBalancer";
    if load_balancer && str_at(object, "/spec/clusterIP", "").is_empty() {
        return HealthResult::in_progress("ClusterIP not set. Service type: LoadBalancer");
    }
    HealthResult::current("Service is ready")
}

fn persistent_volume_claim(object: &Value) -> HealthResult {
    match str_at(object, "/status/phase", "unknown") {
        "Bound" => HealthResult::current("PVC is Bound"),
        phase => HealthResult::in_progress(format!("PVC is not Bound. phase: {phase}")),
    }
}

fn namespace(object: &Value) -> HealthResult {
    match str_at(object, "/status/phase", "Active") {
        "Terminating" => HealthResult::new(Status::Terminating, "Namespace is terminating"),
        _ => HealthResult::current("Resource is current"),
    }
}

fn custom_resource_definition(object: &Value) -> HealthResult {
    for condition in conditions(object) {
        match (condition.type_, condition.status) {
            ("NamesAccepted", "False") => return HealthResult::failed(condition.message),
            ("Established", "False") if condition.reason != "Installing" => {
                return HealthResult::failed(condition.message);
            }
            ("Established", "True") => return HealthResult::current("CRD is established"),
            _ => {}
        }
    }
    HealthResult::in_progress("Install in progress")
}
