//! Two candidates for one Lease: exactly one leads; releasing hands over at once.

use std::time::Duration;

use ferroflux_runtime::leader::{LeaderElectionConfig, LeaderElector};
use ferroflux_testkit::{TestNamespace, client};
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;

fn config(namespace: &str, identity: &str) -> LeaderElectionConfig {
    LeaderElectionConfig {
        lease_name: "test-controller-leader-election".into(),
        namespace: namespace.into(),
        identity: identity.into(),
        lease_duration: Duration::from_secs(15),
        renew_deadline: Duration::from_secs(10),
        retry_period: Duration::from_millis(200),
        release_on_cancel: true,
    }
}

#[tokio::test]
async fn one_leader_at_a_time_and_handover_on_release() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "leader").await;
    let first = LeaderElector::new(client.clone(), config(namespace.name(), "first"));
    let leading = first.run().await;
    assert!(*leading.borrow());

    let second = LeaderElector::new(client.clone(), config(namespace.name(), "second"));
    let second_run = tokio::spawn(second.run());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !second_run.is_finished(),
        "the second candidate must wait while the first renews"
    );

    let leases: Api<Lease> = Api::namespaced(client.clone(), namespace.name());
    let lease = leases.get("test-controller-leader-election").await.unwrap();
    assert_eq!(
        lease.spec.unwrap().holder_identity.as_deref(),
        Some("first")
    );

    drop(leading); // the first candidate stops and releases the Lease
    let second_leading = tokio::time::timeout(Duration::from_secs(10), second_run)
        .await
        .expect("the second candidate takes over promptly after a release")
        .unwrap();
    assert!(*second_leading.borrow());
    let spec = leases
        .get("test-controller-leader-election")
        .await
        .unwrap()
        .spec
        .unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("second"));
    assert_eq!(spec.lease_transitions, Some(1));
}
