//! Turns the derived custom resource types into the CRDs we install.
//!
//! kube derives most of each CRD from the Rust types. A few facts of Flux's CRDs cannot be
//! said through derive attributes, so they are applied here, in code, to every CRD:
//! the `kustomize.toolkit.fluxcd.io/substitute: disabled` annotation, the status default
//! `{observedGeneration: -1}`, and no `required` list on the root schema (Flux's root
//! schemas require nothing; kube's would require `spec`).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps,
};
use kube::CustomResourceExt;
use serde_json::json;

use crate::constants::SUBSTITUTE_ANNOTATION;

const API_VERSION_DOC: &str = "The versioned schema of this representation of the object, \
    `group/version`. Servers convert recognized schemas to the latest internal value and may \
    reject unrecognized values.";
const KIND_DOC: &str = "The REST resource this object represents, in CamelCase. Servers may \
    infer it from the endpoint the client submits requests to; it cannot be updated.";

/// One CRD with the file name Flux publishes it under.
#[derive(Clone, Debug)]
pub struct FluxCrd {
    /// Flux's file name, `<group>_<plural>.yaml`.
    pub file_name: String,
    /// The finished CRD.
    pub crd: CustomResourceDefinition,
}

/// How one kind's CRD differs from what kube derives.
struct Finish {
    /// Whether `status` defaults to `{observedGeneration: -1}` (every kind with a status).
    status_default: bool,
}

/// Every CRD ferroflux serves, in a stable order.
pub fn crds() -> Vec<FluxCrd> {
    use crate::source::v1 as source;
    let with_status = Finish {
        status_default: true,
    };
    // ExternalArtifact is written by third-party controllers; Flux gives its status no default.
    let status_without_default = Finish {
        status_default: false,
    };
    // Provider and Alert have no status at all, so there is nothing to default.
    let without_status = Finish {
        status_default: false,
    };
    vec![
        finish(source::GitRepository::crd(), &with_status),
        finish(source::HelmRepository::crd(), &with_status),
        finish(source::HelmChart::crd(), &with_status),
        finish(source::OCIRepository::crd(), &with_status),
        finish(source::Bucket::crd(), &with_status),
        finish(source::ExternalArtifact::crd(), &status_without_default),
        finish(crate::kustomize::v1::Kustomization::crd(), &with_status),
        finish(crate::helm::v2::HelmRelease::crd(), &with_status),
        finish(
            crate::notification::v1beta3::Provider::crd(),
            &without_status,
        ),
        finish(crate::notification::v1beta3::Alert::crd(), &without_status),
        finish(crate::notification::v1::Receiver::crd(), &with_status),
    ]
}

fn finish(mut crd: CustomResourceDefinition, how: &Finish) -> FluxCrd {
    crd.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(SUBSTITUTE_ANNOTATION.to_owned(), "disabled".to_owned());
    for version in &mut crd.spec.versions {
        // controller-gen always writes a `subresources` map, empty for kinds without a
        // status (Provider, Alert); kube leaves it out for those.
        version.subresources.get_or_insert_with(Default::default);
        let Some(schema) = version
            .schema
            .as_mut()
            .and_then(|validation| validation.open_api_v3_schema.as_mut())
        else {
            continue;
        };
        schema.required = None;
        // schemars titles the root schema with the Rust type name; Flux's has no title.
        schema.title = None;
        let properties = schema.properties.get_or_insert_with(Default::default);
        for (field, description) in [("apiVersion", API_VERSION_DOC), ("kind", KIND_DOC)] {
            properties
                .entry(field.to_owned())
                .or_insert_with(|| JSONSchemaProps {
                    description: Some(description.to_owned()),
                    type_: Some("string".to_owned()),
                    ..JSONSchemaProps::default()
                });
        }
        // Flux's schemas declare `metadata: {type: object}`; kube leaves it out.
        properties
            .entry("metadata".to_owned())
            .or_insert_with(|| JSONSchemaProps {
                type_: Some("object".to_owned()),
                ..JSONSchemaProps::default()
            });
        if how.status_default
            && let Some(status) = schema.properties.as_mut().and_then(|p| p.get_mut("status"))
        {
            status.default = Some(
                k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSON(
                    json!({"observedGeneration": -1}),
                ),
            );
        }
        strip_nullable(schema);
    }
    if crd.spec.names.list_kind.is_none() {
        crd.spec.names.list_kind = Some(format!("{}List", crd.spec.names.kind));
    }
    let file_name = format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural);
    FluxCrd { file_name, crd }
}

/// Flux's schemas never say `nullable`; kube adds it for `Option` fields. An absent field
/// and a null one mean the same to every Flux reconciler, so we drop it to match.
fn strip_nullable(schema: &mut JSONSchemaProps) {
    schema.nullable = None;
    for child in schema.properties.iter_mut().flat_map(|p| p.values_mut()) {
        strip_nullable(child);
    }
    if let Some(k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaPropsOrArray::Schema(items)) =
        schema.items.as_mut()
    {
        strip_nullable(items);
    }
    if let Some(k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaPropsOrBool::Schema(extra)) =
        schema.additional_properties.as_mut()
    {
        strip_nullable(extra);
    }
}
