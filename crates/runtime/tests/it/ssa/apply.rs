//! Create, no-op, configure, drift and the skip/merge policies.

use ferroflux_runtime::ssa::{Action, SSA_KEY};
use ferroflux_testkit::{TestNamespace, client};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use super::{MANAGER, actions, config_map, deployment, job, job_image, manager, options};

#[tokio::test]
async fn creates_then_leaves_unchanged_objects_alone_then_configures() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-apply").await;
    let ns = namespace.name();
    let manager = manager(&client);
    let objects = vec![
        deployment(ns, "web", 1),
        config_map(ns, "settings", json!({"a": "1"})),
    ];

    let created = manager
        .apply_all_staged(objects.clone(), &options())
        .await
        .expect("the first apply succeeds");
    assert_eq!(
        actions(&created),
        [
            (format!("ConfigMap/{ns}/settings"), Action::Created),
            (format!("Deployment/{ns}/web"), Action::Created),
        ]
    );
    assert_eq!(
        created.to_string(),
        format!("ConfigMap/{ns}/settings created\nDeployment/{ns}/web created")
    );
    assert_eq!(
        created.entries[1].id.to_string(),
        format!("{ns}_web_apps_Deployment")
    );
    assert_eq!(created.entries[1].version, "v1");

    // The deployment controller keeps writing the Deployment's status, so its generation
    // and our managed-fields entry show that we did not write; the ConfigMap's
    // resourceVersion must not move at all.
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let written = || async {
        let deployment = deployments.get("web").await.unwrap();
        let ours = deployment
            .managed_fields()
            .iter()
            .find(|m| m.manager.as_deref() == Some(MANAGER))
            .cloned();
        (
            deployment.metadata.generation,
            ours,
            config_maps
                .get("settings")
                .await
                .unwrap()
                .resource_version(),
        )
    };
    let before = written().await;
    let again = manager
        .apply_all_staged(objects.clone(), &options())
        .await
        .expect("the second apply succeeds");
    assert!(
        again.entries.iter().all(|e| e.action == Action::Unchanged),
        "{again}"
    );
    assert!(!again.has_changes());
    assert_eq!(before, written().await, "an unchanged apply must not write");

    let changed = vec![
        deployment(ns, "web", 2),
        config_map(ns, "settings", json!({"a": "1"})),
    ];
    let configured = manager
        .apply_all_staged(changed, &options())
        .await
        .expect("the third apply succeeds");
    assert_eq!(
        actions(&configured),
        [
            (format!("ConfigMap/{ns}/settings"), Action::Unchanged),
            (format!("Deployment/{ns}/web"), Action::Configured),
        ]
    );
    let replicas = deployments.get("web").await.unwrap().spec.unwrap().replicas;
    assert_eq!(replicas, Some(2));
}

#[tokio::test]
async fn reverts_manual_changes_of_managed_fields() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-drift").await;
    let ns = namespace.name();
    let manager = manager(&client);
    let objects = vec![config_map(ns, "settings", json!({"a": "1", "b": "2"}))];
    manager
        .apply_all_staged(objects.clone(), &options())
        .await
        .expect("the first apply succeeds");

    // What `kubectl patch --type merge` does.
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let kubectl = PatchParams {
        field_manager: Some("kubectl-patch".into()),
        ..PatchParams::default()
    };
    let drift = json!({"data": {"a": "changed", "extra": "x"}});
    config_maps
        .patch("settings", &kubectl, &Patch::Merge(&drift))
        .await
        .expect("the manual change is accepted");

    let reverted = manager
        .apply_all_staged(objects, &options())
        .await
        .expect("the re-apply succeeds");
    assert_eq!(
        actions(&reverted),
        [(format!("ConfigMap/{ns}/settings"), Action::Configured)]
    );
    let data = config_maps.get("settings").await.unwrap().data.unwrap();
    assert_eq!(data.get("a").map(String::as_str), Some("1"));
    // The kubectl manager's fields were taken over, so the field it added is gone too.
    assert_eq!(data.get("extra"), None, "{data:?}");
}

#[tokio::test]
async fn takes_over_objects_created_by_kubectl_apply() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-kubectl").await;
    let ns = namespace.name();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let last_applied = "kubectl.kubernetes.io/last-applied-configuration";
    let created: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "legacy", "labels": {"old": "label"},
            "annotations": {last_applied: "{\"data\":{\"a\":\"1\"}}"}},
        "data": {"a": "1", "old": "x"},
    }))
    .expect("a valid ConfigMap");
    let post = PostParams {
        field_manager: Some("kubectl-client-side-apply".into()),
        ..PostParams::default()
    };
    config_maps
        .create(&post, &created)
        .await
        .expect("created like kubectl apply");

    let desired = vec![config_map(ns, "legacy", json!({"a": "1"}))];
    let applied = manager(&client)
        .apply_all_staged(desired, &options())
        .await
        .expect("the apply succeeds");
    assert_eq!(
        actions(&applied),
        [(format!("ConfigMap/{ns}/legacy"), Action::Configured)]
    );
    let live = config_maps.get("legacy").await.unwrap();
    assert!(!live.annotations().contains_key(last_applied), "{live:?}");
    assert!(!live.labels().contains_key("old"), "{live:?}");
    assert_eq!(live.data.as_ref().unwrap().get("old"), None);
    let managers: Vec<(String, String)> = live
        .managed_fields()
        .iter()
        .map(|m| (m.manager.clone().unwrap(), m.operation.clone().unwrap()))
        .collect();
    assert_eq!(managers, [(MANAGER.to_owned(), "Apply".to_owned())]);
}

#[tokio::test]
async fn merge_policy_keeps_other_managers_fields() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-merge").await;
    let ns = namespace.name();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let created: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "shared"}, "data": {"theirs": "x"},
    }))
    .expect("a valid ConfigMap");
    let post = PostParams {
        field_manager: Some("kubectl-create".into()),
        ..PostParams::default()
    };
    config_maps.create(&post, &created).await.expect("created");

    let mut desired = config_map(ns, "shared", json!({"ours": "y"}));
    desired["metadata"]["annotations"] = json!({SSA_KEY: "Merge"});
    manager(&client)
        .apply_all_staged(vec![desired], &options())
        .await
        .expect("the apply succeeds");
    let data = config_maps.get("shared").await.unwrap().data.unwrap();
    assert_eq!(data.get("theirs").map(String::as_str), Some("x"));
    assert_eq!(data.get("ours").map(String::as_str), Some("y"));
}

#[tokio::test]
async fn if_not_present_creates_but_never_overwrites() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-ifnotpresent").await;
    let ns = namespace.name();
    let manager = manager(&client);
    let with_value = |value: &str| {
        let mut object = config_map(ns, "seed", json!({"password": value}));
        object["metadata"]["annotations"] = json!({SSA_KEY: "IfNotPresent"});
        object
    };
    let first = manager
        .apply_all_staged(vec![with_value("initial")], &options())
        .await
        .expect("the first apply succeeds");
    assert_eq!(first.entries[0].action, Action::Created);

    let second = manager
        .apply_all_staged(vec![with_value("rotated")], &options())
        .await
        .expect("the second apply succeeds");
    assert_eq!(second.entries[0].action, Action::Skipped);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let data = config_maps.get("seed").await.unwrap().data.unwrap();
    assert_eq!(data.get("password").map(String::as_str), Some("initial"));
}

#[tokio::test]
async fn reconcile_disabled_on_the_live_object_skips_it() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-disabled").await;
    let ns = namespace.name();
    let manager = manager(&client);
    manager
        .apply_all_staged(vec![config_map(ns, "c", json!({"a": "1"}))], &options())
        .await
        .expect("the first apply succeeds");
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let label =
        json!({"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/reconcile": "disabled"}}});
    config_maps
        .patch("c", &PatchParams::default(), &Patch::Merge(&label))
        .await
        .expect("labelled");
    let skipped = manager
        .apply_all_staged(vec![config_map(ns, "c", json!({"a": "2"}))], &options())
        .await
        .expect("the apply succeeds");
    assert_eq!(skipped.entries[0].action, Action::Skipped);
    let data = config_maps.get("c").await.unwrap().data.unwrap();
    assert_eq!(data.get("a").map(String::as_str), Some("1"));
}

/// Without a dry-run (the helm-controller, as Helm 4): one apply per object, actions told
/// from the apply's answer, and a forced immutable change recreates the object.
#[tokio::test]
async fn applies_without_a_dry_run_as_helm_does() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-direct").await;
    let ns = namespace.name();
    let manager = manager(&client);
    let direct = ferroflux_runtime::ssa::ApplyOptions {
        dry_run: false,
        ..options()
    };
    let objects = |value: &str, image: &str| {
        vec![
            config_map(ns, "settings", json!({"a": value})),
            job(ns, image),
        ]
    };

    let created = manager
        .apply_all_staged(objects("1", "registry.local/migrate:1"), &direct)
        .await
        .expect("the first apply succeeds");
    assert!(
        created.entries.iter().all(|e| e.action == Action::Created),
        "{created}"
    );
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let version = config_maps
        .get("settings")
        .await
        .unwrap()
        .resource_version();

    let again = manager
        .apply_all_staged(objects("1", "registry.local/migrate:1"), &direct)
        .await
        .expect("the same apply succeeds");
    assert!(
        again.entries.iter().all(|e| e.action == Action::Unchanged),
        "{again}"
    );
    assert_eq!(
        config_maps
            .get("settings")
            .await
            .unwrap()
            .resource_version(),
        version
    );

    let error = manager
        .apply_all_staged(objects("2", "registry.local/migrate:2"), &direct)
        .await
        .expect_err("an immutable change without force fails");
    let message = error.to_string();
    assert!(
        message.contains(&format!("Job/{ns}/migrate apply failed")),
        "{message}"
    );
    assert!(message.contains("immutable"), "{message}");
    assert_eq!(
        actions(&error.change_set),
        [(format!("ConfigMap/{ns}/settings"), Action::Configured)],
        "the other objects are still applied, as Helm does"
    );

    let forced = ferroflux_runtime::ssa::ApplyOptions {
        force: true,
        ..direct
    };
    let recreated = manager
        .apply_all_staged(objects("2", "registry.local/migrate:2"), &forced)
        .await
        .expect("a forced apply recreates the Job");
    assert_eq!(
        actions(&recreated),
        [
            (format!("ConfigMap/{ns}/settings"), Action::Unchanged),
            (format!("Job/{ns}/migrate"), Action::Created),
        ]
    );
    let jobs: Api<k8s_openapi::api::batch::v1::Job> = Api::namespaced(client.clone(), ns);
    assert_eq!(
        job_image(&jobs).await.as_deref(),
        Some("registry.local/migrate:2")
    );
}
