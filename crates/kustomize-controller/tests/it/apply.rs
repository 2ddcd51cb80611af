//! The GitOps loop: a commit lands, the cluster converges to it.

use std::time::Duration;

use ferroflux_api::constants::RECONCILE_REQUESTED_AT_ANNOTATION;
use ferroflux_api::meta::ConditionStatus;
use ferroflux_testkit::wait_for;
use k8s_openapi::api::apps::v1::Deployment;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::harness::{Harness, podinfo, refs};

#[tokio::test]
async fn podinfo_is_applied_healthy_changed_pruned_and_drift_reverted() {
    let files = podinfo("deploy");
    let harness = Harness::start("ks-podinfo", &refs(&files)).await;
    let revision = format!("main@sha1:{}", harness.repo.head("main").unwrap());
    let mut spec = harness.spec("./deploy");
    spec.wait = Some(true);
    spec.timeout = Some("60s".into());
    harness.create("podinfo", spec).await;

    let object = harness
        .wait_ready("podinfo", ConditionStatus::True, None)
        .await;
    assert_eq!(
        Harness::ready(&object),
        (
            "ReconciliationSucceeded".into(),
            format!("Applied revision: {revision}")
        )
    );
    let status = object.status.clone().unwrap();
    assert_eq!(
        status.last_applied_revision.as_deref(),
        Some(revision.as_str())
    );
    let ns = harness.ns();
    let mut ids: Vec<String> = status
        .inventory
        .unwrap()
        .entries
        .into_iter()
        .map(|e| format!("{} {}", e.id, e.v))
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            format!("{ns}_podinfo__Service v1"),
            format!("{ns}_podinfo_apps_Deployment v1"),
            format!("{ns}_podinfo_autoscaling_HorizontalPodAutoscaler v2"),
        ]
    );
    let healthy = status
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Healthy")
        .expect("Healthy with wait");
    assert_eq!(healthy.status, ConditionStatus::True);

    let deployments: Api<Deployment> = Api::namespaced(harness.client.clone(), ns);
    let deployment = deployments.get("podinfo").await.unwrap();
    assert_eq!(
        deployment
            .labels()
            .get("kustomize.toolkit.fluxcd.io/name")
            .map(String::as_str),
        Some("podinfo")
    );
    assert_eq!(
        deployment
            .labels()
            .get("kustomize.toolkit.fluxcd.io/namespace")
            .map(String::as_str),
        Some(ns)
    );
    let managers: Vec<_> = deployment
        .managed_fields()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(
        managers.contains(&"kustomize-controller".to_owned()),
        "{managers:?}"
    );
    let available = deployment
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .any(|c| c.type_ == "Available" && c.status == "True");
    assert!(
        available,
        "kwok makes the Deployment Available and the health check waited for it"
    );

    // A commit that changes a field is applied; one that removes a file prunes its object.
    let changed = files
        .iter()
        .find(|(p, _)| p.ends_with("deployment.yaml"))
        .unwrap()
        .1
        .replace("minReadySeconds: 3", "minReadySeconds: 7");
    let revision = harness.commit(
        &[("deploy/deployment.yaml", changed.as_str())],
        "change minReadySeconds",
    );
    harness
        .repo
        .delete_file("deploy/hpa.yaml", "remove the HPA");
    harness.repo.commit(&[("deploy/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n  - service.yaml\n")], "drop hpa from kustomization");
    let head = format!("main@sha1:{}", harness.repo.head("main").unwrap());
    assert_ne!(revision, head);
    harness
        .wait_ready("podinfo", ConditionStatus::True, Some(&head))
        .await;
    assert_eq!(
        deployments
            .get("podinfo")
            .await
            .unwrap()
            .spec
            .unwrap()
            .min_ready_seconds,
        Some(7)
    );
    assert!(
        harness
            .get("autoscaling/v2", "HorizontalPodAutoscaler", "podinfo")
            .await
            .is_none(),
        "the HPA was pruned"
    );

    // Drift: an out-of-band change of a managed field is reverted on the next reconcile.
    deployments
        .patch(
            "podinfo",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"minReadySeconds": 42}})),
        )
        .await
        .unwrap();
    let token = "drift-check";
    let request = json!({"metadata": {"annotations": {RECONCILE_REQUESTED_AT_ANNOTATION: token}}});
    harness
        .kustomizations()
        .patch("podinfo", &PatchParams::default(), &Patch::Merge(request))
        .await
        .unwrap();
    wait_for(
        Duration::from_secs(60),
        "the drifted field to be reverted",
        || {
            let deployments = deployments.clone();
            async move {
                deployments
                    .get("podinfo")
                    .await
                    .unwrap()
                    .spec
                    .unwrap()
                    .min_ready_seconds
                    == Some(7)
            }
        },
    )
    .await;
    let kustomizations = harness.kustomizations();
    wait_for(
        Duration::from_secs(30),
        "lastHandledReconcileAt to record the request",
        || {
            let kustomizations = kustomizations.clone();
            async move {
                kustomizations
                    .get("podinfo")
                    .await
                    .unwrap()
                    .status
                    .unwrap()
                    .last_handled_reconcile_at
                    .as_deref()
                    == Some(token)
            }
        },
    )
    .await;
}
