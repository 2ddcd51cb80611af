//! Clients for the cluster a Kustomization applies to: the controller's own, one that
//! impersonates `spec.serviceAccountName` (or `--default-service-account`), or one for a
//! remote cluster from `spec.kubeConfig.secretRef`.

use ferroflux_api::kustomize::v1::Kustomization;
use ferroflux_runtime::driver::Context;
use k8s_openapi::api::core::v1::Secret;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config, ResourceExt};

use crate::error::KustomizeError;

/// Builds per-object clients from the controller's configuration.
pub struct Clients {
    base: Config,
    default_service_account: Option<String>,
}

impl Clients {
    /// Clients derived from the controller's `config`.
    pub fn new(base: Config, default_service_account: Option<String>) -> Self {
        Self {
            base,
            default_service_account: default_service_account.filter(|s| !s.is_empty()),
        }
    }

    /// True when `object` is applied with the controller's own client (no impersonation,
    /// no remote cluster), so state tied to that client (discovery) can be shared.
    pub fn uses_own_client(&self, object: &Kustomization) -> bool {
        object.spec.kube_config.is_none()
            && self.default_service_account.is_none()
            && object
                .spec
                .service_account_name
                .as_deref()
                .is_none_or(str::is_empty)
    }

    /// The client to apply `object` with.
    pub async fn for_object(
        &self,
        context: &Context,
        object: &Kustomization,
    ) -> Result<Client, KustomizeError> {
        let namespace = object.namespace().unwrap_or_default();
        let service_account = object
            .spec
            .service_account_name
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| self.default_service_account.clone());
        let mut config = match &object.spec.kube_config {
            Some(reference) => {
                let Some(secret_ref) = &reference.secret_ref else {
                    return Err(KustomizeError::InvalidSpec(
                        "spec.kubeConfig.configMapRef (workload identity) is not supported by ferroflux yet".to_owned(),
                    ));
                };
                remote_config(
                    context,
                    &namespace,
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
        Client::try_from(config).map_err(|e| {
            KustomizeError::Apply(format!("failed to build the Kubernetes client: {e}"))
        })
    }
}

/// The configuration of a remote cluster from a kubeconfig in a Secret (key `value`, or
/// `value.yaml`, unless named).
async fn remote_config(
    context: &Context,
    namespace: &str,
    name: &str,
    key: Option<&str>,
) -> Result<Config, KustomizeError> {
    let secrets: Api<Secret> = Api::namespaced(context.client.clone(), namespace);
    let secret = secrets.get_opt(name).await?.ok_or_else(|| {
        KustomizeError::Apply(format!(
            "unable to read KubeConfig secret '{namespace}/{name}': secret not found"
        ))
    })?;
    let data = secret.data.unwrap_or_default();
    let bytes = match key {
        Some(key) => data.get(key),
        None => data.get("value").or_else(|| data.get("value.yaml")),
    }
    .ok_or_else(|| {
        KustomizeError::Apply(format!(
            "KubeConfig secret '{namespace}/{name}' does not contain the '{}' key",
            key.unwrap_or("value")
        ))
    })?;
    let text = String::from_utf8_lossy(&bytes.0);
    let kubeconfig = Kubeconfig::from_yaml(&text).map_err(|e| {
        KustomizeError::Apply(format!(
            "invalid kubeconfig in secret '{namespace}/{name}': {e}"
        ))
    })?;
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| {
            KustomizeError::Apply(format!(
                "invalid kubeconfig in secret '{namespace}/{name}': {e}"
            ))
        })
}
