//! The patch-merge table of built-in Kubernetes types.
//!
//! Generated from an API server's OpenAPI v2 document by [`generate_merge_key_table`]
//! (run by `cargo xtask gen`) into `merge_keys.json`, which is compiled in. It maps each
//! built-in kind to its type and, per type, the fields that lead to a list with a patch
//! strategy: enough to walk a resource and know how each list merges.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::resid::Gvk;

/// What the table records about one field of a type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// The type of the field (of its items, for lists), when it matters for merging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// `x-kubernetes-patch-strategy`, e.g. `merge` or `merge,retainKeys`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// `x-kubernetes-patch-merge-key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `x-kubernetes-list-map-keys` when it names more than one key (kyaml then matches
    /// list elements on all of them, e.g. Service ports on `port` and `protocol`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Table {
    /// `group/version/Kind` (no leading slash for the core group) to type name.
    pub kinds: BTreeMap<String, String>,
    /// Type name to its relevant fields.
    pub types: BTreeMap<String, BTreeMap<String, Field>>,
}

fn kind_key(group: &str, version: &str, kind: &str) -> String {
    if group.is_empty() {
        format!("{version}/{kind}")
    } else {
        format!("{group}/{version}/{kind}")
    }
}

fn reference(schema: &Value) -> Option<String> {
    let target = schema
        .get("$ref")
        .or_else(|| schema.get("items").and_then(|items| items.get("$ref")))?;
    target
        .as_str()?
        .strip_prefix("#/definitions/")
        .map(str::to_owned)
}

/// Definition-name prefixes of the Kubernetes API's own Go packages.
const BUILT_IN_PACKAGES: [&str; 4] = [
    "io.k8s.api.",
    "io.k8s.apimachinery.",
    "io.k8s.apiextensions-apiserver.",
    "io.k8s.kube-aggregator.",
];

/// Builds the merge-key table from an OpenAPI v2 (swagger) JSON document.
pub fn generate_merge_key_table(openapi_json: &str) -> String {
    let document: Value = serde_json::from_str(openapi_json).unwrap_or(Value::Null);
    let empty = serde_json::Map::new();
    let definitions = document
        .get("definitions")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut table = Table::default();
    let mut all: BTreeMap<String, BTreeMap<String, Field>> = BTreeMap::new();
    // Only the built-in API types: custom resources the server happens to serve carry no
    // patch strategies (kustomize merges them as plain maps/lists) and would make the table
    // depend on what was installed.
    let built_in = |name: &str| {
        BUILT_IN_PACKAGES
            .iter()
            .any(|package| name.starts_with(package))
    };
    for (name, definition) in definitions.iter().filter(|(name, _)| built_in(name)) {
        for gvk in definition
            .get("x-kubernetes-group-version-kind")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = |field: &str| {
                gvk.get(field)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            table.kinds.insert(
                kind_key(&text("group"), &text("version"), &text("kind")),
                name.clone(),
            );
        }
        let mut fields = BTreeMap::new();
        for (property, schema) in definition
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let field = Field {
                r#type: reference(schema),
                strategy: schema
                    .get("x-kubernetes-patch-strategy")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                key: schema
                    .get("x-kubernetes-patch-merge-key")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                keys: schema
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .filter(|keys| keys.len() > 1)
                    .filter(|_| schema.get("x-kubernetes-patch-strategy").is_some())
                    .map(|keys| {
                        keys.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    }),
            };
            if field != Field::default() {
                fields.insert(property.clone(), field);
            }
        }
        all.insert(name.clone(), fields);
    }
    // Keep only types from which a patch strategy can be reached.
    let mut relevant: std::collections::BTreeSet<String> = all
        .iter()
        .filter(|(_, fields)| fields.values().any(|field| field.strategy.is_some()))
        .map(|(name, _)| name.clone())
        .collect();
    loop {
        let before = relevant.len();
        for (name, fields) in &all {
            if fields.values().any(|field| {
                field
                    .r#type
                    .as_ref()
                    .is_some_and(|target| relevant.contains(target))
            }) {
                relevant.insert(name.clone());
            }
        }
        if relevant.len() == before {
            break;
        }
    }
    for (name, fields) in all {
        if !relevant.contains(&name) {
            continue;
        }
        let kept: BTreeMap<String, Field> = fields
            .into_iter()
            .filter(|(_, field)| {
                field.strategy.is_some()
                    || field
                        .r#type
                        .as_ref()
                        .is_some_and(|target| relevant.contains(target))
            })
            .map(|(property, mut field)| {
                if field
                    .r#type
                    .as_ref()
                    .is_some_and(|target| !relevant.contains(target))
                {
                    field.r#type = None;
                }
                (property, field)
            })
            .collect();
        table.types.insert(name, kept);
    }
    let mut text = serde_json::to_string_pretty(&table).unwrap_or_default();
    text.push('\n');
    text
}

static TABLE: OnceLock<Table> = OnceLock::new();

fn table() -> &'static Table {
    TABLE.get_or_init(|| serde_json::from_str(include_str!("merge_keys.json")).unwrap_or_default())
}

/// The type of a built-in kind, or None for custom resources.
pub fn kind_type(gvk: &Gvk) -> Option<&'static str> {
    table()
        .kinds
        .get(&kind_key(&gvk.group, &gvk.version, &gvk.kind))
        .map(String::as_str)
}

/// What the table knows about a field of a type.
pub fn field(type_name: &str, name: &str) -> Option<&'static Field> {
    table().types.get(type_name)?.get(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_table_knows_pod_containers() {
        let deployment = kind_type(&Gvk {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
        });
        assert_eq!(deployment, Some("io.k8s.api.apps.v1.Deployment"));
        let containers = field("io.k8s.api.core.v1.PodSpec", "containers")
            .expect("PodSpec.containers is in the table");
        assert_eq!(containers.key.as_deref(), Some("name"));
    }

    #[test]
    fn generator_keeps_only_merge_relevant_fields() {
        let openapi = r##"{"definitions": {
            "io.k8s.api.a.Kind": {"x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Kind"}],
                       "properties": {"spec": {"$ref": "#/definitions/io.k8s.api.a.Spec"}, "name": {"type": "string"}}},
            "io.k8s.api.a.Spec": {"properties": {"items": {"type": "array", "items": {"$ref": "#/definitions/io.k8s.api.a.Item"},
                       "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "id"},
                       "ports": {"type": "array", "items": {"$ref": "#/definitions/io.k8s.api.a.Item"},
                       "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "id",
                       "x-kubernetes-list-map-keys": ["id", "protocol"]}}},
            "io.k8s.api.a.Item": {"properties": {"id": {"type": "string"}}}
        }}"##;
        let table: Table =
            serde_json::from_str(&generate_merge_key_table(openapi)).expect("valid table");
        assert_eq!(
            table.kinds.get("v1/Kind").map(String::as_str),
            Some("io.k8s.api.a.Kind")
        );
        assert!(table.types["io.k8s.api.a.Kind"].contains_key("spec"));
        assert!(!table.types["io.k8s.api.a.Kind"].contains_key("name"));
        assert_eq!(
            table.types["io.k8s.api.a.Spec"]["items"].key.as_deref(),
            Some("id")
        );
        assert_eq!(table.types["io.k8s.api.a.Spec"]["items"].keys, None);
        assert_eq!(
            table.types["io.k8s.api.a.Spec"]["ports"].keys,
            Some(vec!["id".to_owned(), "protocol".to_owned()])
        );
    }

    #[test]
    fn generator_leaves_custom_resources_out() {
        let openapi = r#"{"definitions": {
            "io.fluxcd.toolkit.kustomize.v1.Kustomization": {"x-kubernetes-group-version-kind": [{"group": "kustomize.toolkit.fluxcd.io", "version": "v1", "kind": "Kustomization"}],
                       "properties": {"spec": {"type": "object", "x-kubernetes-patch-strategy": "merge"}}}
        }}"#;
        let table: Table =
            serde_json::from_str(&generate_merge_key_table(openapi)).expect("valid table");
        assert!(table.kinds.is_empty() && table.types.is_empty());
    }
}
