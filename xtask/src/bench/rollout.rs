//! The floor under the HelmRelease benchmark: the objects N podinfo releases consist of
//! (rendered by our Helm engine, one Deployment and one Service each), created directly
//! with plain POSTs and no controller of ours, timed until every Deployment is Available.
//! The difference between this and `bench helmreleases` is what the source- and
//! helm-controller add; this part is the control plane's alone.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use k8s_openapi::api::apps::v1::Deployment;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use serde_json::Value;

use super::cluster::{
    api_requests, control_plane_cpu, create_namespace, delete_namespace, for_all,
    print_api_requests, print_control_plane_cpu, rand_suffix, wait_quiet, watch_until,
};
use crate::generate::repo_root;

const READY_TIMEOUT: Duration = Duration::from_secs(1200);

/// Creates the objects of `count` podinfo releases and waits until their Deployments are
/// Available; prints the time, the control plane's CPU time and the API requests.
pub async fn run(client: &Client, count: usize) -> Result<Duration> {
    let chart =
        ferroflux_helm::loader::load_dir(&repo_root().join("../shared/fixtures/charts/podinfo"))
            .context("loading the podinfo fixture")?;
    let namespace = format!("bench-rollout-{:08x}", rand_suffix());
    wait_quiet(client).await;
    create_namespace(client, &namespace).await?;
    let result = measure(client, &chart, &namespace, count).await;
    delete_namespace(client, &namespace).await;
    result
}

async fn measure(
    client: &Client,
    chart: &ferroflux_helm::Chart,
    namespace: &str,
    count: usize,
) -> Result<Duration> {
    let mut objects = Vec::new();
    for i in 0..count {
        let options = ferroflux_helm::TemplateOptions {
            release_name: format!("podinfo-{i}"),
            namespace: namespace.to_owned(),
            ..ferroflux_helm::TemplateOptions::default()
        };
        let rendered = ferroflux_helm::template(chart, &options)?;
        for manifest in rendered.manifests {
            let object: Value = serde_saphyr::from_str(&manifest.content)
                .with_context(|| format!("parsing {}", manifest.name))?;
            objects.push(object);
        }
    }
    eprintln!(
        "bench: creating {} objects of {count} podinfo releases directly",
        objects.len()
    );
    let requests_before = api_requests(client).await;
    let cpu_before = control_plane_cpu();
    let started = Instant::now();
    for_all(objects, {
        let client = client.clone();
        let namespace = namespace.to_owned();
        move |object: Value| {
            let client = client.clone();
            let namespace = namespace.clone();
            async move {
                let api = api_of(&client, &namespace, &object);
                let object: DynamicObject = serde_json::from_value(object)?;
                api.create(&PostParams::default(), &object).await?;
                Ok(())
            }
        }
    })
    .await?;
    let elapsed = wait_available(client, namespace, count, started).await?;
    print_control_plane_cpu(&cpu_before, &control_plane_cpu(), elapsed);
    print_api_requests(&requests_before, &api_requests(client).await, count);
    eprintln!(
        "bench: {count} podinfo Deployments created directly, all Available in {:.1} s",
        elapsed.as_secs_f64()
    );
    Ok(elapsed)
}

fn api_of(client: &Client, namespace: &str, object: &Value) -> Api<DynamicObject> {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let (group, version) = text("/apiVersion")
        .rsplit_once('/')
        .unwrap_or(("", text("/apiVersion")));
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, text("/kind")));
    Api::namespaced_with(client.clone(), namespace, &resource)
}

/// Waits until `count` Deployments of `namespace` are Available.
async fn wait_available(
    client: &Client,
    namespace: &str,
    count: usize,
    started: Instant,
) -> Result<Duration> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    match watch_until(
        &api,
        count,
        started,
        READY_TIMEOUT,
        "Available",
        is_available,
    )
    .await?
    {
        Ok(()) => Ok(started.elapsed()),
        Err(done) => bail!("only {done}/{count} Deployments Available after {READY_TIMEOUT:?}"),
    }
}

fn is_available(deployment: &Deployment) -> bool {
    deployment
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Available" && c.status == "True")
        })
}
