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
