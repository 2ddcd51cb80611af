//! Install, upgrade, no-op, helm interop, bad input and uninstall on deletion.

use std::time::Duration;

use ferroflux_api::meta::ConditionStatus;
use ferroflux_testkit::wait_for;
use helm_controller::storage::SecretStorage;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;

use crate::harness::{Harness, helm, podinfo};

fn chart_ref() -> serde_json::Value {
    json!({"kind": "HelmChart", "name": "podinfo"})
}

#[tokio::test]
async fn installs_upgrades_and_uninstalls_podinfo() {
    let h = Harness::start("hc-podinfo").await;
    h.publish_chart("podinfo", &podinfo()).await;
    h.create(
        "podinfo",
        json!({"interval": "1h", "chartRef": chart_ref(), "values": {"replicaCount": 1}}),
    )
    .await;
    let object = h
        .wait_ready(
            "podinfo",
            ConditionStatus::True,
            "Helm install succeeded for release",
        )
        .await;
    let status = object.status.unwrap();
    assert_eq!(status.history.as_ref().unwrap()[0].version, 1);
    assert_eq!(status.history.as_ref().unwrap()[0].chart_version, "6.14.1");
    assert_eq!(status.storage_namespace.as_deref(), Some(h.ns()));

    // The Deployment is Available (kwok) and labelled as Helm and Flux do.
    let deployments: Api<Deployment> = Api::namespaced(h.client.clone(), h.ns());
    let deployment = deployments.get("podinfo").await.unwrap();
    let labels = deployment.metadata.labels.clone().unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "Helm");
    assert_eq!(labels["helm.toolkit.fluxcd.io/name"], "podinfo");
    assert_eq!(
        deployment.metadata.annotations.clone().unwrap()["meta.helm.sh/release-name"],
        "podinfo"
    );

    // The real helm CLI reads our storage.
    let history = h.history("podinfo");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["status"], "deployed");
    assert_eq!(history[0]["description"], "Install complete");
    assert!(helm(&["list", "-n", h.ns()]).contains("podinfo"));

    // A values change → revision 2.
    h.releases()
        .patch(
            "podinfo",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"values": {"replicaCount": 2}}})),
        )
        .await
        .unwrap();
    h.wait_ready("podinfo", ConditionStatus::True, "podinfo.v2")
        .await;
    let history = h.history("podinfo");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["status"], "superseded");
    assert_eq!(history[1]["status"], "deployed");
    assert!(helm(&["get", "values", "podinfo", "-n", h.ns()]).contains("replicaCount: 2"));

    // No change → no new revision.
    h.releases()
        .patch(
            "podinfo",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "one"}}}),
            ),
        )
        .await
        .unwrap();
    wait_for(Duration::from_secs(60), "requestedAt handled", || async {
        h.releases()
            .get("podinfo")
            .await
            .ok()
            .and_then(|o| o.status)
            .and_then(|s| s.last_handled_reconcile_at)
            .as_deref()
            == Some("one")
    })
    .await;
    assert_eq!(h.history("podinfo").len(), 2);

    // Helm rolls back what we released.
    helm(&["rollback", "podinfo", "1", "-n", h.ns()]);
    let history = h.history("podinfo");
    assert_eq!(history.len(), 3);
    assert_eq!(history[2]["status"], "deployed");
    assert_eq!(history[2]["description"], "Rollback to 1");

    // Deletion uninstalls.
    h.releases()
        .delete("podinfo", &DeleteParams::default())
        .await
        .unwrap();
    wait_for(Duration::from_secs(90), "release secrets gone", || async {
        let secrets: Api<Secret> = Api::namespaced(h.client.clone(), h.ns());
        secrets
            .list(&ListParams::default().labels("owner=helm"))
            .await
            .unwrap()
            .items
            .is_empty()
    })
    .await;
    wait_for(Duration::from_secs(60), "deployment deleted", || async {
        deployments
            .get_opt("podinfo")
            .await
            .unwrap()
            .is_none_or(|d| d.metadata.deletion_timestamp.is_some())
    })
    .await;
}

#[tokio::test]
async fn adopts_a_release_helm_installed() {
    let h = Harness::start("hc-adopt").await;
    helm(&[
        "install",
        "podinfo",
        podinfo().to_str().unwrap(),
        "-n",
        h.ns(),
        "--set",
        "replicaCount=1",
    ]);
    // We decode what helm stored.
    let storage = SecretStorage::new(h.client.clone(), h.ns());
    let release = storage.last("podinfo").await.unwrap().unwrap();
    assert_eq!(release.version, 1);
    assert_eq!(release.status(), "deployed");
    assert_eq!(release.chart_name(), "podinfo");
    assert_eq!(release.config["replicaCount"], 1);
    assert!(release.manifest.contains("kind: Deployment"));

    h.publish_chart("podinfo", &podinfo()).await;
    h.create(
        "podinfo",
        json!({"interval": "1h", "chartRef": chart_ref(), "values": {"replicaCount": 1}}),
    )
    .await;
    h.wait_ready("podinfo", ConditionStatus::True, "podinfo.v2")
        .await;
    let history = h.history("podinfo");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["status"], "deployed");
    helm(&["rollback", "podinfo", "1", "-n", h.ns()]);
    assert_eq!(h.history("podinfo")[2]["status"], "deployed");
}

#[tokio::test]
async fn template_errors_fail_the_install_with_a_warning() {
    let h = Harness::start("hc-bad").await;
    let chart = h.dir.path().join("bad");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: bad\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(chart.join("templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  x: {{ required \"value x is required\" .Values.x | quote }}\n").unwrap();
    h.publish_chart("bad", &chart).await;
    h.create(
        "bad",
        json!({"interval": "1h", "chartRef": {"kind": "HelmChart", "name": "bad"}}),
    )
    .await;
    let object = h
        .wait_ready("bad", ConditionStatus::False, "value x is required")
        .await;
    let ready = object
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.reason, "InstallFailed");
    assert!(
        ready.message.starts_with(&format!(
            "Helm install failed for release {}/bad with chart bad@0.1.0",
            h.ns()
        )),
        "{}",
        ready.message
    );
    let events: Api<Event> = Api::namespaced(h.client.clone(), h.ns());
    wait_for(
        Duration::from_secs(30),
        "a Warning InstallFailed event",
        || async {
            events
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .iter()
                .any(|e| {
                    e.reason.as_deref() == Some("InstallFailed")
                        && e.type_.as_deref() == Some("Warning")
                })
        },
    )
    .await;
    // Nothing was stored.
    assert!(
        SecretStorage::new(h.client.clone(), h.ns())
            .last("bad")
            .await
            .unwrap()
            .is_none()
    );

    // Fixing the values installs it.
    h.releases()
        .patch(
            "bad",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"values": {"x": "ok"}}})),
        )
        .await
        .unwrap();
    h.wait_ready("bad", ConditionStatus::True, "bad.v1").await;
}

#[tokio::test]
async fn uninstall_honours_the_deletion_propagation() {
    let h = Harness::start("hc-orphan").await;
    h.publish_chart("podinfo", &podinfo()).await;
    h.create(
        "podinfo",
        json!({"interval": "1h", "chartRef": chart_ref(),
               "uninstall": {"deletionPropagation": "orphan"}}),
    )
    .await;
    h.wait_ready("podinfo", ConditionStatus::True, "Helm install succeeded")
        .await;
    let replica_sets: Api<k8s_openapi::api::apps::v1::ReplicaSet> =
        Api::namespaced(h.client.clone(), h.ns());
    let listed = || async {
        replica_sets
            .list(&ListParams::default().labels("app.kubernetes.io/name=podinfo"))
            .await
            .unwrap()
            .items
    };
    wait_for(
        Duration::from_secs(60),
        "the Deployment's ReplicaSet",
        || async { !listed().await.is_empty() },
    )
    .await;

    // Deleting the release deletes the Deployment with orphan propagation: the garbage
    // collector leaves its ReplicaSet, without an owner.
    h.releases()
        .delete("podinfo", &DeleteParams::default())
        .await
        .unwrap();
    let deployments: Api<Deployment> = Api::namespaced(h.client.clone(), h.ns());
    wait_for(
        Duration::from_secs(60),
        "the Deployment deleted",
        || async { deployments.get_opt("podinfo").await.unwrap().is_none() },
    )
    .await;
    wait_for(
        Duration::from_secs(30),
        "the ReplicaSet orphaned",
        || async {
            listed().await.iter().all(|rs| {
                rs.metadata
                    .owner_references
                    .as_ref()
                    .is_none_or(Vec::is_empty)
            })
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(listed().await.len(), 1, "the orphaned ReplicaSet stays");
}
