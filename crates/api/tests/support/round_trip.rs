//! Shared checks of the round-trip tests: YAML → Rust type → JSON must change nothing, and
//! example files must set every field their CRD schema knows.

use std::path::Path;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use kube::CustomResourceExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Reads `tests/examples/<file>`.
pub fn read_example(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/examples")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The openAPIV3Schema of `T`'s CRD.
pub fn schema_of<T: CustomResourceExt>() -> JSONSchemaProps {
    T::crd().spec.versions[0]
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.clone())
        .expect("CRD has a schema")
}

/// Deserializes one YAML document into `T` and returns it serialized back to JSON, along
/// with the document read as plain JSON.
pub fn round_trip<T: Serialize + DeserializeOwned>(origin: &str, yaml: &str) -> (Value, Value) {
    let plain: Value =
        serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{origin}: not valid YAML: {e}"));
    let typed: T = serde_saphyr::from_str(yaml)
        .unwrap_or_else(|e| panic!("{origin}: does not deserialize into the type: {e}"));
    let back = serde_json::to_value(&typed).expect("type serializes");
    (plain, back)
}

/// The example `file` survives the round trip unchanged and sets every schema field.
pub fn assert_example<T>(file: &str)
where
    T: CustomResourceExt + Serialize + DeserializeOwned,
{
    let (expected, actual) = round_trip::<T>(file, &read_example(file));
    assert_eq!(actual, expected, "{file}: round trip changed the object");

    let schema = schema_of::<T>();
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

/// Records every schema property under `path` that `value` does not set. For arrays and
/// maps, the union of the elements must set every property of the element schema.
fn collect_missing(schema: &JSONSchemaProps, value: &Value, path: &str, out: &mut Vec<String>) {
    if value.is_null() {
        out.push(path.to_owned());
        return;
    }
    let elements: Option<(Vec<&Value>, &JSONSchemaProps, String)> =
        match (&schema.items, &schema.additional_properties) {
            (Some(JSONSchemaPropsOrArray::Schema(items)), _) => Some((
                value.as_array().into_iter().flatten().collect(),
                items,
                format!("{path}[]"),
            )),
            (_, Some(JSONSchemaPropsOrBool::Schema(values))) => Some((
                value
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.values())
                    .collect(),
                values,
                format!("{path}{{}}"),
            )),
            _ => None,
        };
    if let Some((elements, element_schema, element_path)) = elements {
        let per_element: Vec<Vec<String>> = elements
            .into_iter()
            .map(|element| {
                let mut element_missing = Vec::new();
                collect_missing(element_schema, element, &element_path, &mut element_missing);
                element_missing
            })
            .collect();
        match per_element.split_first() {
            None => out.push(element_path),
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

/// Fills in schema defaults the way the API server does before storing an object: for
/// every object, each absent property with a `default` gets it, recursively.
pub fn apply_defaults(schema: &JSONSchemaProps, value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, child) in schema.properties.iter().flatten() {
                if !map.contains_key(name)
                    && let Some(default) = &child.default
                {
                    map.insert(name.clone(), default.0.clone());
                }
                if let Some(v) = map.get_mut(name) {
                    apply_defaults(child, v);
                }
            }
            if let Some(JSONSchemaPropsOrBool::Schema(values)) = &schema.additional_properties {
                for v in map.values_mut() {
                    apply_defaults(values, v);
                }
            }
        }
        Value::Array(elements) => {
            if let Some(JSONSchemaPropsOrArray::Schema(items)) = &schema.items {
                for v in elements {
                    apply_defaults(items, v);
                }
            }
        }
        _ => {}
    }
}
