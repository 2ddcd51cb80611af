//! Clients for the cluster an object applies to (Kustomization, HelmRelease): the
//! controller's own, one that impersonates `spec.serviceAccountName` (or
//! `--default-service-account`), or one for a remote cluster from
//! `spec.kubeConfig.secretRef`.

use ferroflux_api::meta::KubeConfigReference;
use k8s_openapi::api::core::v1::Secret;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

use crate::driver::Context;

/// Why no client could be made for an object.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The spec asks for something that is not supported.
    #[error("{0}")]
    InvalidSpec(String),
    /// The kubeconfig Secret is missing or invalid, or the client could not be built.
    #[error("{0}")]
    Client(String),
    /// Reading the kubeconfig Secret failed.
    #[error(transparent)]
    Kubernetes(#[from] kube::Error),
}

/// The parts of an object's spec that choose its client.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The object's namespace (of the ServiceAccount and the kubeconfig Secret).
    pub namespace: &'a str,
    /// `spec.serviceAccountName`.
    pub service_account_name: Option<&'a str>,
    /// `spec.kubeConfig`.
    pub kube_config: Option<&'a KubeConfigReference>,
}

/// Builds per-object clients from the controller's configuration.
pub struct Clients {
    base: Config,
    default_service_account: Option<String>,
}

impl Clients {
    /// Clients derived from the controller's `config`; `default_service_account` is
    /// `--default-service-account` (empty for none).
    pub fn new(base: Config, default_service_account: Option<String>) -> Self {
        Self {
            base,
            default_service_account: default_service_account.filter(|s| !s.is_empty()),
        }
    }

    /// True when `target` is applied with the controller's own client (no impersonation,
    /// no remote cluster), so state tied to that client (discovery) can be shared.
    pub fn uses_own_client(&self, target: Target<'_>) -> bool {
        target.kube_config.is_none()
            && self.default_service_account.is_none()
            && target.service_account_name.is_none_or(str::is_empty)
    }

    /// The client to apply `target` with.
    pub async fn for_target(
        &self,
        context: &Context,
        target: Target<'_>,
    ) -> Result<Client, ClientError> {
        let namespace = target.namespace;
        let service_account = target
            .service_account_name
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .or_else(|| self.default_service_account.clone());
        let mut config = match target.kube_config {
            Some(reference) => {
                let Some(secret_ref) = &reference.secret_ref else {
                    return Err(ClientError::InvalidSpec(
                        "spec.kubeConfig.configMapRef (workload identity) is not supported by ferroflux yet".to_owned(),
                    ));
                };
                remote_config(
                    context,
                    namespace,
                    &secret_ref.name,
                    secret_ref.key.as_deref(),
                )
                .await?
            }
            None if service_account.is_none() => return Ok(context.client.clone()),
            None => self.base.clone(),
        };
        if let Some(service_account) = service_account {
            config.auth_info.impersonate = Some(format!(
                "system:serviceaccount:{namespace}:{service_account}"
            ));
        }
        Client::try_from(config)
            .map_err(|e| ClientError::Client(format!("failed to build the Kubernetes client: {e}")))
    }
}

/// The configuration of a remote cluster from a kubeconfig in a Secret (key `value`, or
/// `value.yaml`, unless named).
async fn remote_config(
    context: &Context,
    namespace: &str,
    name: &str,
    key: Option<&str>,
) -> Result<Config, ClientError> {
    let secrets: Api<Secret> = Api::namespaced(context.client.clone(), namespace);
    let secret = secrets.get_opt(name).await?.ok_or_else(|| {
        ClientError::Client(format!(
            "unable to read KubeConfig secret '{namespace}/{name}': secret not found"
        ))
    })?;
    let data = secret.data.unwrap_or_default();
    let bytes = match key {
        Some(key) => data.get(key),
        None => data.get("value").or_else(|| data.get("value.yaml")),
    }
    .ok_or_else(|| {
        ClientError::Client(format!(
            "KubeConfig secret '{namespace}/{name}' does not contain the '{}' key",
            key.unwrap_or("value")
        ))
    })?;
    let text = String::from_utf8_lossy(&bytes.0);
    let invalid = |e: &dyn std::fmt::Display| {
        ClientError::Client(format!(
            "invalid kubeconfig in secret '{namespace}/{name}': {e}"
        ))
    };
    let kubeconfig = Kubeconfig::from_yaml(&text).map_err(|e| invalid(&e))?;
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| invalid(&e))
}
