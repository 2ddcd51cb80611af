//! Asking the Receiver's resources to reconcile: merge-patching
//! `reconcile.fluxcd.io/requestedAt` with the current time.

use ferroflux_api::constants::RECONCILE_REQUESTED_AT_ANNOTATION;
use ferroflux_api::notification::v1::{Receiver, ReceiverResource};
use jiff::Timestamp;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::{Client, ResourceExt};
use serde_json::json;
use tracing::{error, info};

use crate::event::matching::kind_name;

/// The API version a kind gets when the Receiver leaves it out (Flux's table; other
/// kinds must name theirs).
pub fn default_api_version(kind: &str) -> Option<&'static str> {
    match kind {
        "Bucket" | "HelmChart" | "HelmRepository" | "GitRepository" | "OCIRepository" => {
            Some("source.toolkit.fluxcd.io/v1")
        }
        "ImageRepository" => Some("image.toolkit.fluxcd.io/v1"),
        "ArtifactGenerator" => Some("source.extensions.fluxcd.io/v1beta1"),
        _ => None,
    }
}

/// Go's `time.Time.String()` for a UTC time (`2006-01-02 15:04:05.999999999 +0000 UTC`),
/// the form Flux's receiver writes.
pub fn go_time_string(time: Timestamp) -> String {
    let base = time.strftime("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = time.subsec_nanosecond();
    if nanos == 0 {
        return format!("{base} +0000 UTC");
    }
    let fraction = format!("{nanos:09}");
    format!("{base}.{} +0000 UTC", fraction.trim_end_matches('0'))
}

/// Where one `resources[]` entry points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The API resource (group, version, kind, plural).
    pub resource: ApiResource,
    /// The namespace.
    pub namespace: String,
}

/// Resolves an entry: namespace defaulting, cross-namespace refusal, apiVersion
/// defaulting per kind.
pub fn target(
    entry: &ReceiverResource,
    receiver_namespace: &str,
    no_cross_namespace_refs: bool,
) -> Result<Target, String> {
    let kind = kind_name(entry.kind);
    let namespace = match entry.namespace.as_deref().filter(|n| !n.is_empty()) {
        Some(namespace) if no_cross_namespace_refs && namespace != receiver_namespace => {
            return Err("cross-namespace references are not allowed".to_owned());
        }
        Some(namespace) => namespace.to_owned(),
        None => receiver_namespace.to_owned(),
    };
    let api_version = match entry.api_version.as_deref().filter(|v| !v.is_empty()) {
        Some(version) => version.to_owned(),
        None => default_api_version(&kind)
            .ok_or_else(|| format!("apiVersion must be specified for kind {kind:?}"))?
            .to_owned(),
    };
    let (group, version) = api_version.split_once('/').unwrap_or(("", &api_version));
    let gvk = GroupVersionKind::gvk(group, version, &kind);
    Ok(Target {
        resource: ApiResource::from_gvk(&gvk),
        namespace,
    })
}

/// The data CEL filters see besides the resource: the request body (`req`, `{}` unless
/// JSON) and, for `generic-oidc`, the token's claims (`claims`).
#[derive(Debug, Clone, Default)]
pub struct FilterInput {
    /// The request body as JSON.
    pub req: serde_json::Value,
    /// The verified claims.
    pub claims: Option<serde_json::Value>,
}

/// The compiled filter of one `resources[]` entry: `resourceFilter` and the entry's own
/// `filter`, both required to be true.
struct EntryFilter<'a> {
    programs: Vec<cel::Program>,
    input: &'a FilterInput,
}

impl EntryFilter<'_> {
    fn accepts(&self, object: &serde_json::Value) -> Result<bool, String> {
        let mut variables = vec![("res", object), ("req", &self.input.req)];
        if let Some(claims) = &self.input.claims {
            variables.push(("claims", claims));
        }
        for program in &self.programs {
            if !crate::filter::evaluate_bool(program, &variables)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn entry_filter<'a>(
    receiver: &Receiver,
    entry: &ReceiverResource,
    input: &'a FilterInput,
) -> Result<EntryFilter<'a>, String> {
    let programs = [
        receiver.spec.resource_filter.as_deref(),
        entry.filter.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|e| !e.is_empty())
    .map(crate::filter::compile)
    .collect::<Result<Vec<_>, _>>()?;
    Ok(EntryFilter { programs, input })
}

/// Annotates every resource of the Receiver that its filters accept; returns the errors
/// (the server answers 500 when there are any).
pub async fn request_reconciliation(
    client: &Client,
    receiver: &Receiver,
    no_cross_namespace_refs: bool,
    input: &FilterInput,
) -> Vec<String> {
    let receiver_namespace = receiver.namespace().unwrap_or_default();
    let mut errors = Vec::new();
    for entry in &receiver.spec.resources {
        let result = match (
            target(entry, &receiver_namespace, no_cross_namespace_refs),
            entry_filter(receiver, entry, input),
        ) {
            (Ok(target), Ok(filter)) => annotate_entry(client, entry, &target, &filter).await,
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        if let Err(e) = result {
            error!(receiver = %receiver.name_any(), namespace = %receiver_namespace, kind = %kind_name(entry.kind), name = %entry.name, error = %e, "unable to request reconciliation");
            errors.push(e);
        }
    }
    errors
}

/// Annotates `object` when the filter accepts it (Flux evaluates the filter over the
/// object's metadata: `apiVersion`, `kind`, `metadata`).
async fn annotate_if_accepted(
    api: &Api<DynamicObject>,
    target: &Target,
    object: &kube::core::PartialObjectMeta<DynamicObject>,
    filter: &EntryFilter<'_>,
) -> Result<(), String> {
    let name = object.name_any();
    if !filter.programs.is_empty() {
        let res = json!({
            "apiVersion": target.resource.api_version,
            "kind": target.resource.kind,
            "metadata": object.metadata,
        });
        if !filter.accepts(&res)? {
            info!(
                "resource '{}/{name}.{}' NOT annotated because CEL expression returned false",
                target.resource.kind, target.namespace
            );
            return Ok(());
        }
    }
    annotate(api, &target.resource.kind, &name).await
}

async fn annotate_entry(
    client: &Client,
    entry: &ReceiverResource,
    target: &Target,
    filter: &EntryFilter<'_>,
) -> Result<(), String> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &target.namespace, &target.resource);
    if entry.name != "*" {
        if filter.programs.is_empty() {
            return annotate(&api, &target.resource.kind, &entry.name).await;
        }
        let object = api.get_metadata(&entry.name).await.map_err(|e| {
            format!(
                "unable to read {} \"{}/{}\" error: {e}",
                target.resource.kind, target.namespace, entry.name
            )
        })?;
        return annotate_if_accepted(&api, target, &object, filter).await;
    }
    let Some(labels) = entry.match_labels.as_ref() else {
        return Err("matchLabels field not set when using wildcard '*' as name".to_owned());
    };
    let selector = labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let objects = api
        .list_metadata(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| {
            format!(
                "failed listing resources in namespace {:?} by matching labels {selector:?}: {e}",
                target.namespace
            )
        })?;
    if objects.items.is_empty() {
        error!(kind = %target.resource.kind, namespace = %target.namespace, selector, "no resources found with matching labels");
    }
    for object in &objects.items {
        annotate_if_accepted(&api, target, object, filter).await?;
    }
    Ok(())
}

async fn annotate(api: &Api<DynamicObject>, kind: &str, name: &str) -> Result<(), String> {
    let patch = json!({"metadata": {"annotations": {
        RECONCILE_REQUESTED_AT_ANNOTATION: go_time_string(Timestamp::now()),
    }}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| format!("unable to annotate {kind} {name:?}: {e}"))?;
    info!(kind, name, "resource annotated");
    Ok(())
}

#[cfg(test)]
mod tests {
    use ferroflux_api::notification::v1::FluxKind;

    use super::*;

    fn entry(
        kind: FluxKind,
        api_version: Option<&str>,
        namespace: Option<&str>,
    ) -> ReceiverResource {
        ReceiverResource {
            api_version: api_version.map(str::to_owned),
            kind,
            name: "app".to_owned(),
            namespace: namespace.map(str::to_owned),
            match_labels: None,
            filter: None,
        }
    }

    #[test]
    fn defaults_namespace_and_api_version() {
        let target = target(
            &entry(FluxKind::GitRepository, None, None),
            "flux-system",
            false,
        )
        .unwrap();
        assert_eq!(target.namespace, "flux-system");
        assert_eq!(target.resource.api_version, "source.toolkit.fluxcd.io/v1");
        assert_eq!(target.resource.plural, "gitrepositories");
        let oci = target_plural(FluxKind::OciRepository);
        assert_eq!(oci, "ocirepositories");
    }

    fn target_plural(kind: FluxKind) -> String {
        target(&entry(kind, None, None), "ns", false)
            .unwrap()
            .resource
            .plural
    }

    #[test]
    fn kinds_without_default_need_api_version() {
        let error = target(&entry(FluxKind::Kustomization, None, None), "ns", false).unwrap_err();
        assert_eq!(
            error,
            "apiVersion must be specified for kind \"Kustomization\""
        );
        let target = target(
            &entry(
                FluxKind::Kustomization,
                Some("kustomize.toolkit.fluxcd.io/v1"),
                Some("apps"),
            ),
            "ns",
            false,
        )
        .unwrap();
        assert_eq!(target.resource.plural, "kustomizations");
        assert_eq!(target.namespace, "apps");
    }

    #[test]
    fn cross_namespace_refusal() {
        let other = entry(FluxKind::GitRepository, None, Some("other"));
        assert!(target(&other, "ns", true).is_err());
        let same = entry(FluxKind::GitRepository, None, Some("ns"));
        assert!(target(&same, "ns", true).is_ok());
    }

    #[test]
    fn go_time_format() {
        let time: Timestamp = "2026-01-02T03:04:05.120Z".parse().unwrap();
        assert_eq!(go_time_string(time), "2026-01-02 03:04:05.12 +0000 UTC");
        let whole: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
        assert_eq!(go_time_string(whole), "2026-01-02 03:04:05 +0000 UTC");
    }
}
