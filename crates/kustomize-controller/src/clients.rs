//! The clients a Kustomization applies with (runtime's [`ferroflux_runtime::clients`]),
//! with failures as [`KustomizeError`]s.

use ferroflux_api::kustomize::v1::Kustomization;
use ferroflux_runtime::clients::{self, ClientError, Target};
use ferroflux_runtime::driver::Context;
use kube::{Client, Config, ResourceExt};

use crate::error::KustomizeError;

/// Builds per-Kustomization clients from the controller's configuration.
pub struct Clients(clients::Clients);

impl Clients {
    /// Clients derived from the controller's `config`.
    pub fn new(base: Config, default_service_account: Option<String>) -> Self {
        Self(clients::Clients::new(base, default_service_account))
    }

    /// True when `object` is applied with the controller's own client (no impersonation,
    /// no remote cluster), so state tied to that client (discovery) can be shared.
    pub fn uses_own_client(&self, object: &Kustomization) -> bool {
        let namespace = object.namespace().unwrap_or_default();
        self.0.uses_own_client(target(object, &namespace))
    }

    /// The client to apply `object` with.
    pub async fn for_object(
        &self,
        context: &Context,
        object: &Kustomization,
    ) -> Result<Client, KustomizeError> {
        let namespace = object.namespace().unwrap_or_default();
        self.0
            .for_target(context, target(object, &namespace))
            .await
            .map_err(|error| match error {
                ClientError::InvalidSpec(message) => KustomizeError::InvalidSpec(message),
                ClientError::Client(message) => KustomizeError::Apply(message),
                ClientError::Kubernetes(error) => KustomizeError::Kubernetes(error),
            })
    }
}

fn target<'a>(object: &'a Kustomization, namespace: &'a str) -> Target<'a> {
    Target {
        namespace,
        service_account_name: object.spec.service_account_name.as_deref(),
        kube_config: object.spec.kube_config.as_ref(),
    }
}
