//! `spec.dependsOn`: every dependency HelmRelease must exist and be Ready at its latest
//! generation, or satisfy its `readyExpr` (CEL over `self` and `dep`).

use std::time::Duration;

use ferroflux_api::helm::v2::HelmRelease;
use ferroflux_runtime::cel::{DependencyCheck, check_dependency};
use ferroflux_runtime::driver::ready_at_generation;
use kube::{Api, Client, ResourceExt};

use crate::error::HelmError;

/// Checks the dependencies of `object`; `additive`: Flux's AdditiveCELDependencyCheck
/// feature gate (a `readyExpr` adds to the built-in readiness check instead of replacing it).
pub async fn check(
    client: &Client,
    object: &HelmRelease,
    requeue: Duration,
    additive: bool,
) -> Result<(), HelmError> {
    let own_namespace = object.namespace().unwrap_or_default();
    for dependency in object.spec.depends_on.iter().flatten() {
        let namespace = dependency
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| own_namespace.clone());
        let name = format!("{namespace}/{}", dependency.name);
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
        if let Some(expression) = dependency.ready_expr.as_deref().filter(|e| !e.is_empty()) {
            match check_dependency(expression, &dependency.name, object, &found) {
                DependencyCheck::Ready => {}
                DependencyCheck::NotReady(why) => return Err(not_ready(&why)),
                DependencyCheck::Invalid(message) => return Err(HelmError::InvalidCel(message)),
            }
            // The expression replaces the built-in check unless Flux's
            // AdditiveCELDependencyCheck feature gate adds it back.
            if !additive {
                continue;
            }
        }
        if !ready_at_generation(&found) {
            return Err(not_ready("is not ready"));
        }
    }
    Ok(())
}
