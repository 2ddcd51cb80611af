//! The install manifests: `deploy/install.yaml` and the Helm chart in `charts/ferroflux`.
//!
//! Every object is built once, in code, from typed k8s-openapi structs, and mirrors what
//! `flux install` writes (gotk-components.yaml): the same names, labels, ports, probes, args
//! and RBAC, so `flux check`, `flux logs`, `flux version` and dashboards find ferroflux where
//! they look for Flux. The only intended differences: one image for all controllers (each
//! container runs its binary through `command`), and no `GOMEMLIMIT` (there is no Go runtime).
//!
//! The chart's templates are rendered from the same builders with Helm expressions in place
//! of the install values (see `chart`), so the two can never drift apart.

mod chart;
mod deployment;
mod objects;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

/// The namespace `flux install` uses, and so do we.
pub(crate) const NAMESPACE: &str = "flux-system";
/// The registry and repository of the ferroflux image (one image, every binary).
pub(crate) const IMAGE_REPOSITORY: &str = "ghcr.io/ferroflux/ferroflux";

/// One controller as it is installed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Controller {
    /// Flux's name: Deployment, ServiceAccount, binary, leader-election id.
    pub name: &'static str,
    /// The chart's values key (`sourceController`).
    pub values_key: &'static str,
    /// The API group whose CRDs belong to this controller.
    pub group: &'static str,
    /// CPU request, as in Flux's manifests.
    pub cpu_request: &'static str,
    /// terminationGracePeriodSeconds, as in Flux's manifests.
    pub grace_seconds: i64,
    /// Runs with priorityClassName system-cluster-critical.
    pub critical: bool,
    /// Applies arbitrary objects, so it is bound to cluster-admin (`cluster-reconciler`).
    pub reconciles_cluster: bool,
}

impl Controller {
    pub(crate) fn is_source(&self) -> bool {
        self.name == "source-controller"
    }

    pub(crate) fn is_notification(&self) -> bool {
        self.name == "notification-controller"
    }
}

/// The controllers ferroflux installs, in the order `flux install` lists its components.
pub(crate) const CONTROLLERS: [Controller; 4] = [
    Controller {
        name: "source-controller",
        values_key: "sourceController",
        group: "source.toolkit.fluxcd.io",
        cpu_request: "50m",
        grace_seconds: 10,
        critical: true,
        reconciles_cluster: false,
    },
    Controller {
        name: "kustomize-controller",
        values_key: "kustomizeController",
        group: "kustomize.toolkit.fluxcd.io",
        cpu_request: "100m",
        grace_seconds: 60,
        critical: true,
        reconciles_cluster: true,
    },
    Controller {
        name: "helm-controller",
        values_key: "helmController",
        group: "helm.toolkit.fluxcd.io",
        cpu_request: "100m",
        grace_seconds: 600,
        critical: true,
        reconciles_cluster: true,
    },
    Controller {
        name: "notification-controller",
        values_key: "notificationController",
        group: "notification.toolkit.fluxcd.io",
        cpu_request: "100m",
        grace_seconds: 10,
        critical: false,
        reconciles_cluster: false,
    },
];

/// The values that differ between `deploy/install.yaml` (literal values) and the chart
/// (Helm expressions).
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// The namespace, also the `app.kubernetes.io/instance` label and the RBAC name suffix.
    pub namespace: String,
    /// `app.kubernetes.io/version`, `v<workspace version>`.
    pub version: String,
    /// The full image reference.
    pub image: String,
    pub image_pull_policy: String,
    pub log_level: String,
    pub watch_all_namespaces: String,
}

impl Settings {
    /// The values of `deploy/install.yaml`.
    pub(crate) fn install() -> Self {
        let version = version();
        Self {
            namespace: NAMESPACE.to_owned(),
            image: format!("{IMAGE_REPOSITORY}:{version}"),
            version,
            image_pull_policy: "IfNotPresent".to_owned(),
            log_level: "info".to_owned(),
            watch_all_namespaces: "true".to_owned(),
        }
    }

    /// Labels every installed object carries.
    pub(crate) fn labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                "app.kubernetes.io/instance".to_owned(),
                self.namespace.clone(),
            ),
            ("app.kubernetes.io/part-of".to_owned(), "flux".to_owned()),
            ("app.kubernetes.io/version".to_owned(), self.version.clone()),
        ])
    }

    /// Labels of the objects that belong to one controller.
    pub(crate) fn component_labels(&self, controller: &Controller) -> BTreeMap<String, String> {
        let mut labels = self.labels();
        labels.insert(
            "app.kubernetes.io/component".to_owned(),
            controller.name.to_owned(),
        );
        labels
    }

    /// Metadata of a namespaced object.
    pub(crate) fn namespaced(&self, name: &str, labels: BTreeMap<String, String>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(self.namespace.clone()),
            labels: Some(labels),
            ..ObjectMeta::default()
        }
    }

    /// Metadata of a cluster-scoped object named like `flux install` does: `<name>-<namespace>`.
    pub(crate) fn cluster_scoped(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(format!("{name}-{}", self.namespace)),
            labels: Some(self.labels()),
            ..ObjectMeta::default()
        }
    }
}

/// `v<workspace version>`, the image tag and the `app.kubernetes.io/version` label.
pub(crate) fn version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

/// The objects that belong to one controller: ServiceAccount, Services, Deployment.
pub(crate) fn controller_objects(
    controller: &Controller,
    settings: &Settings,
) -> Result<Vec<Value>> {
    let mut objects = vec![to_value(&objects::service_account(controller, settings))?];
    for service in objects::services(controller, settings) {
        objects.push(to_value(&service)?);
    }
    objects.push(to_value(&deployment::deployment(controller, settings))?);
    Ok(objects)
}

/// The cluster-wide RBAC and the critical-pods quota (`flux install`'s `roles` set).
pub(crate) fn rbac_objects(settings: &Settings) -> Result<Vec<Value>> {
    let mut objects = vec![to_value(&objects::critical_pods_quota(settings))?];
    for role in objects::cluster_roles(settings) {
        objects.push(to_value(&role)?);
    }
    for binding in objects::cluster_role_bindings(settings) {
        objects.push(to_value(&binding)?);
    }
    Ok(objects)
}

/// The network policies of `flux install --network-policy` (the default).
pub(crate) fn network_policy_objects(settings: &Settings) -> Result<Vec<Value>> {
    [
        objects::allow_egress(settings),
        objects::allow_scraping(settings),
        objects::allow_webhooks(settings),
    ]
    .iter()
    .map(to_value)
    .collect()
}

/// The CRDs with the install labels (`app.kubernetes.io/component` is the owning controller).
pub(crate) fn crd_objects(settings: &Settings) -> Result<Vec<(String, Value)>> {
    let mut crds = Vec::new();
    for crd in ferroflux_api::crds() {
        let mut definition = crd.crd;
        let owner = CONTROLLERS
            .iter()
            .find(|controller| controller.group == definition.spec.group)
            .with_context(|| format!("no controller serves group {}", definition.spec.group))?;
        definition
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .extend(settings.component_labels(owner));
        crds.push((crd.file_name, to_value(&definition)?));
    }
    Ok(crds)
}

/// Every object of `deploy/install.yaml`, in kustomize's legacy order (kind, then name), which
/// is the order of Flux's gotk-components.yaml.
fn install_objects() -> Result<Vec<Value>> {
    let settings = Settings::install();
    let mut objects = vec![to_value(&objects::namespace(&settings))?];
    objects.extend(crd_objects(&settings)?.into_iter().map(|(_, crd)| crd));
    for controller in &CONTROLLERS {
        objects.extend(controller_objects(controller, &settings)?);
    }
    objects.extend(rbac_objects(&settings)?);
    objects.extend(network_policy_objects(&settings)?);
    objects.sort_by_cached_key(|object| {
        let kind = object["kind"].as_str().unwrap_or_default().to_owned();
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (kind_rank(&kind), kind, name)
    });
    Ok(objects)
}

/// kustomize's legacy apply order for the kinds we install; others go last.
fn kind_rank(kind: &str) -> usize {
    const ORDER: [&str; 9] = [
        "Namespace",
        "ResourceQuota",
        "CustomResourceDefinition",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Service",
        "Deployment",
        "NetworkPolicy",
    ];
    ORDER
        .iter()
        .position(|known| *known == kind)
        .unwrap_or(ORDER.len())
}

fn to_value<T: serde::Serialize>(object: &T) -> Result<Value> {
    serde_json::to_value(object).context("serializing an install object")
}

/// Several objects as one multi-document YAML stream.
pub(crate) fn documents(objects: &[Value]) -> Result<String> {
    objects
        .iter()
        .map(crate::generate::to_yaml)
        .collect::<Result<Vec<_>>>()
        .map(|documents| documents.concat())
}

/// Every file this module generates, relative to the repository root.
pub fn generated_files() -> Result<Vec<(PathBuf, String)>> {
    let mut files = vec![(
        PathBuf::from("deploy/install.yaml"),
        documents(&install_objects()?)?,
    )];
    files.extend(chart::files()?);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo xtask gen --check`: the committed install manifests, chart and CRDs are the
    /// generated ones. On drift this prints a unified diff and fails.
    #[test]
    fn committed_files_are_generated() {
        crate::generate::run(true)
            .expect("committed generated files must match `cargo xtask gen`; run it and commit");
    }

    #[test]
    fn install_yaml_has_every_kind_once_per_controller() {
        let objects = install_objects().expect("install objects build");
        let count = |kind: &str| objects.iter().filter(|o| o["kind"] == kind).count();
        assert_eq!(count("Namespace"), 1);
        assert_eq!(
            count("CustomResourceDefinition"),
            ferroflux_api::crds().len()
        );
        assert_eq!(count("ServiceAccount"), CONTROLLERS.len());
        assert_eq!(count("Deployment"), CONTROLLERS.len());
        assert_eq!(count("Service"), 3);
        assert_eq!(count("NetworkPolicy"), 3);
        for object in &objects {
            let labels = &object["metadata"]["labels"];
            assert_eq!(labels["app.kubernetes.io/part-of"], "flux", "{object}");
            assert_eq!(labels["app.kubernetes.io/instance"], NAMESPACE, "{object}");
            assert_eq!(labels["app.kubernetes.io/version"], version(), "{object}");
        }
    }

    #[test]
    fn deployments_run_their_own_binary_from_the_one_image() {
        let settings = Settings::install();
        for controller in &CONTROLLERS {
            let deployment = deployment::deployment(controller, &settings);
            let container = &deployment.spec.unwrap().template.spec.unwrap().containers[0];
            assert_eq!(
                container.command.as_deref(),
                Some(&[format!("/usr/local/bin/{}", controller.name)][..])
            );
            assert_eq!(
                container.image.as_deref(),
                Some(format!("ghcr.io/ferroflux/ferroflux:{}", version()).as_str())
            );
        }
    }
}
