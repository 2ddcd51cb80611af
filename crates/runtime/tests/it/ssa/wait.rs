//! Waiting for applied objects to become Current.

use std::time::Duration;

use ferroflux_runtime::health::Status;
use ferroflux_runtime::ssa::WaitOptions;
use ferroflux_testkit::{TestNamespace, client};
use serde_json::json;

use super::{deployment, manager, options};

fn wait_options(timeout: Duration) -> WaitOptions {
    WaitOptions {
        interval: Duration::from_millis(500),
        timeout,
        fail_fast: true,
    }
}

#[tokio::test]
async fn waits_until_a_deployment_is_available() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-wait").await;
    let manager = manager(&client);
    let applied = manager
        .apply_all_staged(vec![deployment(namespace.name(), "web", 2)], &options())
        .await
        .expect("the apply succeeds");
    let entries = applied.to_inventory().entries;
    manager
        .wait_for(&entries, &wait_options(Duration::from_secs(90)))
        .await
        .expect("kwok makes the Deployment available");
    let health = manager.health(&entries[0], None).await;
    assert_eq!(health.status, Status::Current, "{health:?}");
    assert_eq!(health.message, "Deployment is available. Replicas: 2");
}

#[tokio::test]
async fn a_timeout_names_the_objects_that_are_not_ready() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-timeout").await;
    let ns = namespace.name();
    let manager = manager(&client);
    let mut stuck = deployment(ns, "stuck", 1);
    stuck["spec"]["template"]["spec"]["nodeSelector"] = json!({"ferroflux.dev/none": "true"});
    let applied = manager
        .apply_all_staged(vec![stuck], &options())
        .await
        .expect("the apply succeeds");
    let error = manager
        .wait_for(
            &applied.to_inventory().entries,
            &wait_options(Duration::from_secs(3)),
        )
        .await
        .expect_err("an unschedulable Deployment never becomes ready");
    assert!(error.timed_out);
    assert_eq!(
        error.to_string(),
        format!("timeout waiting for: [Deployment/{ns}/stuck status: 'InProgress']")
    );
}

#[tokio::test]
async fn a_missing_object_is_not_found() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-missing").await;
    let entry = ferroflux_runtime::ssa::InventoryEntry {
        id: ferroflux_runtime::ssa::ObjectId::new(namespace.name(), "ghost", "", "ConfigMap"),
        version: "v1".into(),
    };
    let error = manager(&client)
        .wait_for(
            std::slice::from_ref(&entry),
            &wait_options(Duration::from_secs(1)),
        )
        .await
        .expect_err("a missing object never becomes ready");
    assert_eq!(error.objects[0].1.status, Status::NotFound);
}

#[tokio::test]
async fn a_wait_after_an_apply_starts_from_its_answer_and_sees_the_new_rollout() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-applied").await;
    let ns = namespace.name();
    let manager = manager(&client);
    // Helm's way: no dry-run, so every object is written and its answer kept.
    let direct = ferroflux_runtime::ssa::ApplyOptions {
        dry_run: false,
        ..options()
    };
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": ns}, "data": {"a": "b"}});
    let first = manager
        .apply_all_staged(vec![deployment(ns, "web", 1), config.clone()], &direct)
        .await
        .expect("the apply succeeds");
    let answered: Vec<Status> = first
        .entries
        .iter()
        .map(|e| e.applied.as_ref().expect("written").health.status)
        .collect();
    assert!(
        answered.contains(&Status::Current),
        "the ConfigMap: {answered:?}"
    );
    assert!(
        answered.contains(&Status::InProgress),
        "the Deployment: {answered:?}"
    );
    manager
        .wait_for_applied(&first.entries, &wait_options(Duration::from_secs(90)), None)
        .await
        .expect("kwok makes the Deployment available");

    // A new template: the wait must not take the previous rollout's state for the new one.
    let mut changed = deployment(ns, "web", 1);
    changed["spec"]["template"]["metadata"]["labels"]["revision"] = json!("2");
    let second = manager
        .apply_all_staged(vec![changed, config], &direct)
        .await
        .expect("the apply succeeds");
    manager
        .wait_for_applied(
            &second.entries,
            &wait_options(Duration::from_secs(90)),
            None,
        )
        .await
        .expect("kwok rolls the new template out");
    let deployments: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(client.clone(), ns);
    let live = deployments.get("web").await.unwrap();
    assert_eq!(
        live.status.and_then(|s| s.observed_generation),
        live.metadata.generation,
        "the wait ended before the controller-manager saw the new generation"
    );
}
