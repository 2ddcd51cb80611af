//! The clients a HelmRelease applies with (runtime's [`ferroflux_runtime::clients`]),
//! with failures as [`HelmError`]s.

use ferroflux_api::helm::v2::HelmRelease;
use ferroflux_runtime::clients::{self, ClientError, Target};
use ferroflux_runtime::driver::Context;
use kube::{Client, Config, ResourceExt};

use crate::error::HelmError;

/// Builds per-HelmRelease clients from the controller's configuration.
pub struct Clients(clients::Clients);

impl Clients {
    /// Clients derived from the controller's `config`.
    pub fn new(base: Config, default_service_account: Option<String>) -> Self {
        Self(clients::Clients::new(base, default_service_account))
    }

    /// The client to apply `object` with.
    pub async fn for_object(
        &self,
        context: &Context,
        object: &HelmRelease,
    ) -> Result<Client, HelmError> {
        let namespace = object.namespace().unwrap_or_default();
        let target = Target {
            namespace: &namespace,
            service_account_name: object.spec.service_account_name.as_deref(),
            kube_config: object.spec.kube_config.as_ref(),
        };
        self.0
            .for_target(context, target)
            .await
            .map_err(|error| match error {
                ClientError::InvalidSpec(message) => HelmError::InvalidSpec(message),
                ClientError::Client(message) => HelmError::Client(message),
                ClientError::Kubernetes(error) => HelmError::Kubernetes(error),
            })
    }
}
