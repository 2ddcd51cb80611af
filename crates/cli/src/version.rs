//! `ferroflux version`: the client's version and, when a cluster answers, each controller's.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ListParams};

use crate::args::Cli;
use crate::client::{client, describe};

/// The label every installed ferroflux (and Flux) object carries.
const PART_OF_FLUX: &str = "app.kubernetes.io/part-of=flux";

pub async fn run(cli: &Cli, client_only: bool) {
    println!("ferroflux: v{}", env!("CARGO_PKG_VERSION"));
    if client_only {
        return;
    }
    let deployments = match client(cli).await {
        Ok(client) => Api::<Deployment>::namespaced(client, &cli.namespace)
            .list(&ListParams::default().labels(PART_OF_FLUX))
            .await
            .map_err(|error| describe(error, "listing the controllers")),
        Err(error) => Err(error),
    };
    match deployments {
        Ok(list) if list.items.is_empty() => {
            eprintln!("✗ no controllers found in {} namespace", cli.namespace);
        }
        Ok(list) => {
            for (name, version) in controller_versions(&list.items) {
                println!("{name}: {version}");
            }
        }
        Err(error) => eprintln!("✗ controller versions unavailable: {error:#}"),
    }
}

/// Controller name (the Deployment's) → version (its image tag, else its version label).
fn controller_versions(deployments: &[Deployment]) -> BTreeMap<String, String> {
    deployments
        .iter()
        .filter_map(|deployment| {
            let name = deployment.metadata.name.clone()?;
            let image = deployment
                .spec
                .as_ref()
                .and_then(|spec| spec.template.spec.as_ref())
                .and_then(|pod| pod.containers.first())
                .and_then(|container| container.image.as_deref());
            let version = image
                .and_then(image_tag)
                .map(str::to_owned)
                .or_else(|| {
                    deployment
                        .metadata
                        .labels
                        .as_ref()?
                        .get("app.kubernetes.io/version")
                        .cloned()
                })
                .unwrap_or_else(|| "unknown".to_owned());
            Some((name, version))
        })
        .collect()
}

/// The tag of `registry:port/repository:tag@digest`, if it has one.
fn image_tag(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last_segment = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last_segment.split_once(':').map(|(_, tag)| tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags() {
        assert_eq!(
            image_tag("ghcr.io/ferroflux/ferroflux:v0.1.0"),
            Some("v0.1.0")
        );
        assert_eq!(
            image_tag("localhost:5000/ferroflux:v1@sha256:ab"),
            Some("v1")
        );
        assert_eq!(image_tag("localhost:5000/ferroflux"), None);
    }

    #[test]
    fn versions_come_from_the_image_tag_then_the_label() {
        let deployment = |name: &str, image: Option<&str>| {
            serde_json::from_value::<Deployment>(serde_json::json!({
                "metadata": {"name": name, "labels": {"app.kubernetes.io/version": "v9"}},
                "spec": {
                    "selector": {},
                    "template": {"spec": {"containers": [{"name": "manager", "image": image}]}},
                },
            }))
            .unwrap()
        };
        let versions = controller_versions(&[
            deployment(
                "source-controller",
                Some("ghcr.io/ferroflux/ferroflux:v0.1.0"),
            ),
            deployment("helm-controller", Some("ferroflux")),
        ]);
        assert_eq!(
            versions.into_iter().collect::<Vec<_>>(),
            [
                ("helm-controller".to_owned(), "v9".to_owned()),
                ("source-controller".to_owned(), "v0.1.0".to_owned())
            ]
        );
    }
}
