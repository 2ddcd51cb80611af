//! Proof that the whole control plane works: scheduler and kwok make a Deployment
//! Available, a Job runs to completion, and the namespace controller deletes a namespace.

use std::time::Duration;

use ferroflux_testkit::{client, wait_for};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;

#[tokio::test]
async fn deployment_available_job_complete_namespace_deleted() {
    let client = client().await;
    let name = format!("smoke-{:08x}", rand::random::<u32>());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    namespaces
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap();
    // Pods are admitted only once the namespace's default ServiceAccount exists.
    let accounts: Api<k8s_openapi::api::core::v1::ServiceAccount> =
        Api::namespaced(client.clone(), &name);
    wait_for(
        Duration::from_secs(60),
        "the default ServiceAccount",
        || {
            let accounts = accounts.clone();
            async move { accounts.get_opt("default").await.unwrap().is_some() }
        },
    )
    .await;

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &name);
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "example.invalid/web:1"}]}}
        }
    }))
    .unwrap();
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    wait_for(
        Duration::from_secs(90),
        "the Deployment to be Available with 2 replicas",
        || {
            let deployments = deployments.clone();
            async move {
                let status = deployments
                    .get("web")
                    .await
                    .unwrap()
                    .status
                    .unwrap_or_default();
                status.available_replicas == Some(2)
                    && status
                        .conditions
                        .unwrap_or_default()
                        .iter()
                        .any(|c| c.type_ == "Available" && c.status == "True")
            }
        },
    )
    .await;

    let jobs: Api<Job> = Api::namespaced(client.clone(), &name);
    let job: Job = serde_json::from_value(json!({
        "metadata": {"name": "once"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "once", "image": "example.invalid/once:1"}]}}}
    }))
    .unwrap();
    jobs.create(&PostParams::default(), &job).await.unwrap();
    wait_for(Duration::from_secs(90), "the Job to complete", || {
        let jobs = jobs.clone();
        async move {
            jobs.get("once")
                .await
                .unwrap()
                .status
                .unwrap_or_default()
                .conditions
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Complete" && c.status == "True")
        }
    })
    .await;

    namespaces
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap();
    wait_for(
        Duration::from_secs(120),
        "the namespace to be deleted completely",
        || {
            let namespaces = namespaces.clone();
            let name = name.clone();
            async move { namespaces.get_opt(&name).await.unwrap().is_none() }
        },
    )
    .await;
}
