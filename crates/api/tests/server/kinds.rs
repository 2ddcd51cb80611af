//! Every Flux kind: its Rust type (as a round-trip function), its API resource, its complete
//! example under `tests/examples/`, and the variants the API server accepts.
//!
//! The examples set every field, including combinations the CRDs' CEL rules refuse (both
//! `chart` and `chartRef`, say). Each kind lists JSON merge patches that turn its example
//! into objects the server accepts; together the variants still set every field, which
//! `objects::complete_examples_*` checks.

use ferroflux_api::helm::v2::HelmRelease;
use ferroflux_api::kustomize::v1::Kustomization;
use ferroflux_api::notification::v1::Receiver;
use ferroflux_api::notification::v1beta3::{Alert, Provider};
use ferroflux_api::source::v1::{
    Bucket, ExternalArtifact, GitRepository, HelmChart, HelmRepository, OCIRepository,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use kube::Resource;
use kube::api::ApiResource;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One Flux kind.
pub struct Kind {
    /// The kind, as in `kind:`.
    pub name: String,
    /// Group, version and plural for dynamic API calls.
    pub resource: ApiResource,
    /// The complete example, a file under `tests/examples/`.
    pub example: &'static str,
    /// Merge patches applied to the example, each giving one accepted object. Empty: the
    /// example itself is accepted.
    pub variants: &'static [&'static str],
    /// Deserializes an object read from the server into the Rust type and serializes it back.
    pub round_trip: fn(&Value) -> Result<Value, String>,
}

impl Kind {
    /// The openAPIV3Schema of the CRD `ferroflux_api::crds()` generates for this kind.
    pub fn schema(&self) -> JSONSchemaProps {
        ferroflux_api::crds()
            .into_iter()
            .find(|crd| crd.crd.spec.names.kind == self.name)
            .and_then(|crd| crd.crd.spec.versions.into_iter().next())
            .and_then(|version| version.schema)
            .and_then(|schema| schema.open_api_v3_schema)
            .unwrap_or_else(|| panic!("crds() has a CRD with a schema for {}", self.name))
    }

    /// Whether the CRD serves a status subresource (Provider and Alert have no status).
    pub fn has_status(&self) -> bool {
        ferroflux_api::crds()
            .into_iter()
            .find(|crd| crd.crd.spec.names.kind == self.name)
            .and_then(|crd| crd.crd.spec.versions.into_iter().next())
            .and_then(|version| version.subresources)
            .is_some_and(|subresources| subresources.status.is_some())
    }

    /// The example file parsed as JSON.
    pub fn example(&self) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/examples")
            .join(self.example);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        serde_saphyr::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not valid YAML: {e}", path.display()))
    }

    /// The objects to create: the example with each variant's patch applied.
    pub fn accepted_objects(&self) -> Vec<Value> {
        if self.variants.is_empty() {
            return vec![self.example()];
        }
        self.variants
            .iter()
            .map(|patch| {
                let patch: Value = serde_json::from_str(patch)
                    .unwrap_or_else(|e| panic!("{} variant {patch} is not JSON: {e}", self.name));
                let mut object = self.example();
                crate::json::merge_patch(&mut object, &patch);
                object
            })
            .collect()
    }
}

fn kind<T>(example: &'static str, variants: &'static [&'static str]) -> Kind
where
    T: Resource<DynamicType = ()> + Serialize + DeserializeOwned,
{
    Kind {
        name: T::kind(&()).into_owned(),
        resource: ApiResource::erase::<T>(&()),
        example,
        variants,
        round_trip: round_trip::<T>,
    }
}

fn round_trip<T: Serialize + DeserializeOwned>(object: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(object.clone())
        .map_err(|e| format!("does not deserialize into the Rust type: {e}"))?;
    serde_json::to_value(&typed).map_err(|e| format!("does not serialize: {e}"))
}

/// Every kind ferroflux serves.
pub fn all() -> Vec<Kind> {
    vec![
        // serviceAccountName needs provider azure or aws.
        kind::<GitRepository>("gitrepository.yaml", &[r#"{"spec":{"provider":"azure"}}"#]),
        kind::<HelmRepository>("helmrepository.yaml", &[]),
        kind::<HelmChart>("helmchart.yaml", &[]),
        kind::<OCIRepository>("ocirepository.yaml", &[]),
        // generic takes STS ldap and secretRef; aws takes serviceAccountName and STS aws.
        kind::<Bucket>(
            "bucket.yaml",
            &[
                r#"{"spec":{"serviceAccountName":null}}"#,
                r#"{"spec":{"provider":"aws","secretRef":null,
                   "sts":{"provider":"aws","secretRef":null,"certSecretRef":null}}}"#,
            ],
        ),
        kind::<ExternalArtifact>("externalartifact.yaml", &[]),
        // kubeConfig takes exactly one of configMapRef and secretRef.
        kind::<Kustomization>(
            "kustomization.yaml",
            &[
                r#"{"spec":{"kubeConfig":{"configMapRef":null}}}"#,
                r#"{"spec":{"kubeConfig":{"secretRef":null}}}"#,
            ],
        ),
        // chart or chartRef, and one kubeConfig reference.
        kind::<HelmRelease>(
            "helmrelease.yaml",
            &[
                r#"{"spec":{"chartRef":null,"kubeConfig":{"configMapRef":null}}}"#,
                r#"{"spec":{"chart":null,"kubeConfig":{"secretRef":null}}}"#,
            ],
        ),
        kind::<Provider>("provider.yaml", &[]),
        kind::<Alert>("alert.yaml", &[]),
        // generic-oidc takes oidcProviders, every other type a secretRef.
        kind::<Receiver>(
            "receiver.yaml",
            &[
                r#"{"spec":{"secretRef":null}}"#,
                r#"{"spec":{"type":"github","oidcProviders":null}}"#,
            ],
        ),
    ]
}

/// The kind called `name`.
pub fn by_name(name: &str) -> Kind {
    all()
        .into_iter()
        .find(|kind| kind.name == name)
        .unwrap_or_else(|| panic!("{name} is not a kind ferroflux serves"))
}
