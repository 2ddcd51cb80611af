//! Metadata cleanup before apply: removing `kubectl apply` leftovers and taking over the
//! fields of other field managers, so that fields Flux no longer sets are removed.

use serde_json::{Map, Value, json};

/// How a managed-fields entry was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update or patch.
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Self::Apply => "Apply",
            Self::Update => "Update",
        }
    }
}

/// A field manager whose fields are taken over by the resource manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldManager {
    /// The manager's name, or a prefix of it unless `exact`.
    pub name: String,
    /// Match the name exactly rather than as a prefix.
    pub exact: bool,
    /// The operation the entry must have.
    pub operation: Operation,
}

impl FieldManager {
    /// A manager matched by name prefix (Flux's default).
    pub fn prefix(name: &str, operation: Operation) -> Self {
        Self {
            name: name.to_owned(),
            exact: false,
            operation,
        }
    }

    fn matches(&self, entry: &Value) -> bool {
        let text = |key: &str| entry.get(key).and_then(Value::as_str).unwrap_or("");
        if text("operation") != self.operation.as_str() || !text("subresource").is_empty() {
            return false;
        }
        if self.exact {
            text("manager") == self.name
        } else {
            text("manager").starts_with(&self.name)
        }
    }
}

/// What to remove from live objects before applying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupOptions {
    /// Annotation keys to remove.
    pub annotations: Vec<String>,
    /// Label keys to remove.
    pub labels: Vec<String>,
    /// Managers whose managed fields are transferred to the apply manager.
    pub field_managers: Vec<FieldManager>,
}

impl CleanupOptions {
    /// The kustomize-controller's cleanup for field manager `manager`: the
    /// `last-applied-configuration` annotation and Flux v1 leftovers, and the fields of
    /// `kubectl` (apply and update), `before-first-apply` and the controller's own
    /// pre-SSA updates.
    pub fn flux(manager: &str) -> Self {
        Self {
            annotations: vec![
                "kubectl.kubernetes.io/last-applied-configuration".into(),
                "kustomize.toolkit.fluxcd.io/checksum".into(),
                "fluxcd.io/sync-checksum".into(),
            ],
            labels: vec!["fluxcd.io/sync-gc-mark".into()],
            field_managers: vec![
                FieldManager::prefix("kubectl", Operation::Apply),
                FieldManager::prefix("kubectl", Operation::Update),
                FieldManager::prefix("before-first-apply", Operation::Update),
                FieldManager::prefix(manager, Operation::Update),
            ],
        }
    }

    /// No cleanup at all.
    pub fn none() -> Self {
        Self {
            annotations: Vec::new(),
            labels: Vec::new(),
            field_managers: Vec::new(),
        }
    }
}

/// Escapes a map key for a JSON pointer (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The JSON patch operations that clean up `live` for apply manager `manager`; empty when
/// nothing needs to change.
pub fn patch(live: &Value, manager: &str, options: &CleanupOptions) -> Vec<Value> {
    let mut operations = Vec::new();
    for (field, keys) in [
        ("annotations", &options.annotations),
        ("labels", &options.labels),
    ] {
        let present = live.pointer(&format!("/metadata/{field}"));
        for key in keys {
            if present.and_then(|map| map.get(key)).is_some() {
                let path = format!("/metadata/{field}/{}", escape(key));
                operations.push(json!({"op": "remove", "path": path}));
            }
        }
    }
    if let Some(entries) = take_over_managers(live, manager, &options.field_managers) {
        operations
            .push(json!({"op": "replace", "path": "/metadata/managedFields", "value": entries}));
    }
    operations
}

/// The managed fields with every matching entry folded into `manager`'s Apply entry, or
/// `None` when no entry matches.
fn take_over_managers(
    live: &Value,
    manager: &str,
    managers: &[FieldManager],
) -> Option<Vec<Value>> {
    let entries = live.pointer("/metadata/managedFields")?.as_array()?;
    let is_ours = |entry: &Value| {
        entry.get("manager").and_then(Value::as_str) == Some(manager)
            && entry.get("operation").and_then(Value::as_str) == Some("Apply")
            && entry
                .get("subresource")
                .is_none_or(|s| s.as_str() == Some(""))
    };
    let mut ours = entries.iter().rfind(|entry| is_ours(entry)).cloned();
    let mut kept = Vec::with_capacity(entries.len());
    let mut edited = false;
    for entry in entries {
        if is_ours(entry) {
            continue;
        }
        if !managers.iter().any(|m| m.matches(entry)) {
            kept.push(entry.clone());
            continue;
        }
        edited = true;
        if let Some(target) = ours.as_mut() {
            merge_fields(target, entry.get("fieldsV1"));
        } else {
            let mut renamed = entry.clone();
            renamed["manager"] = json!(manager);
            renamed["operation"] = json!("Apply");
            ours = Some(renamed);
        }
    }
    if !edited {
        return None;
    }
    kept.extend(ours);
    Some(kept)
}

/// Unions `fields` (a `fieldsV1` trie) into the target entry's `fieldsV1`.
fn merge_fields(target: &mut Value, fields: Option<&Value>) {
    let Some(Value::Object(fields)) = fields else {
        return;
    };
    let slot = &mut target["fieldsV1"];
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(slot) = slot {
        union(slot, fields);
    }
}

/// Deep union of two `fieldsV1` tries (every value is a map; leaves are `{}`).
fn union(target: &mut Map<String, Value>, source: &Map<String, Value>) {
    for (key, value) in source {
        match (target.get_mut(key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => union(existing, incoming),
            (Some(_), _) => {}
            (None, _) => {
                target.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANAGER: &str = "kustomize-controller";

    fn entry(manager: &str, operation: &str, fields: Value) -> Value {
        let mut entry = json!({"manager": manager, "operation": operation, "apiVersion": "v1",
            "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1"});
        entry["fieldsV1"] = fields;
        entry
    }

    fn live(annotations: Value, managed: Value) -> Value {
        let mut live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "labels": {"fluxcd.io/sync-gc-mark": "y", "app": "x"}}});
        live["metadata"]["annotations"] = annotations;
        live["metadata"]["managedFields"] = managed;
        live
    }

    #[test]
    fn nothing_to_clean() {
        let object = json!({"metadata": {"name": "x", "managedFields": [entry(MANAGER, "Apply", json!({}))]}});
        assert!(patch(&object, MANAGER, &CleanupOptions::flux(MANAGER)).is_empty());
        assert!(patch(&json!({}), MANAGER, &CleanupOptions::flux(MANAGER)).is_empty());
    }

    #[test]
    fn removes_annotations_and_labels() {
        let object = live(
            json!({"kubectl.kubernetes.io/last-applied-configuration": "{}", "keep": "me"}),
            json!([]),
        );
        let operations = patch(&object, MANAGER, &CleanupOptions::flux(MANAGER));
        assert_eq!(
            operations,
            vec![
                json!({"op": "remove", "path": "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"}),
                json!({"op": "remove", "path": "/metadata/labels/fluxcd.io~1sync-gc-mark"}),
            ]
        );
        assert!(patch(&object, MANAGER, &CleanupOptions::none()).is_empty());
    }

    #[test]
    fn renames_the_first_kubectl_entry_and_merges_the_rest() {
        let object = live(
            json!({}),
            json!([
                entry("kube-controller-manager", "Update", json!({"f:status": {}})),
                entry(
                    "kubectl-client-side-apply",
                    "Update",
                    json!({"f:data": {"f:a": {}}})
                ),
                entry(
                    "kubectl-edit",
                    "Update",
                    json!({"f:data": {"f:b": {}}, "f:metadata": {"f:labels": {"f:x": {}}}})
                ),
            ]),
        );
        let operations = patch(&object, MANAGER, &CleanupOptions::flux(MANAGER));
        assert_eq!(operations.len(), 2, "{operations:#?}");
        let entries = operations[1]["value"]
            .as_array()
            .expect("a list of entries");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["manager"], "kube-controller-manager");
        assert_eq!(entries[1]["manager"], MANAGER);
        assert_eq!(entries[1]["operation"], "Apply");
        assert_eq!(
            entries[1]["fieldsV1"],
            json!({"f:data": {"f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {"f:x": {}}}})
        );
    }

    #[test]
    fn merges_into_our_existing_apply_entry() {
        let object = live(
            json!({}),
            json!([
                entry(MANAGER, "Apply", json!({"f:data": {"f:a": {}}})),
                entry(
                    "before-first-apply",
                    "Update",
                    json!({"f:data": {"f:c": {}}})
                ),
                entry(MANAGER, "Update", json!({"f:data": {"f:d": {}}})),
                entry("helm", "Update", json!({"f:data": {"f:e": {}}})),
            ]),
        );
        let operations = patch(&object, MANAGER, &CleanupOptions::flux(MANAGER));
        let entries = operations[1]["value"]
            .as_array()
            .expect("a list of entries");
        let managers: Vec<&str> = entries
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, ["helm", MANAGER]);
        assert_eq!(
            entries[1]["fieldsV1"],
            json!({"f:data": {"f:a": {}, "f:c": {}, "f:d": {}}})
        );
    }

    #[test]
    fn ignores_subresources_and_other_operations() {
        let mut status = entry("kubectl-edit", "Update", json!({"f:status": {}}));
        status["subresource"] = json!("status");
        let object = live(
            json!({}),
            json!([status, entry("before-first-apply", "Apply", json!({}))]),
        );
        assert_eq!(
            patch(&object, MANAGER, &CleanupOptions::flux(MANAGER)).len(),
            1
        );
    }

    #[test]
    fn exact_managers() {
        let managers = [FieldManager {
            name: "kubectl".into(),
            exact: true,
            operation: Operation::Update,
        }];
        assert!(!managers[0].matches(&entry("kubectl-edit", "Update", json!({}))));
        assert!(managers[0].matches(&entry("kubectl", "Update", json!({}))));
    }
}
