//! Strategic merge patch as kustomize (kyaml) applies it.
//!
//! Maps merge recursively, `null` deletes a field, `$patch: delete|replace` act on the
//! enclosing map. Lists of built-in types merge as the OpenAPI schema says (by
//! `x-kubernetes-patch-merge-key`: patch elements first, in patch order, then the
//! untouched original elements; primitive lists with the merge strategy take the union);
//! every other list, and every list of a custom resource, is replaced.

mod multi_key;
pub mod schema;

use serde_json::{Map, Value};

pub use schema::generate_merge_key_table;

/// What happened to a merged node.
pub enum Outcome {
    Keep,
    Delete,
    /// A map patch met a scalar or list in the target.
    Conflict,
}

/// How a list merges.
enum ListStrategy {
    Replace,
    Primitive,
    MergeKey(String),
    /// Several `x-kubernetes-list-map-keys` ([`multi_key`]).
    MergeKeys(&'static [String]),
}

fn list_strategy(parent_type: Option<&str>, field: &str) -> ListStrategy {
    let Some(info) = parent_type.and_then(|name| schema::field(name, field)) else {
        return ListStrategy::Replace;
    };
    let merges = info
        .strategy
        .as_deref()
        .is_some_and(|strategy| strategy.split(',').any(|part| part == "merge"));
    match (merges, &info.key) {
        (true, _) if info.keys.is_some() => {
            ListStrategy::MergeKeys(info.keys.as_deref().unwrap_or_default())
        }
        (true, Some(key)) => ListStrategy::MergeKey(key.clone()),
        (true, None) => ListStrategy::Primitive,
        (false, _) => ListStrategy::Replace,
    }
}

/// Merges `patch` into `target`, whose schema type is `type_name` (None when unknown).
pub fn merge(target: &mut Value, patch: &Value, type_name: Option<&str>) -> Outcome {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return Outcome::Keep;
    };
    match patch_map.get("$patch").and_then(Value::as_str) {
        Some("delete") => return Outcome::Delete,
        Some("replace") => {
            *target = Value::Object(strip(patch_map));
            return Outcome::Keep;
        }
        _ => {}
    }
    if !target.is_object() && !target.is_null() {
        // kyaml refuses to merge a map into a scalar or list.
        return Outcome::Conflict;
    }
    if target.is_null() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target_map) = target {
        return merge_maps(target_map, patch_map, type_name);
    }
    Outcome::Keep
}

fn merge_maps(
    target: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    type_name: Option<&str>,
) -> Outcome {
    for (key, value) in patch {
        if key == "$patch" {
            continue;
        }
        if value.is_null() {
            target.shift_remove(key);
            continue;
        }
        let child_type = type_name
            .and_then(|name| schema::field(name, key))
            .and_then(|field| field.r#type.as_deref());
        if let Value::Array(items) = value {
            let strategy = list_strategy(type_name, key);
            let existing = target.entry(key.clone()).or_insert(Value::Null);
            if let Outcome::Conflict = merge_list(existing, items, &strategy, child_type) {
                return Outcome::Conflict;
            }
            continue;
        }
        let mut merged = target.get(key).cloned().unwrap_or(Value::Null);
        match merge(&mut merged, value, child_type) {
            Outcome::Keep => {
                target.insert(key.clone(), merged);
            }
            Outcome::Delete => {
                target.shift_remove(key);
            }
            Outcome::Conflict => return Outcome::Conflict,
        }
    }
    Outcome::Keep
}

/// Removes directives and nulls from a value that is inserted wholesale.
fn strip(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(key, value)| key.as_str() != "$patch" && !value.is_null())
        .map(|(key, value)| {
            let value = match value {
                Value::Object(inner) => Value::Object(strip(inner)),
                other => other.clone(),
            };
            (key.clone(), value)
        })
        .collect()
}

fn merge_list(
    target: &mut Value,
    patch: &[Value],
    strategy: &ListStrategy,
    item_type: Option<&str>,
) -> Outcome {
    let original = match target {
        Value::Array(items) => std::mem::take(items),
        _ => Vec::new(),
    };
    // A bare `{$patch: replace}` element makes the rest of the patch list the result.
    let replace_all = patch.iter().any(|item| {
        item.as_object().is_some_and(|map| {
            map.len() == 1 && map.get("$patch").and_then(Value::as_str) == Some("replace")
        })
    });
    let strategy = if replace_all {
        &ListStrategy::Replace
    } else {
        strategy
    };
    let merged = match strategy {
        ListStrategy::Replace => patch
            .iter()
            .filter(|item| !is_delete_directive(item) && !is_replace_directive(item))
            .map(|item| match item {
                Value::Object(map) => Value::Object(strip(map)),
                other => other.clone(),
            })
            .collect(),
        ListStrategy::Primitive => {
            let mut result: Vec<Value> = Vec::new();
            for item in patch.iter().chain(original.iter()) {
                if !result.contains(item) {
                    result.push(item.clone());
                }
            }
            result
        }
        ListStrategy::MergeKey(key) => match merge_keyed(original, patch, key, item_type) {
            Some(merged) => merged,
            None => return Outcome::Conflict,
        },
        ListStrategy::MergeKeys(keys) => match multi_key::merge(original, patch, keys, item_type) {
            Some(merged) => merged,
            None => return Outcome::Conflict,
        },
    };
    *target = Value::Array(merged);
    Outcome::Keep
}

fn is_replace_directive(item: &Value) -> bool {
    item.get("$patch").and_then(Value::as_str) == Some("replace")
}

fn is_delete_directive(item: &Value) -> bool {
    item.get("$patch").and_then(Value::as_str) == Some("delete")
}

fn merge_keyed(
    original: Vec<Value>,
    patch: &[Value],
    key: &str,
    item_type: Option<&str>,
) -> Option<Vec<Value>> {
    let mut remaining: Vec<Option<Value>> = original.into_iter().map(Some).collect();
    let mut result = Vec::new();
    for item in patch {
        let wanted = item.get(key).filter(|value| !value.is_null());
        let position = wanted.and_then(|wanted| {
            remaining.iter().position(|candidate| {
                candidate.as_ref().and_then(|value| value.get(key)) == Some(wanted)
            })
        });
        if is_delete_directive(item) {
            if let Some(index) = position {
                remaining[index] = None;
            }
            continue;
        }
        // kyaml leaves the original element alone for an element-level replace.
        if is_replace_directive(item) {
            continue;
        }
        let mut merged = position
            .and_then(|index| remaining[index].take())
            .unwrap_or(Value::Null);
        match merge(&mut merged, item, item_type) {
            Outcome::Keep => result.push(merged),
            Outcome::Delete => {}
            Outcome::Conflict => return None,
        }
    }
    result.extend(remaining.into_iter().flatten());
    Some(result)
}
