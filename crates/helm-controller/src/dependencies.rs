//! `spec.dependsOn`: every dependency HelmRelease must exist and be Ready at its latest
//! generation.

use std::time::Duration;

use ferroflux_api::helm::v2::HelmRelease;
use ferroflux_runtime::driver::ready_at_generation;
use kube::{Api, Client, ResourceExt};

use crate::error::HelmError;

/// Checks the dependencies of `object`.
pub async fn check(
    client: &Client,
    object: &HelmRelease,
    requeue: Duration,
) -> Result<(), HelmError> {
    let own_namespace = object.namespace().unwrap_or_default();
    for dependency in object.spec.depends_on.iter().flatten() {
        let namespace = dependency
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| own_namespace.clone());
        let name = format!("{namespace}/{}", dependency.name);
        if dependency
            .ready_expr
            .as_deref()
            .is_some_and(|e| !e.is_empty())
        {
            return Err(HelmError::InvalidSpec(format!(
                "dependency '{name}': readyExpr (CEL) is not supported by ferroflux yet"
            )));
        }
        let not_ready = |why: &str| {
            HelmError::DependencyNotReady(
                format!(
                    "dependency '{name}' {why}, retrying in {}",
                    ferroflux_runtime::duration::format(requeue)
                ),
                requeue,
            )
        };
        let api: Api<HelmRelease> = Api::namespaced(client.clone(), &namespace);
        let Some(found) = api.get_opt(&dependency.name).await? else {
            return Err(not_ready("not found"));
        };
        if !ready_at_generation(&found) {
            return Err(not_ready("is not ready"));
        }
    }
    Ok(())
}
