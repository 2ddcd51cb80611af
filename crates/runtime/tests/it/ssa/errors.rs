//! Failures name the object; immutable changes need force; partial failures keep the rest.

use ferroflux_runtime::ssa::{Action, ApplyOptions, FORCE_KEY};
use ferroflux_testkit::{TestNamespace, client};
use k8s_openapi::api::batch::v1::Job;
use kube::ResourceExt;
use kube::api::Api;
use serde_json::json;

use super::{actions, config_map, job, job_image, manager, options};

#[tokio::test]
async fn immutable_changes_fail_clearly_and_succeed_with_force() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-immutable").await;
    let ns = namespace.name();
    let manager = manager(&client);
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    manager
        .apply_all_staged(vec![job(ns, "registry.local/migrate:1")], &options())
        .await
        .expect("the first apply succeeds");
    let first_uid = jobs.get("migrate").await.unwrap().uid();

    let changed = vec![job(ns, "registry.local/migrate:2")];
    let error = manager
        .apply_all_staged(changed.clone(), &options())
        .await
        .expect_err("an immutable change without force fails");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("Job/{ns}/migrate dry-run failed (Invalid): ")),
        "{message}"
    );
    assert!(message.contains("immutable"), "{message}");
    assert!(error.change_set.entries.is_empty());

    let forced = ApplyOptions {
        force: true,
        ..options()
    };
    let recreated = manager
        .apply_all_staged(changed, &forced)
        .await
        .expect("a forced apply recreates the Job");
    assert_eq!(
        actions(&recreated),
        [(format!("Job/{ns}/migrate"), Action::Created)]
    );
    let live = jobs.get("migrate").await.unwrap();
    assert_ne!(live.uid(), first_uid, "the Job must be a new object");

    // The force annotation works without the option.
    let mut annotated = job(ns, "registry.local/migrate:3");
    annotated["metadata"]["annotations"] = json!({FORCE_KEY: "enabled"});
    let recreated = manager
        .apply_all_staged(vec![annotated], &options())
        .await
        .expect("the annotated apply recreates the Job");
    assert_eq!(recreated.entries[0].action, Action::Created);
    assert_eq!(
        job_image(&jobs).await.as_deref(),
        Some("registry.local/migrate:3")
    );
}

#[tokio::test]
async fn a_partial_failure_returns_the_applied_entries_and_the_errors() {
    let client = client().await;
    let namespace = TestNamespace::new(&client, "ssa-partial").await;
    let ns = namespace.name();
    let broken = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "broken", "namespace": ns},
        "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a"}]}}},
    });
    let nameless_namespace = config_map("", "nowhere", json!({}));
    let unknown = json!({"apiVersion": "nothere.ferroflux.dev/v1", "kind": "Widget",
        "metadata": {"name": "w", "namespace": ns}});
    let objects = vec![
        broken,
        config_map(ns, "fine", json!({"a": "1"})),
        nameless_namespace,
        unknown,
    ];
    let error = manager(&client)
        .apply_all_staged(objects, &options())
        .await
        .expect_err("the broken objects fail");
    assert_eq!(
        actions(&error.change_set),
        [(format!("ConfigMap/{ns}/fine"), Action::Created)]
    );
    let messages: Vec<String> = error.errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert_eq!(messages[0], "ConfigMap/nowhere namespace not specified");
    assert!(
        messages[1].starts_with(&format!(
            "Deployment/{ns}/broken dry-run failed (Invalid): "
        )),
        "{messages:#?}"
    );
    assert_eq!(
        messages[2],
        format!(
            "Widget/{ns}/w no matches for kind \"Widget\" in version \"nothere.ferroflux.dev/v1\""
        )
    );
}
