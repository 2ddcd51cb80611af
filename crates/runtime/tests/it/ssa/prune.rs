//! Pruning objects that left the inventory.

use ferroflux_runtime::ssa::{Action, InventoryEntry, ObjectId, PRUNE_KEY, PruneOptions};
use ferroflux_testkit::{TestNamespace, client};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use serde_json::{Value, json};

use super::{actions, config_map, manager, options};

const NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
const NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";

fn owned(mut object: Value, annotations: Value) -> Value {
    object["metadata"]["labels"] = json!({NAME_LABEL: "app", NAMESPACE_LABEL: "flux-system"});
    object["metadata"]["annotations"] = annotations;
    object
}

fn prune_options() -> PruneOptions {
    PruneOptions::flux([(NAME_LABEL, "app"), (NAMESPACE_LABEL, "flux-system")])
}

#[tokio::test]
async fn prunes_only_owned_objects_that_left_the_inventory() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-prune").await;
    let ns = namespace.name();
    let manager = manager(&client);
    let keep = owned(config_map(ns, "keep", json!({})), json!({}));
    let removed = owned(config_map(ns, "removed", json!({})), json!({}));
    let protected = owned(
        config_map(ns, "protected", json!({})),
        json!({PRUNE_KEY: "disabled"}),
    );
    let foreign = config_map(ns, "foreign", json!({}));
    let first = manager
        .apply_all_staged(vec![keep.clone(), removed, protected, foreign], &options())
        .await
        .expect("the first apply succeeds");
    let old_inventory = first.to_inventory();

    let second = manager
        .apply_all_staged(vec![keep], &options())
        .await
        .expect("the second apply succeeds");
    let stale = old_inventory.stale(&second.to_inventory());
    let names: Vec<&str> = stale.iter().map(|e| e.id.name.as_str()).collect();
    assert_eq!(names, ["foreign", "protected", "removed"]);

    let mut with_missing = stale.clone();
    with_missing.push(InventoryEntry {
        id: ObjectId::new(ns, "never-existed", "", "ConfigMap"),
        version: "v1".into(),
    });
    let pruned = manager
        .delete_all(&with_missing, &prune_options())
        .await
        .expect("pruning succeeds");
    let mut result = actions(&pruned);
    result.sort();
    assert_eq!(
        result,
        [
            (format!("ConfigMap/{ns}/foreign"), Action::Skipped),
            (format!("ConfigMap/{ns}/never-existed"), Action::Deleted),
            (format!("ConfigMap/{ns}/protected"), Action::Skipped),
            (format!("ConfigMap/{ns}/removed"), Action::Deleted),
        ]
    );

    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    for (name, exists) in [
        ("keep", true),
        ("removed", false),
        ("protected", true),
        ("foreign", true),
    ] {
        let live = config_maps.get_opt(name).await.expect("the API answers");
        // Background deletion of a ConfigMap is immediate (no finalizers).
        assert_eq!(live.is_some(), exists, "ConfigMap {name}");
    }
}

#[tokio::test]
async fn prunes_kinds_that_are_no_longer_served_as_deleted() {
    let client = client().await;
    let entry = InventoryEntry {
        id: ObjectId::new("default", "w", "gone.ferroflux.dev", "Widget"),
        version: "v1".into(),
    };
    let pruned = manager(&client)
        .delete_all(&[entry], &prune_options())
        .await
        .expect("pruning succeeds");
    assert_eq!(pruned.entries[0].action, Action::Deleted);
}
