//! `spec.dependsOn`: every dependency must be Ready at its latest generation, and at the
//! same source revision when it reads the same source, or satisfy its `readyExpr` (CEL
//! over `self` and `dep`).

use std::time::Duration;

use ferroflux_api::kustomize::v1::Kustomization;
use ferroflux_runtime::cel::{DependencyCheck, check_dependency};
use ferroflux_runtime::driver::ready_at_generation;
use kube::{Api, Client, ResourceExt};

use crate::error::KustomizeError;

/// Checks the dependencies of `object`, whose source is at `revision`; `additive`: Flux's
/// AdditiveCELDependencyCheck feature gate (a `readyExpr` adds to the built-in checks
/// instead of replacing them).
pub async fn check(
    client: &Client,
    object: &Kustomization,
    revision: &str,
    requeue: Duration,
    additive: bool,
) -> Result<(), KustomizeError> {
    let own_namespace = object.namespace().unwrap_or_default();
    for dependency in object.spec.depends_on.iter().flatten() {
        let namespace = dependency
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| own_namespace.clone());
        let name = format!("{namespace}/{}", dependency.name);
        let api: Api<Kustomization> = Api::namespaced(client.clone(), &namespace);
        let not_ready = |why: &str| {
            KustomizeError::DependencyNotReady(
                format!(
                    "dependency '{name}' {why}, retrying in {}",
                    ferroflux_runtime::duration::format(requeue)
                ),
                requeue,
            )
        };
        let Some(found) = api.get_opt(&dependency.name).await? else {
            return Err(not_ready("not found"));
        };
        if let Some(expression) = dependency.ready_expr.as_deref().filter(|e| !e.is_empty()) {
            match check_dependency(expression, &dependency.name, object, &found) {
                DependencyCheck::Ready => {}
                DependencyCheck::NotReady(why) => return Err(not_ready(&why)),
                DependencyCheck::Invalid(message) => {
                    return Err(KustomizeError::InvalidCel(message));
                }
            }
            // The expression replaces the built-in checks (readiness and revision) unless
            // Flux's AdditiveCELDependencyCheck feature gate adds them back.
            if !additive {
                continue;
            }
        }
        if !ready_at_generation(&found) {
            return Err(not_ready("is not ready"));
        }
        let same_source = found.spec.source_ref.kind == object.spec.source_ref.kind
            && found.spec.source_ref.name == object.spec.source_ref.name
            && found
                .spec
                .source_ref
                .namespace
                .clone()
                .unwrap_or_else(|| namespace.clone())
                == object
                    .spec
                    .source_ref
                    .namespace
                    .clone()
                    .unwrap_or_else(|| own_namespace.clone());
        let applied = found
            .status
            .as_ref()
            .and_then(|s| s.last_applied_revision.as_deref());
        if same_source && applied != Some(revision) {
            return Err(not_ready(&format!(
                "is not up to date with revision '{revision}'"
            )));
        }
    }
    Ok(())
}
