//! Acceptance and round trip: complete objects of every kind are accepted by the API server,
//! keep every field they were sent with, and read back through the Rust type unchanged.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use serde_json::Value;

use crate::cluster::Cluster;
use crate::json::{diff, lost, report};
use crate::kinds::{self, Kind};

/// Creates `object` as `name`, writes its status (if it has one) through the status
/// subresource, reads it back, and lists every problem: refusals, fields the server dropped
/// or changed, and differences between the server's JSON and the Rust round trip of it.
pub async fn check_object(
    cluster: &Cluster,
    kind: &Kind,
    object: &Value,
    name: &str,
) -> Vec<String> {
    let local = cluster.localize(object, name);
    if let Err(status) = cluster.create(kind, &local).await {
        return vec![format!("refused on create: {}", status.message)];
    }
    let mut problems = Vec::new();
    if let Some(status) = object.get("status")
        && let Err(refusal) = cluster.write_status(kind, name, status).await
    {
        problems.push(format!("status refused: {}", refusal.message));
    }
    let stored = cluster.get(kind, name).await;
    for field in ["spec", "status"] {
        if let Some(sent) = local.get(field) {
            problems.extend(
                lost(sent, &stored[field])
                    .into_iter()
                    .map(|p| format!("{field}{p}")),
            );
        }
    }
    match (kind.round_trip)(&stored) {
        Err(error) => problems.push(error),
        Ok(back) => {
            for field in ["spec", "status"] {
                problems.extend(
                    diff(&stored[field], &back[field])
                        .into_iter()
                        .map(|d| format!("server JSON → Rust → JSON changed {field}{d}")),
                );
            }
        }
    }
    problems
}

/// The complete example of every kind (in the variants the CEL rules allow) is accepted,
/// keeps every spec and status field, and survives the Rust round trip.
#[tokio::test]
async fn complete_examples_are_accepted_and_round_trip() {
    let cluster = Cluster::new("api-objects").await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for kind in kinds::all() {
        for (index, object) in kind.accepted_objects().iter().enumerate() {
            let name = format!("{}-{index}", kind.name.to_lowercase());
            let problems = check_object(&cluster, &kind, object, &name).await;
            checked += 1;
            if !problems.is_empty() {
                failures.push(report(
                    &format!("{} variant {index} ({name})", kind.name),
                    &problems,
                ));
            }
        }
    }
    cluster.finish().await;
    assert!(
        failures.is_empty(),
        "{} of {checked} objects failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The accepted variants of each kind still set, between them, every field of the CRD's
/// spec and status schema, so the server round trip covers every field.
#[test]
fn accepted_variants_cover_every_field() {
    let mut failures = Vec::new();
    for kind in kinds::all() {
        let schema = kind.schema();
        let mut unset: Option<Vec<String>> = None;
        for object in kind.accepted_objects() {
            let mut missing = Vec::new();
            for field in ["spec", "status"] {
                if let Some(child) = schema.properties.as_ref().and_then(|p| p.get(field)) {
                    unset_fields(child, &object[field], field, &mut missing);
                }
            }
            unset = Some(match unset {
                None => missing,
                Some(previous) => previous
                    .into_iter()
                    .filter(|m| missing.contains(m))
                    .collect(),
            });
        }
        let unset = unset.unwrap_or_default();
        if !unset.is_empty() {
            failures.push(format!("{}: no accepted variant sets {unset:?}", kind.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Records every schema property under `path` that `value` leaves unset. For arrays and
/// maps, the elements together must set every property of the element schema.
fn unset_fields(schema: &JSONSchemaProps, value: &Value, path: &str, out: &mut Vec<String>) {
    if value.is_null() {
        out.push(path.to_owned());
        return;
    }
    let element_schema = match (&schema.items, &schema.additional_properties) {
        (Some(JSONSchemaPropsOrArray::Schema(items)), _) => Some((items, format!("{path}[]"))),
        (_, Some(JSONSchemaPropsOrBool::Schema(values))) => Some((values, format!("{path}{{}}"))),
        _ => None,
    };
    if let Some((element_schema, element_path)) = element_schema {
        let elements: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            Value::Object(map) => map.values().collect(),
            _ => Vec::new(),
        };
        let mut common: Option<Vec<String>> = None;
        for element in elements {
            let mut missing = Vec::new();
            unset_fields(element_schema, element, &element_path, &mut missing);
            common = Some(match common {
                None => missing,
                Some(previous) => previous
                    .into_iter()
                    .filter(|m| missing.contains(m))
                    .collect(),
            });
        }
        out.extend(common.unwrap_or_else(|| vec![element_path]));
        return;
    }
    for (name, child) in schema.properties.iter().flatten() {
        unset_fields(child, &value[name], &format!("{path}.{name}"), out);
    }
}
