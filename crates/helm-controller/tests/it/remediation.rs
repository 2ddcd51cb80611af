//! Helm tests, remediation (rollback, uninstall), dependsOn and the generated HelmChart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ferroflux_api::meta::ConditionStatus;
use ferroflux_api::source::v1::HelmChart;
use ferroflux_testkit::wait_for;
use helm_controller::storage::SecretStorage;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::harness::Harness;

/// A chart with a ConfigMap and optional test hooks: a Job (which kwok completes) and a
/// bare Pod (which kwok never completes, so the test times out and fails).
fn tested_chart(root: &Path) -> PathBuf {
    let chart = root.join("tested");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: tested\nversion: 1.0.0\nappVersion: \"1.0\"\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("values.yaml"),
        "value: one\ntestPass: true\ntestFail: false\n",
    )
    .unwrap();
    std::fs::write(chart.join("templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  value: {{ .Values.value | quote }}\n").unwrap();
    std::fs::write(
        chart.join("templates/test-job.yaml"),
        "{{- if .Values.testPass }}\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ .Release.Name }}-test-pass\n  annotations:\n    helm.sh/hook: test\n    helm.sh/hook-delete-policy: before-hook-creation\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: t\n        image: busybox\n{{- end }}\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/test-pod.yaml"),
        "{{- if .Values.testFail }}\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-test-fail\n  annotations:\n    helm.sh/hook: test\nspec:\n  restartPolicy: Never\n  containers:\n  - name: t\n    image: busybox\n{{- end }}\n",
    )
    .unwrap();
    chart
}

async fn config_value(h: &Harness, name: &str) -> Option<String> {
    let api: Api<ConfigMap> = Api::namespaced(h.client.clone(), h.ns());
    api.get_opt(name)
        .await
        .unwrap()
        .and_then(|c| c.data)
        .and_then(|d| d.get("value").cloned())
}

fn condition(
    object: &ferroflux_api::helm::v2::HelmRelease,
    kind: &str,
) -> Option<ferroflux_api::meta::Condition> {
    object
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind)
        .cloned()
}

#[tokio::test]
async fn failed_tests_after_upgrade_roll_back() {
    let h = Harness::start("hc-rollback").await;
    h.publish_chart("tested", &tested_chart(h.dir.path())).await;
    h.create(
        "app",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "tested"},
               "test": {"enable": true, "timeout": "3s"},
               "upgrade": {"remediation": {"retries": 1}}}),
    )
    .await;
    let object = h
        .wait_ready("app", ConditionStatus::True, "Helm test succeeded")
        .await;
    assert_eq!(condition(&object, "Ready").unwrap().reason, "TestSucceeded");
    let snapshot = &object.status.as_ref().unwrap().history.as_ref().unwrap()[0];
    assert_eq!(
        snapshot.test_hooks.as_ref().unwrap()["app-test-pass"]
            .phase
            .as_deref(),
        Some("Succeeded")
    );

    h.releases()
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"values": {"value": "two", "testFail": true}}})),
        )
        .await
        .unwrap();
    let object = h
        .wait_ready(
            "app",
            ConditionStatus::False,
            "Helm rollback to previous release",
        )
        .await;
    let remediated = condition(&object, "Remediated").unwrap();
    assert_eq!(remediated.reason, "RollbackSucceeded");
    assert_eq!(
        condition(&object, "TestSuccess").unwrap().reason,
        "TestFailed"
    );
    assert_eq!(config_value(&h, "app").await.as_deref(), Some("one"));
    let history = h.history("app");
    assert_eq!(history.last().unwrap()["description"], "Rollback to 1");
    assert_eq!(history.last().unwrap()["status"], "deployed");
}

#[tokio::test]
async fn failed_tests_after_install_uninstall() {
    let h = Harness::start("hc-uninstall").await;
    h.publish_chart("tested", &tested_chart(h.dir.path())).await;
    h.create(
        "app",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "tested"},
               "values": {"testFail": true},
               "test": {"enable": true, "timeout": "3s"},
               "install": {"remediation": {"retries": 0, "remediateLastFailure": true}}}),
    )
    .await;
    let object = h
        .wait_ready("app", ConditionStatus::False, "Helm uninstall remediation")
        .await;
    assert_eq!(
        condition(&object, "Remediated").unwrap().reason,
        "UninstallSucceeded"
    );
    assert!(
        SecretStorage::new(h.client.clone(), h.ns())
            .last("app")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(object.status.unwrap().install_failures, Some(1));
    // Out of retries: Stalled says why it stops (Flux's RetriesExceeded), Ready keeps the
    // remediation's summary.
    let stalled =
        ferroflux_testkit::wait_for_value(Duration::from_secs(30), "Stalled=True", || async {
            let object = h.releases().get("app").await.ok()?;
            let stalled = condition(&object, "Stalled")?;
            (stalled.status == ConditionStatus::True).then_some((object.clone(), stalled))
        })
        .await;
    assert_eq!(stalled.1.reason, "RetriesExceeded");
    assert_eq!(stalled.1.message, "Failed to install after 1 attempt(s)");
    assert_eq!(
        condition(&stalled.0, "Ready").unwrap().reason,
        "UninstallSucceeded"
    );
}

#[tokio::test]
async fn waits_for_dependencies() {
    let h = Harness::start("hc-deps").await;
    h.publish_chart("tested", &tested_chart(h.dir.path())).await;
    h.create(
        "second",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "tested"}, "dependsOn": [{"name": "first"}]}),
    )
    .await;
    let object = h
        .wait_ready("second", ConditionStatus::False, "dependency")
        .await;
    assert_eq!(
        condition(&object, "Ready").unwrap().reason,
        "DependencyNotReady"
    );
    assert!(config_value(&h, "second").await.is_none());
    h.create(
        "first",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "tested"}}),
    )
    .await;
    h.wait_ready("first", ConditionStatus::True, "first.v1")
        .await;
    h.wait_ready("second", ConditionStatus::True, "second.v1")
        .await;
    assert_eq!(config_value(&h, "second").await.as_deref(), Some("one"));

    // `readyExpr`: CEL over the dependent (`self`) and the dependency (`dep`).
    h.create(
        "third",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "tested"},
               "dependsOn": [{"name": "first", "readyExpr": "dep.status.history.exists(s, s.status == 'deployed') && self.metadata.name == 'third'"}]}),
    )
    .await;
    h.wait_ready("third", ConditionStatus::True, "third.v1")
        .await;
    h.create(
        "fourth",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "tested"},
               "dependsOn": [{"name": "first", "readyExpr": "dep.metadata.name == 'other'"}]}),
    )
    .await;
    let object = h
        .wait_ready("fourth", ConditionStatus::False, "readyExpr")
        .await;
    assert_eq!(
        condition(&object, "Ready").unwrap().reason,
        "DependencyNotReady"
    );
    h.create(
        "fifth",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "tested"},
               "dependsOn": [{"name": "first", "readyExpr": "dep.status =="}]}),
    )
    .await;
    let object = h
        .wait_ready("fifth", ConditionStatus::False, "terminally")
        .await;
    assert_eq!(
        condition(&object, "Ready").unwrap().reason,
        "InvalidCELExpression"
    );
    assert_eq!(
        condition(&object, "Stalled").unwrap().reason,
        "InvalidCELExpression"
    );
}

#[tokio::test]
async fn creates_the_helm_chart_of_chart_spec() {
    let h = Harness::start("hc-spec").await;
    h.create(
        "app",
        json!({"interval": "10m", "chart": {"spec": {"chart": "tested", "version": "1.x", "sourceRef": {"kind": "HelmRepository", "name": "repo"}},
               "metadata": {"labels": {"team": "a"}}}}),
    )
    .await;
    let name = format!("{}-app", h.ns());
    let charts: Api<HelmChart> = Api::namespaced(h.client.clone(), h.ns());
    let chart = ferroflux_testkit::wait_for_value(
        Duration::from_secs(30),
        "the generated HelmChart",
        || async { charts.get_opt(&name).await.ok().flatten() },
    )
    .await;
    assert_eq!(chart.spec.chart, "tested");
    assert_eq!(chart.spec.version.as_deref(), Some("1.x"));
    assert_eq!(chart.spec.interval, "10m");
    assert_eq!(chart.spec.source_ref.name, "repo");
    let labels = chart.metadata.labels.clone().unwrap();
    assert_eq!(labels["helm.toolkit.fluxcd.io/name"], "app");
    assert_eq!(labels["helm.toolkit.fluxcd.io/namespace"], h.ns());
    assert_eq!(labels["team"], "a");
    let object = h
        .wait_ready("app", ConditionStatus::False, "is not ready")
        .await;
    assert_eq!(
        condition(&object, "Ready").unwrap().reason,
        "SourceNotReady"
    );
    assert_eq!(
        object.status.unwrap().helm_chart,
        Some(format!("{}/{name}", h.ns()))
    );

    // Stand-in for the source-controller: the artifact of the generated HelmChart.
    h.publish_chart(&name, &tested_chart(h.dir.path())).await;
    h.wait_ready("app", ConditionStatus::True, "app.v1").await;

    // Deleting the HelmRelease uninstalls and deletes the HelmChart.
    h.releases()
        .delete("app", &kube::api::DeleteParams::default())
        .await
        .unwrap();
    wait_for(Duration::from_secs(60), "HelmChart deleted", || async {
        charts.get_opt(&name).await.unwrap().is_none()
    })
    .await;
}
