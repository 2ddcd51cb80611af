//! kstatus health of objects as the real API server returns them.

use std::time::Duration;

use ferroflux_runtime::health::{self, Status};
use ferroflux_testkit::{TestNamespace, client, wait_for_value};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery;
use kube::{Client, api::GroupVersionKind};
use serde_json::{Value, json};

/// Applies `object` and returns the live object as JSON.
async fn apply(client: &Client, namespace: &str, object: &Value) -> Api<DynamicObject> {
    let api_version = object["apiVersion"].as_str().expect("apiVersion");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, object["kind"].as_str().expect("kind"));
    let (resource, _) = discovery::pinned_kind(client, &gvk)
        .await
        .expect("the kind is served");
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let name = object["metadata"]["name"].as_str().expect("name");
    api.patch(
        name,
        &PatchParams::apply("ferroflux-health-test").force(),
        &Patch::Apply(object),
    )
    .await
    .expect("the object is applied");
    api
}

async fn health_of(api: &Api<DynamicObject>, name: &str) -> health::HealthResult {
    let live = api.get(name).await.expect("the object exists");
    health::compute(&serde_json::to_value(live).expect("JSON"))
}

#[tokio::test]
async fn live_objects_have_kstatus_health() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "health").await;
    let ns = namespace.name();

    let service = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"ports": [{"port": 80}], "selector": {"app": "web"}}});
    let services = apply(&client, ns, &service).await;
    assert_eq!(health_of(&services, "web").await.status, Status::Current);

    let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": ns},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "none",
            "resources": {"requests": {"storage": "1Gi"}}}});
    let claims = apply(&client, ns, &claim).await;
    let pending = health_of(&claims, "data").await;
    assert_eq!(pending.status, Status::InProgress, "{pending:?}");
    assert!(
        pending.message.starts_with("PVC is not Bound"),
        "{pending:?}"
    );

    let job = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "once", "namespace": ns},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": "registry.local/once:1"}]}}}});
    let jobs = apply(&client, ns, &job).await;
    assert_eq!(health_of(&jobs, "once").await.status, Status::InProgress);

    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "registry.local/web:1"}]}}}});
    let deployments = apply(&client, ns, &deployment).await;
    let current = wait_for_value(
        Duration::from_secs(90),
        "the Deployment to become Current",
        || async {
            let result = health_of(&deployments, "web").await;
            (result.status == Status::Current).then_some(result)
        },
    )
    .await;
    assert_eq!(current.message, "Deployment is available. Replicas: 1");
}
