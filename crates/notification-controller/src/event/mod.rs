//! The event server: Flux's event JSON in, notifications out.

pub mod matching;
pub mod metadata;
pub mod ratelimit;
pub mod server;

#[cfg(test)]
pub(crate) fn test_event(
    severity: &str,
    metadata: &[(&str, &str)],
) -> ferroflux_runtime::events::FluxEvent {
    use k8s_openapi::api::core::v1::ObjectReference;
    ferroflux_runtime::events::FluxEvent {
        involved_object: ObjectReference {
            api_version: Some("kustomize.toolkit.fluxcd.io/v1".to_owned()),
            kind: Some("Kustomization".to_owned()),
            name: Some("webapp".to_owned()),
            namespace: Some("apps".to_owned()),
            uid: Some("8d4f5e2a-1111-2222-3333-444455556666".to_owned()),
            ..ObjectReference::default()
        },
        severity: severity.to_owned(),
        timestamp: "2026-01-01T00:00:00Z".to_owned(),
        message: "Deployment/apps/webapp configured".to_owned(),
        reason: "ReconciliationSucceeded".to_owned(),
        metadata: metadata
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        reporting_controller: "kustomize-controller".to_owned(),
        reporting_instance: "kustomize-controller-7f9d".to_owned(),
    }
}
