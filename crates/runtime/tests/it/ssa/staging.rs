//! Staged apply: definitions before the objects that need them.

use ferroflux_runtime::ssa::Action;
use ferroflux_testkit::client;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams};
use serde_json::{Value, json};

use super::{actions, config_map, manager, options};

fn widget_crd(group: &str) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("widgets.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                }}},
            }],
        },
    })
}

#[tokio::test]
async fn applies_a_crd_and_its_custom_resource_together() {
    let client = client().await;
    let suffix = format!("{:08x}", rand::random::<u32>());
    let group = format!("t{suffix}.ferroflux.dev");
    let namespace = format!("ssa-crd-{suffix}");
    let widget = json!({
        "apiVersion": format!("{group}/v1"),
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": namespace},
        "spec": {"size": 3},
    });
    let namespace_object =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
    // Custom resource first: the manager must reorder.
    let objects = vec![widget, widget_crd(&group), namespace_object];

    let manager = manager(&client);
    let result = manager.apply_all_staged(objects.clone(), &options()).await;
    let cleanup = async {
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        let _ = crds
            .delete(&format!("widgets.{group}"), &DeleteParams::background())
            .await;
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let _ = namespaces
            .delete(&namespace, &DeleteParams::background())
            .await;
    };
    let change_set = match result {
        Ok(change_set) => change_set,
        Err(error) => {
            cleanup.await;
            panic!("the staged apply must succeed: {error}");
        }
    };
    assert_eq!(
        actions(&change_set),
        [
            (
                format!("CustomResourceDefinition/widgets.{group}"),
                Action::Created
            ),
            (format!("Namespace/{namespace}"), Action::Created),
            (format!("Widget/{namespace}/w"), Action::Created),
        ]
    );
    assert_eq!(
        change_set.entries[2].id.to_string(),
        format!("{namespace}_w_{group}_Widget")
    );
    let again = manager.apply_all_staged(objects, &options()).await;
    cleanup.await;
    let again = again.expect("the second apply succeeds");
    assert!(!again.has_changes(), "{again}");
}

#[tokio::test]
async fn applies_a_namespace_and_objects_in_it() {
    let client = client().await;
    let namespace = format!("ssa-ns-{:08x}", rand::random::<u32>());
    let objects = vec![
        config_map(&namespace, "inside", json!({"k": "v"})),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa", "namespace": namespace}}),
    ];
    let result = manager(&client).apply_all_staged(objects, &options()).await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let _ = namespaces
        .delete(&namespace, &DeleteParams::background())
        .await;
    let change_set = result.expect("the staged apply succeeds");
    assert_eq!(
        change_set.to_string(),
        format!(
            "Namespace/{namespace} created\nServiceAccount/{namespace}/sa created\nConfigMap/{namespace}/inside created"
        )
    );
    assert_eq!(
        change_set.entries[0].id.to_string(),
        format!("_{namespace}__Namespace")
    );
}
