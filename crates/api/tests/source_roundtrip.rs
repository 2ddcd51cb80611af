//! Every source kind survives YAML → Rust → JSON unchanged, and each example sets every
//! field its CRD schema knows, so a field missing from (or misnamed in) a Rust type fails
//! here.

use std::path::Path;

use ferroflux_api::source::v1::{
    Bucket, ExternalArtifact, GitRepository, HelmChart, HelmRepository, OCIRepository,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray,
};
use kube::CustomResourceExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn read_example(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/examples")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Deserializes the example into `T`, serializes it back and compares with the example
/// read as plain JSON; then checks the example covers every property of the CRD schema.
fn assert_round_trip<T>(file: &str)
where
    T: CustomResourceExt + Serialize + DeserializeOwned,
{
    let text = read_example(file);
    let expected: Value = serde_saphyr::from_str(&text).expect("example is valid YAML");
    let typed: T = serde_saphyr::from_str(&text).expect("example deserializes into the type");
    let actual = serde_json::to_value(&typed).expect("type serializes");
    assert_eq!(actual, expected, "{file}: round trip changed the object");

    let crd = T::crd();
    let schema = crd.spec.versions[0]
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .expect("CRD has a schema");
    let mut missing = Vec::new();
    for field in ["spec", "status"] {
        if let Some(props) = schema.properties.as_ref().and_then(|p| p.get(field)) {
            collect_missing(props, &expected[field], field, &mut missing);
        }
    }
    assert!(
        missing.is_empty(),
        "{file}: example leaves schema fields unset: {missing:?}"
    );
}

/// Records every schema property under `path` that `value` does not set. For arrays, the
/// union of the elements must set every property of the item schema.
fn collect_missing(schema: &JSONSchemaProps, value: &Value, path: &str, out: &mut Vec<String>) {
    if value.is_null() {
        out.push(path.to_owned());
        return;
    }
    if let Some(JSONSchemaPropsOrArray::Schema(items)) = &schema.items {
        let elements = value.as_array().map(Vec::as_slice).unwrap_or_default();
        let mut per_element: Vec<Vec<String>> = Vec::new();
        for element in elements {
            let mut element_missing = Vec::new();
            collect_missing(items, element, &format!("{path}[]"), &mut element_missing);
            per_element.push(element_missing);
        }
        match per_element.split_first() {
            None => out.push(format!("{path}[]")),
            Some((first, rest)) => out.extend(
                first
                    .iter()
                    .filter(|m| rest.iter().all(|other| other.contains(m)))
                    .cloned(),
            ),
        }
        return;
    }
    for (name, child) in schema.properties.iter().flatten() {
        collect_missing(child, &value[name], &format!("{path}.{name}"), out);
    }
}

#[test]
fn git_repository_round_trips() {
    assert_round_trip::<GitRepository>("gitrepository.yaml");
}

#[test]
fn helm_repository_round_trips() {
    assert_round_trip::<HelmRepository>("helmrepository.yaml");
}

#[test]
fn helm_chart_round_trips() {
    assert_round_trip::<HelmChart>("helmchart.yaml");
}

#[test]
fn oci_repository_round_trips() {
    assert_round_trip::<OCIRepository>("ocirepository.yaml");
}

#[test]
fn bucket_round_trips() {
    assert_round_trip::<Bucket>("bucket.yaml");
}

#[test]
fn external_artifact_round_trips() {
    assert_round_trip::<ExternalArtifact>("externalartifact.yaml");
}

/// Fields Flux defaults in the schema get the same default when Rust deserializes an
/// object written without them (as a manifest read from Git would be).
#[test]
fn schema_defaults_apply_on_deserialize() {
    let chart: HelmChart = serde_saphyr::from_str(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmChart\nmetadata:\n  name: c\n\
         spec:\n  chart: podinfo\n  interval: 1m\n  sourceRef:\n    kind: GitRepository\n    name: podinfo\n",
    )
    .expect("minimal HelmChart deserializes");
    let spec = serde_json::to_value(&chart.spec).expect("spec serializes");
    assert_eq!(spec["version"], "*");
    assert_eq!(spec["reconcileStrategy"], "ChartVersion");

    let bucket: Bucket = serde_saphyr::from_str(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: Bucket\nmetadata:\n  name: b\n\
         spec:\n  bucketName: b\n  endpoint: minio:9000\n  interval: 1m\n",
    )
    .expect("minimal Bucket deserializes");
    let spec = serde_json::to_value(&bucket.spec).expect("spec serializes");
    assert_eq!(spec["provider"], "generic");
    assert_eq!(spec["timeout"], "60s");
}
