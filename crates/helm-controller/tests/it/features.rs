//! Drift correction, values schema violations, failing hooks, maxHistory and valuesFrom.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferroflux_api::meta::ConditionStatus;
use ferroflux_testkit::wait_for;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Secret};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::harness::{Harness, podinfo};

/// A chart with a ConfigMap of `.Values.value`, a values schema (value: string) and an
/// optional pre-upgrade hook Pod that kwok never completes.
fn chart(root: &Path) -> PathBuf {
    let chart = root.join("features");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: features\nversion: 0.2.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("values.yaml"),
        "value: one\nnested:\n  a: default\nhangHook: false\nextra: false\nhangPostHook: false\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("values.schema.json"),
        r#"{"type": "object", "properties": {"value": {"type": "string"}}}"#,
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  value: {{ .Values.value | quote }}\n  nested: {{ .Values.nested.a | quote }}\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/hook.yaml"),
        "{{- if .Values.hangHook }}\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n    helm.sh/hook: pre-upgrade\nspec:\n  containers:\n  - name: h\n    image: busybox\n{{- end }}\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/extra.yaml"),
        "{{- if .Values.extra }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra\n{{- end }}\n{{- if .Values.hangPostHook }}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-post\n  annotations:\n    helm.sh/hook: post-upgrade\nspec:\n  containers:\n  - name: h\n    image: busybox\n{{- end }}\n",
    )
    .unwrap();
    chart
}

async fn data(h: &Harness, name: &str) -> BTreeMap<String, String> {
    let api: Api<ConfigMap> = Api::namespaced(h.client.clone(), h.ns());
    api.get(name).await.unwrap().data.unwrap_or_default()
}

async fn has_event(h: &Harness, reason: &str, kind: &str) -> bool {
    let events: Api<Event> = Api::namespaced(h.client.clone(), h.ns());
    events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .any(|e| e.reason.as_deref() == Some(reason) && e.type_.as_deref() == Some(kind))
}

async fn set_values(h: &Harness, name: &str, values: serde_json::Value) {
    h.releases()
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"values": values}})),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn corrects_drift() {
    let h = Harness::start("hc-drift").await;
    h.publish_chart("podinfo", &podinfo()).await;
    h.create(
        "podinfo",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "podinfo"},
               "driftDetection": {"mode": "enabled"}}),
    )
    .await;
    let object = h
        .wait_ready("podinfo", ConditionStatus::True, "podinfo.v1")
        .await;
    let drifted = object
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Drifted")
        .unwrap();
    assert_eq!(drifted.reason, "NoDriftDetected");

    let deployments: Api<Deployment> = Api::namespaced(h.client.clone(), h.ns());
    let params = PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..PatchParams::default()
    };
    deployments
        .patch(
            "podinfo",
            &params,
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    h.releases()
        .patch(
            "podinfo",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "drift"}}}),
            ),
        )
        .await
        .unwrap();
    wait_for(Duration::from_secs(60), "replicas reverted", || async {
        deployments
            .get("podinfo")
            .await
            .unwrap()
            .spec
            .unwrap()
            .replicas
            == Some(1)
    })
    .await;
    wait_for(
        Duration::from_secs(30),
        "DriftDetected and DriftCorrected events",
        || async {
            has_event(&h, "DriftDetected", "Warning").await
                && has_event(&h, "DriftCorrected", "Normal").await
        },
    )
    .await;
    assert_eq!(
        h.history("podinfo").len(),
        1,
        "drift correction makes no new revision"
    );
}

#[tokio::test]
async fn bad_upgrades_leave_the_previous_release() {
    let h = Harness::start("hc-badup").await;
    h.publish_chart("features", &chart(h.dir.path())).await;
    h.create(
        "app",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "features"}, "timeout": "3s"}),
    )
    .await;
    h.wait_ready("app", ConditionStatus::True, "app.v1").await;

    // A values schema violation: nothing is released.
    set_values(&h, "app", json!({"value": 5})).await;
    let object = h
        .wait_ready("app", ConditionStatus::False, "Helm upgrade failed")
        .await;
    let ready = object
        .status
        .as_ref()
        .unwrap()
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap()
        .clone();
    assert_eq!(ready.reason, "UpgradeFailed");
    assert!(ready.message.contains("value"), "{}", ready.message);
    wait_for(
        Duration::from_secs(30),
        "a Warning UpgradeFailed event",
        || has_event(&h, "UpgradeFailed", "Warning"),
    )
    .await;
    assert_eq!(h.history("app").len(), 1);
    assert_eq!(data(&h, "app").await["value"], "one");

    // A pre-upgrade hook that never completes: revision 2 fails, revision 1 stays deployed.
    set_values(&h, "app", json!({"value": "two", "hangHook": true})).await;
    h.wait_ready("app", ConditionStatus::False, "pre-upgrade hooks failed")
        .await;
    let history = h.history("app");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["status"], "deployed");
    assert_eq!(history[1]["status"], "failed");
    assert_eq!(data(&h, "app").await["value"], "one");
}

#[tokio::test]
async fn max_history_and_values_from() {
    let h = Harness::start("hc-values").await;
    h.publish_chart("features", &chart(h.dir.path())).await;
    let configmaps: Api<ConfigMap> = Api::namespaced(h.client.clone(), h.ns());
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "vals"}, "data": {"values.yaml": "value: from-configmap\nnested:\n  a: from-configmap\n"}})).unwrap();
    configmaps
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    let secrets: Api<Secret> = Api::namespaced(h.client.clone(), h.ns());
    let secret: Secret = serde_json::from_value(
        json!({"metadata": {"name": "nested"}, "stringData": {"a": "from-secret"}}),
    )
    .unwrap();
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    h.create(
        "app",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "features"}, "maxHistory": 2,
               "valuesFrom": [
                   {"kind": "ConfigMap", "name": "vals"},
                   {"kind": "Secret", "name": "nested", "valuesKey": "a", "targetPath": "nested.a"},
                   {"kind": "ConfigMap", "name": "missing", "optional": true}
               ]}),
    )
    .await;
    h.wait_ready("app", ConditionStatus::True, "app.v1").await;
    let values = data(&h, "app").await;
    assert_eq!(values["value"], "from-configmap");
    assert_eq!(values["nested"], "from-secret");

    for (i, value) in ["a", "b", "c"].iter().enumerate() {
        set_values(&h, "app", json!({"value": value})).await;
        h.wait_ready("app", ConditionStatus::True, &format!("app.v{}", i + 2))
            .await;
    }
    assert_eq!(data(&h, "app").await["value"], "c");
    let history = h.history("app");
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[1]["revision"], 4);

    // A required valuesFrom that does not exist.
    h.releases()
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"valuesFrom": [{"kind": "Secret", "name": "absent"}]}})),
        )
        .await
        .unwrap();
    let object = h.wait_ready("app", ConditionStatus::False, "absent").await;
    let ready = object
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.reason, "ValuesError");
}

#[tokio::test]
async fn post_renderers_patch_and_label() {
    let h = Harness::start("hc-postrender").await;
    h.publish_chart("features", &chart(h.dir.path())).await;
    h.create(
        "app",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "features"},
               "commonMetadata": {"labels": {"team": "blue"}},
               "postRenderers": [{"kustomize": {"patches": [{
                   "target": {"kind": "ConfigMap"},
                   "patch": "- op: add\n  path: /data/patched\n  value: \"yes\"\n"}]}}]}),
    )
    .await;
    h.wait_ready("app", ConditionStatus::True, "app.v1").await;
    let api: Api<ConfigMap> = Api::namespaced(h.client.clone(), h.ns());
    let cm = api.get("app").await.unwrap();
    assert_eq!(cm.data.unwrap()["patched"], "yes");
    let labels = cm.metadata.labels.unwrap();
    assert_eq!(labels["team"], "blue");
    assert_eq!(labels["helm.toolkit.fluxcd.io/name"], "app");

    // Changing only the post-renderers upgrades the release.
    h.releases()
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"commonMetadata": {"labels": {"team": "green"}}}})),
        )
        .await
        .unwrap();
    h.wait_ready("app", ConditionStatus::True, "app.v2").await;
    assert_eq!(
        api.get("app").await.unwrap().metadata.labels.unwrap()["team"],
        "green"
    );
}

#[tokio::test]
async fn cleanup_on_fail_deletes_what_the_failed_upgrade_added() {
    let h = Harness::start("hc-cleanup").await;
    h.publish_chart("features", &chart(h.dir.path())).await;
    h.create(
        "app",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "features"},
               "timeout": "3s", "upgrade": {"cleanupOnFail": true}}),
    )
    .await;
    h.wait_ready("app", ConditionStatus::True, "app.v1").await;
    let config_maps: Api<ConfigMap> = Api::namespaced(h.client.clone(), h.ns());

    // The upgrade applies a new ConfigMap, then its post-upgrade hook never completes.
    set_values(&h, "app", json!({"extra": true, "hangPostHook": true})).await;
    h.wait_ready("app", ConditionStatus::False, "post-upgrade hooks failed")
        .await;
    let history = h.history("app");
    assert_eq!(history[1]["status"], "failed");
    assert!(
        config_maps.get_opt("app-extra").await.unwrap().is_none(),
        "the ConfigMap the failed upgrade created is deleted again"
    );
    assert!(config_maps.get_opt("app").await.unwrap().is_some());
}

#[tokio::test]
async fn labelled_values_sources_trigger_an_upgrade() {
    let h = Harness::start("hc-watch").await;
    h.publish_chart("features", &chart(h.dir.path())).await;
    let configmaps: Api<ConfigMap> = Api::namespaced(h.client.clone(), h.ns());
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "vals", "labels": {"reconcile.fluxcd.io/watch": "Enabled"}},
        "data": {"values.yaml": "value: first\n"}
    }))
    .unwrap();
    configmaps
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    h.create(
        "app",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "features"},
               "valuesFrom": [{"kind": "ConfigMap", "name": "vals"}]}),
    )
    .await;
    h.wait_ready("app", ConditionStatus::True, "app.v1").await;
    assert_eq!(data(&h, "app").await["value"], "first");

    // The interval is an hour: only the watch on the labelled ConfigMap brings the change.
    configmaps
        .patch(
            "vals",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"values.yaml": "value: second\n"}})),
        )
        .await
        .unwrap();
    h.wait_ready("app", ConditionStatus::True, "app.v2").await;
    assert_eq!(data(&h, "app").await["value"], "second");
}

#[tokio::test]
async fn health_check_exprs_judge_the_release_objects() {
    let h = Harness::start("hc-cel").await;
    h.publish_chart("features", &chart(h.dir.path())).await;
    // The chart's ConfigMap is healthy by kstatus, but the expression says it failed.
    h.create(
        "app",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "features"},
               "timeout": "10s",
               "healthCheckExprs": [{"apiVersion": "v1", "kind": "ConfigMap",
                                     "failed": "data.value == 'one'", "current": "data.value != 'one'"}]}),
    )
    .await;
    let object = h
        .wait_ready("app", ConditionStatus::False, "status: 'Failed'")
        .await;
    let ready = object
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready").cloned())
        .unwrap();
    assert_eq!(ready.reason, "InstallFailed", "{}", ready.message);

    // An expression that does not compile stalls the release.
    h.create(
        "broken",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "features"},
               "healthCheckExprs": [{"apiVersion": "v1", "kind": "ConfigMap", "current": "data.value =="}]}),
    )
    .await;
    let object = h
        .wait_ready("broken", ConditionStatus::False, "healthchecks[0]")
        .await;
    let stalled = object
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Stalled").cloned())
        .unwrap();
    assert_eq!(stalled.reason, "InvalidCELExpression");
}
