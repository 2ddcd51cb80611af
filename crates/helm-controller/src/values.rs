//! `spec.valuesFrom` and `spec.values`, merged in Flux's order (flux-api.md §5.2), and the
//! config digest of the result.

use ferroflux_api::helm::v2::HelmRelease;
use ferroflux_api::meta::ValuesReferenceKind;
use ferroflux_helm::strvals::{Mode, parse_into};
use ferroflux_runtime::lookup::Lookup as Objects;
use kube::ResourceExt;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::HelmError;

/// Composes the values of `object`: each `valuesFrom` entry in order (read through
/// `objects`), then inline values.
pub async fn compose(
    objects: Objects<'_>,
    object: &HelmRelease,
) -> Result<Map<String, Value>, HelmError> {
    let namespace = object.namespace().unwrap_or_default();
    let mut result = Map::new();
    let inline = match &object.spec.values {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    for reference in object.spec.values_from.iter().flatten() {
        let key = reference
            .values_key
            .clone()
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| "values.yaml".to_owned());
        let optional = reference.optional.unwrap_or(false);
        let kind = match reference.kind {
            ValuesReferenceKind::ConfigMap => "ConfigMap",
            ValuesReferenceKind::Secret => "Secret",
        };
        let display = format!("{kind} '{namespace}/{}'", reference.name);
        let data = read(objects, &namespace, reference.kind, &reference.name, &key).await?;
        let text = match data {
            Lookup::Missing | Lookup::NoKey if optional => continue,
            Lookup::Missing => {
                return Err(HelmError::Values(format!(
                    "could not resolve {display}: not found"
                )));
            }
            Lookup::NoKey => {
                return Err(HelmError::Values(format!(
                    "missing key '{key}' in {display}"
                )));
            }
            Lookup::Found(text) => text,
        };
        match reference.target_path.as_deref().filter(|p| !p.is_empty()) {
            None => {
                let parsed = ferroflux_helm::yaml::parse_document(&text).map_err(|e| {
                    HelmError::Values(format!(
                        "unable to read values from key '{key}' in {display}: {e}"
                    ))
                })?;
                match parsed {
                    Value::Object(map) => merge(&mut result, map),
                    Value::Null => {}
                    _ => {
                        return Err(HelmError::Values(format!(
                            "unable to read values from key '{key}' in {display}: not a map"
                        )));
                    }
                }
            }
            Some(path) => {
                merge(&mut result, inline.clone());
                let mode = if reference.literal.unwrap_or(false) {
                    Mode::String
                } else {
                    Mode::Typed
                };
                let value = text.trim_end_matches('\n');
                parse_into(&format!("{path}={value}"), &mut result, mode).map_err(|e| {
                    HelmError::Values(format!(
                        "unable to merge value from key '{key}' in {display} into target path '{path}': {e}"
                    ))
                })?;
            }
        }
    }
    merge(&mut result, inline);
    Ok(result)
}

enum Lookup {
    Missing,
    NoKey,
    Found(String),
}

async fn read(
    objects: Objects<'_>,
    namespace: &str,
    kind: ValuesReferenceKind,
    name: &str,
    key: &str,
) -> Result<Lookup, HelmError> {
    match kind {
        ValuesReferenceKind::ConfigMap => {
            let Some(map) = objects.config_map(namespace, name).await? else {
                return Ok(Lookup::Missing);
            };
            Ok(map
                .data
                .and_then(|d| d.get(key).cloned())
                .map_or(Lookup::NoKey, Lookup::Found))
        }
        ValuesReferenceKind::Secret => {
            let Some(secret) = objects.secret(namespace, name).await? else {
                return Ok(Lookup::Missing);
            };
            Ok(secret
                .data
                .and_then(|d| {
                    d.get(key)
                        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
                })
                .map_or(Lookup::NoKey, Lookup::Found))
        }
    }
}

/// Deep merge: maps recursively, everything else replaced.
pub fn merge(base: &mut Map<String, Value>, overlay: Map<String, Value>) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => merge(existing, incoming),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// `sha256:` of the canonical (key-sorted) JSON of `values`; the empty map counts as nil.
pub fn digest(values: &Map<String, Value>) -> String {
    let canonical = if values.is_empty() {
        "null".to_owned()
    } else {
        canonical_json(&Value::Object(values.clone()))
    };
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

/// JSON with object keys sorted at every level.
pub fn canonical_json(value: &Value) -> String {
    fn sort(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sort(&map[k])))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(value).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_maps_and_replaces_the_rest() {
        let mut base = json!({"a": {"b": 1, "c": [1]}, "d": 1})
            .as_object()
            .unwrap()
            .clone();
        merge(
            &mut base,
            json!({"a": {"c": [2], "e": 3}})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(
            Value::Object(base),
            json!({"a": {"b": 1, "c": [2], "e": 3}, "d": 1})
        );
    }

    #[test]
    fn digests_ignore_key_order() {
        let a = json!({"x": 1, "y": {"b": 2, "a": 1}})
            .as_object()
            .unwrap()
            .clone();
        let b = json!({"y": {"a": 1, "b": 2}, "x": 1})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(digest(&a), digest(&Map::new()));
    }
}
