//! The server-side-apply resource manager against the real API server.

mod apply;
mod errors;
mod prune;
mod staging;
mod wait;

use std::time::Duration;

use ferroflux_runtime::ssa::{Action, ApplyOptions, ChangeSet, ResourceManager};
use kube::Client;
use serde_json::{Value, json};

/// The field manager of the tests.
const MANAGER: &str = "ferroflux-ssa-test";

fn manager(client: &Client) -> ResourceManager {
    ResourceManager::new(client.clone(), MANAGER)
}

/// Flux's options with faster polls.
fn options() -> ApplyOptions {
    ApplyOptions {
        wait_interval: Duration::from_millis(250),
        wait_timeout: Duration::from_secs(60),
        ..ApplyOptions::flux(MANAGER)
    }
}

fn config_map(namespace: &str, name: &str, data: Value) -> Value {
    let mut object = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
    });
    object["data"] = data;
    object
}

/// Job `migrate` running `image` (its pod template is immutable).
fn job(namespace: &str, image: &str) -> Value {
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "namespace": namespace},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "migrate", "image": image}],
        }}},
    })
}

/// The image of Job `migrate`'s first container.
async fn job_image(jobs: &kube::Api<k8s_openapi::api::batch::v1::Job>) -> Option<String> {
    jobs.get("migrate")
        .await
        .expect("Job migrate exists")
        .spec?
        .template
        .spec?
        .containers
        .first()?
        .image
        .clone()
}

fn deployment(namespace: &str, name: &str, replicas: i32) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "registry.local/app:1.0"}]},
            },
        },
    })
}

/// The actions of a change set by subject.
fn actions(change_set: &ChangeSet) -> Vec<(String, Action)> {
    change_set
        .entries
        .iter()
        .map(|entry| (entry.subject.clone(), entry.action))
        .collect()
}
