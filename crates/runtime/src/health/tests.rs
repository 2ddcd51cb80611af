use jiff::Timestamp;
use rstest::rstest;
use serde_json::{Value, json};

use super::{HealthResult, Status, compute, compute_at, compute_with};

const NOW: &str = "2026-01-01T00:10:00Z";

fn object(api_version: &str, kind: &str, spec: Value, status: Value) -> Value {
    let mut object = json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x", "namespace": "ns", "creationTimestamp": "2026-01-01T00:00:00Z"},
    });
    object["spec"] = spec;
    object["status"] = status;
    object
}

fn condition(type_: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({"type": type_, "status": status, "reason": reason, "message": message})
}

fn health(object: &Value) -> HealthResult {
    compute_at(
        object,
        None,
        NOW.parse::<Timestamp>().expect("NOW is a timestamp"),
    )
}

fn assert_health(object: &Value, status: Status, message: &str) {
    let result = health(object);
    assert_eq!(
        (result.status, result.message.as_str()),
        (status, message),
        "{object:#}"
    );
}

#[rstest]
#[case::terminating(json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z", "generation": 2}, "status": {"observedGeneration": 1}}), Status::Terminating, "Resource scheduled for deletion")]
#[case::empty_deletion_timestamp(json!({"metadata": {"deletionTimestamp": ""}}), Status::Current, "Resource is current")]
#[case::generation_unobserved(json!({"metadata": {"generation": 3}, "status": {"observedGeneration": 2}}), Status::InProgress, "Widget generation is 3, but latest observed generation is 2")]
#[case::generation_observed(json!({"metadata": {"generation": 3}, "status": {"observedGeneration": 3}}), Status::Current, "Resource is current")]
#[case::no_observed_generation(json!({"metadata": {"generation": 3}, "status": {}}), Status::Current, "Resource is current")]
#[case::reconciling(json!({"status": {"conditions": [condition("Reconciling", "True", "Progressing", "Fetching manifests")]}}), Status::InProgress, "Fetching manifests")]
#[case::reconciling_false(json!({"status": {"conditions": [condition("Reconciling", "False", "Done", "")]}}), Status::Current, "Resource is current")]
#[case::stalled(json!({"status": {"conditions": [condition("Stalled", "True", "InvalidPath", "path not found")]}}), Status::Failed, "path not found")]
#[case::stalled_wins_over_ready(json!({"status": {"conditions": [condition("Ready", "True", "Ok", ""), condition("Stalled", "True", "Broken", "broken")]}}), Status::Failed, "broken")]
#[case::reconciling_before_stalled(json!({"status": {"conditions": [condition("Reconciling", "True", "P", "working"), condition("Stalled", "True", "S", "stuck")]}}), Status::InProgress, "working")]
#[case::ready_true(json!({"status": {"conditions": [condition("Ready", "True", "Succeeded", "ok")]}}), Status::Current, "Resource is Ready")]
#[case::ready_false(json!({"status": {"conditions": [condition("Ready", "False", "ArtifactFailed", "fetch failed")]}}), Status::InProgress, "fetch failed")]
#[case::ready_unknown(json!({"status": {"conditions": [condition("Ready", "Unknown", "Progressing", "reconciling")]}}), Status::InProgress, "reconciling")]
#[case::other_conditions_only(json!({"status": {"conditions": [condition("Synced", "False", "x", "y")]}}), Status::Current, "Resource is current")]
#[case::no_status(json!({}), Status::Current, "Resource is current")]
#[case::malformed_conditions(json!({"status": {"conditions": "nope"}}), Status::Current, "Resource is current")]
fn generic_rules(#[case] overlay: Value, #[case] status: Status, #[case] message: &str) {
    let mut object =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    merge(&mut object, overlay);
    assert_health(&object, status, message);
}

fn merge(target: &mut Value, overlay: Value) {
    match (target, overlay) {
        (Value::Object(target), Value::Object(overlay)) => {
            for (key, value) in overlay {
                merge(target.entry(key).or_insert(Value::Null), value);
            }
        }
        (target, overlay) => *target = overlay,
    }
}

fn deployment(spec: Value, status: Value) -> Value {
    object("apps/v1", "Deployment", spec, status)
}

fn available_conditions() -> Value {
    json!([
        condition("Progressing", "True", "NewReplicaSetAvailable", ""),
        condition("Available", "True", "MinimumReplicasAvailable", ""),
    ])
}

#[rstest]
#[case::available(json!({"replicas": 2, "progressDeadlineSeconds": 600}), json!({"replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2, "conditions": available_conditions()}), Status::Current, "Deployment is available. Replicas: 2")]
#[case::default_one_replica(json!({"progressDeadlineSeconds": 600}), json!({"replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1, "conditions": available_conditions()}), Status::Current, "Deployment is available. Replicas: 1")]
#[case::too_few_replicas(json!({"replicas": 3}), json!({"replicas": 1}), Status::InProgress, "Replicas: 1/3")]
#[case::too_few_updated(json!({"replicas": 3}), json!({"replicas": 3, "updatedReplicas": 2}), Status::InProgress, "Updated: 2/3")]
#[case::pending_termination(json!({"replicas": 2}), json!({"replicas": 3, "updatedReplicas": 2}), Status::InProgress, "Pending termination: 1")]
#[case::too_few_available(json!({"replicas": 2}), json!({"replicas": 2, "updatedReplicas": 2, "availableReplicas": 1, "readyReplicas": 2}), Status::InProgress, "Available: 1/2")]
#[case::too_few_ready(json!({"replicas": 2}), json!({"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2, "readyReplicas": 1}), Status::InProgress, "Ready: 1/2")]
#[case::replica_set_not_available(json!({"replicas": 1, "progressDeadlineSeconds": 600}), json!({"replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1, "conditions": [condition("Progressing", "True", "ReplicaSetUpdated", ""), condition("Available", "True", "", "")]}), Status::InProgress, "ReplicaSet not Available")]
#[case::not_available(json!({"replicas": 1, "progressDeadlineSeconds": 600}), json!({"replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1, "conditions": [condition("Progressing", "True", "NewReplicaSetAvailable", ""), condition("Available", "False", "MinimumReplicasUnavailable", "")]}), Status::InProgress, "Deployment not Available")]
#[case::no_deadline_counts_as_progressing(json!({"replicas": 1}), json!({"replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1, "conditions": [condition("Available", "True", "", "")]}), Status::Current, "Deployment is available. Replicas: 1")]
#[case::deadline_exceeded(json!({"replicas": 1, "progressDeadlineSeconds": 600}), json!({"replicas": 1, "conditions": [condition("Progressing", "False", "ProgressDeadlineExceeded", "timed out")]}), Status::Failed, "Progress deadline exceeded")]
#[case::scaled_to_zero(json!({"replicas": 0}), json!({"conditions": [condition("Available", "True", "", "")]}), Status::Current, "Deployment is available. Replicas: 0")]
fn deployments(
    #[case] spec: Value,
    #[case] status: Value,
    #[case] expected: Status,
    #[case] message: &str,
) {
    assert_health(&deployment(spec, status), expected, message);
}

#[test]
fn deployment_generation_is_checked_first() {
    let mut object = deployment(json!({"replicas": 1}), json!({"observedGeneration": 1}));
    object["metadata"]["generation"] = json!(2);
    assert_health(
        &object,
        Status::InProgress,
        "Deployment generation is 2, but latest observed generation is 1",
    );
}

#[test]
fn extensions_deployment_uses_deployment_rules() {
    let object = object(
        "extensions/v1beta1",
        "Deployment",
        json!({"replicas": 2}),
        json!({}),
    );
    assert_health(&object, Status::InProgress, "Replicas: 0/2");
}

#[rstest]
#[case::ready(json!({"replicas": 2}), json!({"replicas": 2, "readyReplicas": 2, "currentReplicas": 2, "updatedReplicas": 2, "currentRevision": "r1", "updateRevision": "r1"}), Status::Current, "All replicas scheduled as expected. Replicas: 2")]
#[case::on_delete(json!({"replicas": 2, "updateStrategy": {"type": "OnDelete"}}), json!({}), Status::Current, "StatefulSet is using the ondelete update strategy")]
#[case::too_few_replicas(json!({"replicas": 3}), json!({"replicas": 2}), Status::InProgress, "Replicas: 2/3")]
#[case::too_few_ready(json!({"replicas": 3}), json!({"replicas": 3, "readyReplicas": 1}), Status::InProgress, "Ready: 1/3")]
#[case::pending_termination(json!({"replicas": 1}), json!({"replicas": 2, "readyReplicas": 2}), Status::InProgress, "Pending termination: 1")]
#[case::partition_rolling(json!({"replicas": 4, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}), json!({"replicas": 4, "readyReplicas": 4, "updatedReplicas": 1}), Status::InProgress, "updated: 1/2")]
#[case::partition_done(json!({"replicas": 4, "updateStrategy": {"rollingUpdate": {"partition": 2}}}), json!({"replicas": 4, "readyReplicas": 4, "updatedReplicas": 2, "currentRevision": "a", "updateRevision": "b"}), Status::Current, "Partition rollout complete. updated: 2")]
#[case::too_few_current(json!({"replicas": 2}), json!({"replicas": 2, "readyReplicas": 2, "currentReplicas": 1}), Status::InProgress, "current: 1/2")]
#[case::revision_mismatch(json!({"replicas": 1}), json!({"replicas": 1, "readyReplicas": 1, "currentReplicas": 1, "currentRevision": "a", "updateRevision": "b"}), Status::InProgress, "Waiting for updated revision to match current")]
fn stateful_sets(
    #[case] spec: Value,
    #[case] status: Value,
    #[case] expected: Status,
    #[case] message: &str,
) {
    assert_health(
        &object("apps/v1", "StatefulSet", spec, status),
        expected,
        message,
    );
}

fn daemon_set(status: Value) -> Value {
    let mut object = object("apps/v1", "DaemonSet", json!({}), status);
    object["metadata"]["generation"] = json!(1);
    object
}

#[rstest]
#[case::ready(json!({"observedGeneration": 1, "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 2, "numberReady": 2}), Status::Current, "All replicas scheduled as expected. Replicas: 2")]
#[case::no_observed_generation(json!({"desiredNumberScheduled": 2}), Status::InProgress, "DaemonSet status.observedGeneration not found")]
#[case::no_desired(json!({"observedGeneration": 1}), Status::InProgress, "Missing .status.desiredNumberScheduled")]
#[case::too_few_current(json!({"observedGeneration": 1, "desiredNumberScheduled": 2, "currentNumberScheduled": 1}), Status::InProgress, "Current: 1/2")]
#[case::too_few_updated(json!({"observedGeneration": 1, "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "updatedNumberScheduled": 0}), Status::InProgress, "Updated: 0/2")]
#[case::too_few_available(json!({"observedGeneration": 1, "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 1}), Status::InProgress, "Available: 1/2")]
#[case::too_few_ready(json!({"observedGeneration": 1, "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 2, "numberReady": 0}), Status::InProgress, "Ready: 0/2")]
#[case::nothing_to_schedule(json!({"observedGeneration": 1, "desiredNumberScheduled": 0}), Status::Current, "All replicas scheduled as expected. Replicas: 0")]
fn daemon_sets(#[case] status: Value, #[case] expected: Status, #[case] message: &str) {
    assert_health(&daemon_set(status), expected, message);
}

#[test]
fn daemon_set_without_generation_is_in_progress() {
    let object = object(
        "apps/v1",
        "DaemonSet",
        json!({}),
        json!({"observedGeneration": 1}),
    );
    assert_health(
        &object,
        Status::InProgress,
        "DaemonSet metadata.generation not found",
    );
}

#[rstest]
#[case::ready(json!({"replicas": 2}), json!({"replicas": 2, "fullyLabeledReplicas": 2, "availableReplicas": 2, "readyReplicas": 2}), Status::Current, "ReplicaSet is available. Replicas: 2")]
#[case::replica_failure(json!({"replicas": 2}), json!({"conditions": [condition("ReplicaFailure", "True", "FailedCreate", "quota")]}), Status::InProgress, "Replica Failure condition. Check Pods")]
#[case::too_few_labelled(json!({"replicas": 2}), json!({"fullyLabeledReplicas": 1}), Status::InProgress, "Labelled: 1/2")]
#[case::too_few_available(json!({"replicas": 2}), json!({"fullyLabeledReplicas": 2, "availableReplicas": 1}), Status::InProgress, "Available: 1/2")]
#[case::too_few_ready(json!({"replicas": 2}), json!({"fullyLabeledReplicas": 2, "availableReplicas": 2, "readyReplicas": 1}), Status::InProgress, "Ready: 1/2")]
#[case::pending_termination(json!({"replicas": 1}), json!({"replicas": 2, "fullyLabeledReplicas": 2, "availableReplicas": 2, "readyReplicas": 2}), Status::InProgress, "Pending termination: 1")]
fn replica_sets(
    #[case] spec: Value,
    #[case] status: Value,
    #[case] expected: Status,
    #[case] message: &str,
) {
    assert_health(
        &object("apps/v1", "ReplicaSet", spec, status),
        expected,
        message,
    );
}

fn crash_looping() -> Value {
    json!([
        {"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
        {"name": "sidecar", "state": {"running": {}}},
        {"name": "init", "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
    ])
}

#[rstest]
#[case::succeeded(json!({"phase": "Succeeded"}), "2026-01-01T00:00:00Z", Status::Current, "Pod has completed successfully")]
#[case::failed(json!({"phase": "Failed"}), "2026-01-01T00:00:00Z", Status::Current, "Pod has completed, but not successfully")]
#[case::running_ready(json!({"phase": "Running", "conditions": [condition("Ready", "True", "", "")]}), "2026-01-01T00:00:00Z", Status::Current, "Pod is Ready")]
#[case::running_not_ready(json!({"phase": "Running", "conditions": [condition("Ready", "False", "", "")]}), "2026-01-01T00:00:00Z", Status::InProgress, "Pod is running but is not Ready")]
#[case::crash_loop(json!({"phase": "Running", "containerStatuses": crash_looping()}), "2026-01-01T00:00:00Z", Status::Failed, "Containers in CrashLoop state: app,init")]
#[case::pending(json!({"phase": "Pending"}), "2026-01-01T00:00:00Z", Status::InProgress, "Pod is in the Pending phase")]
#[case::unschedulable_new(json!({"phase": "Pending", "conditions": [condition("PodScheduled", "False", "Unschedulable", "0/1 nodes")]}), "2026-01-01T00:09:50Z", Status::InProgress, "Pod has not been scheduled")]
#[case::unschedulable_old(json!({"phase": "Pending", "conditions": [condition("PodScheduled", "False", "Unschedulable", "0/1 nodes")]}), "2026-01-01T00:00:00Z", Status::Failed, "Pod could not be scheduled")]
#[case::no_phase(json!({}), "2026-01-01T00:00:00Z", Status::InProgress, "Pod phase not available")]
#[case::unknown_phase(json!({"phase": "Lost"}), "2026-01-01T00:00:00Z", Status::Unknown, "unknown phase Lost")]
fn pods(
    #[case] status: Value,
    #[case] created: &str,
    #[case] expected: Status,
    #[case] message: &str,
) {
    let mut pod = object("v1", "Pod", json!({}), status);
    pod["metadata"]["creationTimestamp"] = json!(created);
    assert_health(&pod, expected, message);
}

#[rstest]
#[case::complete(json!({"completions": 2}), json!({"succeeded": 2, "startTime": "t", "conditions": [condition("Complete", "True", "", "")]}), Status::Current, "Job Completed. succeeded: 2/2")]
#[case::failed(json!({}), json!({"failed": 3, "startTime": "t", "conditions": [condition("Failed", "True", "BackoffLimitExceeded", "")]}), Status::Failed, "Job Failed. failed: 3/1")]
#[case::not_started(json!({"parallelism": 2}), json!({}), Status::InProgress, "Job not started. active: 0/2")]
#[case::running(json!({}), json!({"active": 1, "startTime": "t"}), Status::InProgress, "Job in progress. success:0, active: 1, failed: 0")]
#[case::suspended(json!({"suspend": true}), json!({}), Status::Current, "Job is suspended")]
#[case::complete_false_is_running(json!({}), json!({"active": 1, "startTime": "t", "conditions": [condition("Complete", "False", "", "")]}), Status::InProgress, "Job in progress. success:0, active: 1, failed: 0")]
fn jobs(
    #[case] spec: Value,
    #[case] status: Value,
    #[case] expected: Status,
    #[case] message: &str,
) {
    assert_health(&object("batch/v1", "Job", spec, status), expected, message);
}

#[rstest]
#[case::cluster_ip(json!({"type": "ClusterIP", "clusterIP": "10.0.0.1"}), Status::Current, "Service is ready")]
#[case::default_type(json!({}), Status::Current, "Service is ready")]
#[case::load_balancer_with_ip(json!({"type": "LoadBalancer", "clusterIP": "10.0.0.1"}), Status::Current, "Service is ready")]
#[case::load_balancer_without_ip(json!({"type": "LoadBalancer"}), Status::InProgress, "ClusterIP not set. Service type: LoadBalancer")]
fn services(#[case] spec: Value, #[case] expected: Status, #[case] message: &str) {
    assert_health(&object("v1", "Service", spec, json!({})), expected, message);
}

#[rstest]
#[case::bound(json!({"phase": "Bound"}), Status::Current, "PVC is Bound")]
#[case::pending(json!({"phase": "Pending"}), Status::InProgress, "PVC is not Bound. phase: Pending")]
#[case::no_phase(json!({}), Status::InProgress, "PVC is not Bound. phase: unknown")]
fn persistent_volume_claims(
    #[case] status: Value,
    #[case] expected: Status,
    #[case] message: &str,
) {
    let claim = object("v1", "PersistentVolumeClaim", json!({}), status);
    assert_health(&claim, expected, message);
}

#[rstest]
#[case::established(json!([condition("NamesAccepted", "True", "", ""), condition("Established", "True", "", "")]), Status::Current, "CRD is established")]
#[case::installing(json!([condition("Established", "False", "Installing", "installing")]), Status::InProgress, "Install in progress")]
#[case::no_conditions(json!([]), Status::InProgress, "Install in progress")]
#[case::names_rejected(json!([condition("NamesAccepted", "False", "ListKindConflict", "conflict")]), Status::Failed, "conflict")]
#[case::not_established(json!([condition("Established", "False", "Other", "broken")]), Status::Failed, "broken")]
fn custom_resource_definitions(
    #[case] conditions: Value,
    #[case] expected: Status,
    #[case] message: &str,
) {
    let crd = object(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        json!({}),
        json!({"conditions": conditions}),
    );
    assert_health(&crd, expected, message);
}

#[rstest]
#[case::secret("v1", "Secret", "Resource is always ready")]
#[case::config_map("v1", "ConfigMap", "Resource is always ready")]
#[case::cron_job("batch/v1", "CronJob", "Resource is always ready")]
#[case::pdb(
    "policy/v1",
    "PodDisruptionBudget",
    "AllowedDisruptions has been computed."
)]
#[case::namespace("v1", "Namespace", "Resource is current")]
#[case::service_account("v1", "ServiceAccount", "Resource is current")]
#[case::cluster_role("rbac.authorization.k8s.io/v1", "ClusterRole", "Resource is current")]
fn always_current(#[case] api_version: &str, #[case] kind: &str, #[case] message: &str) {
    assert_health(
        &object(api_version, kind, json!({}), json!({})),
        Status::Current,
        message,
    );
}

#[test]
fn terminating_namespace() {
    let namespace = object(
        "v1",
        "Namespace",
        json!({}),
        json!({"phase": "Terminating"}),
    );
    assert_health(&namespace, Status::Terminating, "Namespace is terminating");
}

#[test]
fn pdb_waits_for_observed_generation() {
    let mut pdb = object(
        "policy/v1",
        "PodDisruptionBudget",
        json!({}),
        json!({"observedGeneration": 1}),
    );
    pdb["metadata"]["generation"] = json!(2);
    assert_eq!(health(&pdb).status, Status::InProgress);
}

#[test]
fn same_kind_in_another_group_uses_generic_rules() {
    let custom = object(
        "example.com/v1",
        "Deployment",
        json!({"replicas": 5}),
        json!({"conditions": [condition("Ready", "True", "", "")]}),
    );
    assert_health(&custom, Status::Current, "Resource is Ready");
}

#[test]
fn custom_rule_decides_first() {
    let stalled = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "status": {"conditions": [condition("Stalled", "True", "x", "stuck")]}});
    let rule = |object: &Value| {
        (object["kind"] == "Widget").then(|| HealthResult::current("custom says so"))
    };
    assert_eq!(
        compute_with(&stalled, Some(&rule)),
        HealthResult::current("custom says so")
    );
    let abstain = |_: &Value| None;
    assert_eq!(
        compute_with(&stalled, Some(&abstain)).status,
        Status::Failed
    );
    assert_eq!(compute(&stalled).status, Status::Failed);
}

#[test]
fn status_names_match_kstatus() {
    let names: Vec<String> = [
        Status::InProgress,
        Status::Failed,
        Status::Current,
        Status::Terminating,
        Status::NotFound,
        Status::Unknown,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        names,
        [
            "InProgress",
            "Failed",
            "Current",
            "Terminating",
            "NotFound",
            "Unknown"
        ]
    );
}
