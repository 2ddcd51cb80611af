//! kyaml's merge of a list keyed by several `x-kubernetes-list-map-keys` (Service and
//! container ports by number and protocol, topology spread constraints), reproduced step
//! by step because its output is what kustomize users get, quirks included:
//!
//! - key values that differ only where one side is empty are unified (`80/""` and
//!   `80/UDP` become `80/UDP`), so an original element without `protocol` does not match
//!   a patch element with one;
//! - an original element missing a key is re-added by a lookup on the keys it has, and that
//!   lookup also removes every patch element sharing those values — so a patch element
//!   `{port: 80, protocol: UDP}` vanishes next to an original `{port: 80}`;
//! - merged elements are written into the original elements too (kyaml merges in place),
//!   and the result lists the patch's elements first, then the original's.
//!
//! The functions mirror kyaml's `walk/associative_sequence.go` and the `ElementSetter` and
//! `ElementMatcher` filters, with the patch-before-original direction kustomize uses for
//! strategic merge patches.

use serde_json::{Map, Value};

use super::{Outcome, merge as merge_node};

/// Merges `patch` into `original`; `None` when an element cannot be merged.
pub(super) fn merge(
    original: Vec<Value>,
    patch: &[Value],
    keys: &[String],
    item_type: Option<&str>,
) -> Option<Vec<Value>> {
    let mut dest = original;
    let mut values_list: Vec<Vec<String>> = Vec::new();
    for element in patch.iter().chain(dest.iter()) {
        let values: Vec<String> = keys.iter().map(|key| listed_value(element, key)).collect();
        if !values_list.contains(&values) {
            values_list.push(values);
        }
    }
    unify(&mut values_list);

    let mut items: Vec<Value> = Vec::new();
    let mut valid_keys: Vec<String> = keys.to_vec();
    for values in values_list.clone() {
        let (keys_now, values_now) = validate(&values_list, &values, keys);
        valid_keys.clone_from(&keys_now);
        let (match_keys, match_values) =
            validate(std::slice::from_ref(&values_now), &values_now, &keys_now);
        let in_dest = find(&dest, &match_keys, &match_values);
        let in_patch = find(patch, &match_keys, &match_values).map(|index| &patch[index]);
        let merged = match (in_dest, in_patch) {
            (None, None) => None,
            (Some(index), None) => Some(dest[index].clone()),
            (index, Some(patch_element)) => {
                let mut merged = index.map_or(Value::Null, |index| dest[index].clone());
                match merge_node(&mut merged, patch_element, item_type) {
                    Outcome::Keep => Some(merged),
                    Outcome::Delete => None,
                    Outcome::Conflict => return None,
                }
            }
        };
        let Some(mut value) = merged.filter(|value| !is_empty_map(value) && !value.is_null())
        else {
            set_element(&mut dest, None, &keys_now, &values_now);
            continue;
        };
        if let Value::Object(map) = &mut value {
            for (key, text) in keys_now.iter().zip(&values_now) {
                if !map.contains_key(key) && !text.is_empty() {
                    map.insert(key.clone(), scalar(text));
                }
            }
        }
        // kyaml merged into the original element itself.
        if let Some(index) = in_dest {
            dest[index] = value.clone();
        }
        set_element(&mut items, Some(value), &keys_now, &values_now);
    }
    if !values_list.is_empty() {
        append_all(&mut items, dest, &valid_keys);
    }
    Some(items)
}

/// A key's value as kyaml lists it (`ElementValuesList`): empty for a missing, null or
/// empty field, the scalar's text otherwise (maps and lists have none).
fn listed_value(element: &Value, key: &str) -> String {
    match element.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(value) => text(value),
    }
}

/// A node's scalar text, as `yaml.Node.Value`.
fn text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        Value::Array(_) | Value::Object(_) => String::new(),
    }
}

/// An untagged scalar as YAML reads it back.
fn scalar(text: &str) -> Value {
    if let Ok(number) = text.parse::<i64>() {
        return Value::from(number);
    }
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(text.to_owned()),
    }
}

fn is_empty_map(value: &Value) -> bool {
    value.as_object().is_some_and(Map::is_empty)
}

/// kyaml's `mergeValues`: value lists that agree wherever both are set, and share one
/// value, become the same list.
fn unify(values_list: &mut [Vec<String>]) {
    for i in 0..values_list.len() {
        for j in 0..values_list.len() {
            if let Some(values) = unified(&values_list[i], &values_list[j]) {
                values_list[i].clone_from(&values);
                values_list[j] = values;
            }
        }
    }
}

fn unified(first: &[String], second: &[String]) -> Option<Vec<String>> {
    if first.len() != second.len() {
        return None;
    }
    let mut common = false;
    let mut result = Vec::with_capacity(first.len());
    for (a, b) in first.iter().zip(second) {
        if a == b {
            common = true;
            result.push(a.clone());
        } else if !a.is_empty() && !b.is_empty() {
            return None;
        } else if a.is_empty() {
            result.push(b.clone());
        } else {
            result.push(a.clone());
        }
    }
    common.then_some(result)
}

/// kyaml's `validateKeys`: the keys some list sets, and `values` for them.
fn validate(
    values_list: &[Vec<String>],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    let set: Vec<&String> = values_list
        .iter()
        .flat_map(|values| {
            values
                .iter()
                .zip(keys)
                .filter(|(value, _)| !value.is_empty())
                .map(|(_, key)| key)
        })
        .collect();
    if set.is_empty() {
        return (keys.to_vec(), values.to_vec());
    }
    let valid_keys = keys
        .iter()
        .filter(|key| set.contains(key))
        .cloned()
        .collect();
    let valid_values = values
        .iter()
        .zip(keys)
        .filter(|(value, key)| !value.is_empty() || set.contains(key))
        .map(|(value, _)| value.clone())
        .collect();
    (valid_keys, valid_values)
}

/// Whether `element` has field `key` with scalar text `value` (`MatchField`).
fn has_field(element: &Value, key: &str, value: &str) -> bool {
    element
        .as_object()
        .and_then(|map| map.get(key))
        .is_some_and(|field| text(field) == value)
}

/// kyaml's `ElementMatcher`: the first mapping element matching every key.
fn find(list: &[Value], keys: &[String], values: &[String]) -> Option<usize> {
    if keys.len() != values.len() {
        return None;
    }
    list.iter().position(|element| {
        element.is_object()
            && keys
                .iter()
                .zip(values)
                .all(|(key, value)| has_field(element, key, value))
    })
}

/// kyaml's `ElementSetter`: replaces the elements matching `values` with `element`, or
/// removes them when it is `None`; appends `element` when nothing matched. Like kyaml it
/// drops null and empty elements, and with fewer values than keys the last comparison
/// made decides the remaining keys.
fn set_element(list: &mut Vec<Value>, element: Option<Value>, keys: &[String], values: &[String]) {
    let mapping_setter = keys.first().is_some_and(|key| !key.is_empty())
        && values.first().is_some_and(|value| !value.is_empty());
    let mut kept = Vec::with_capacity(list.len() + 1);
    let mut matched = false;
    for candidate in list.drain(..) {
        if candidate.is_null() || is_empty_map(&candidate) {
            continue;
        }
        if !candidate.is_object() && mapping_setter {
            kept.push(candidate);
            continue;
        }
        let mut last = false;
        let mut found = true;
        for (j, key) in keys.iter().enumerate() {
            if let Some(value) = values.get(j) {
                last = has_field(&candidate, key, value);
            }
            if !last {
                found = false;
                break;
            }
        }
        if !found {
            if !values.is_empty() {
                kept.push(candidate);
            }
            continue;
        }
        matched = true;
        if let Some(element) = &element {
            kept.push(element.clone());
        }
    }
    if let Some(element) = element
        && !matched
    {
        kept.push(element);
    }
    *list = kept;
}

/// kyaml's `appendListNode` of the original elements after the patch's.
fn append_all(items: &mut Vec<Value>, dest: Vec<Value>, keys: &[String]) {
    for element in dest {
        let mut values = Vec::new();
        for key in keys {
            match element.get(key) {
                // kyaml appends an element missing a key as is, once per missing key.
                None => items.push(element.clone()),
                Some(value) => values.push(text(value)),
            }
        }
        if keys.len() > 1 {
            set_element(items, None, keys, &values);
        }
        set_element(items, Some(element), keys, &values);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn keys() -> Vec<String> {
        vec!["port".to_owned(), "protocol".to_owned()]
    }

    fn run(original: Value, patch: Value) -> Value {
        let Value::Array(original) = original else {
            unreachable!()
        };
        let Value::Array(patch) = patch else {
            unreachable!()
        };
        Value::Array(merge(original, &patch, &keys(), None).unwrap())
    }

    #[test]
    fn same_port_and_protocol_merge() {
        assert_eq!(
            run(
                json!([{"port": 80, "protocol": "TCP", "targetPort": 80}]),
                json!([{"port": 80, "protocol": "TCP", "name": "http"}])
            ),
            json!([{"port": 80, "protocol": "TCP", "targetPort": 80, "name": "http"}])
        );
    }

    #[test]
    fn a_new_protocol_next_to_a_port_without_one_is_dropped_as_kyaml_does() {
        assert_eq!(
            run(
                json!([{"port": 80, "targetPort": 80}]),
                json!([{"port": 80, "protocol": "UDP", "name": "dns"}])
            ),
            json!([{"port": 80, "targetPort": 80}])
        );
    }

    #[test]
    fn new_ports_come_first_and_originals_follow() {
        assert_eq!(
            run(
                json!([{"port": 80, "protocol": "TCP"}]),
                json!([{"port": 53, "protocol": "UDP"}])
            ),
            json!([{"port": 53, "protocol": "UDP"}, {"port": 80, "protocol": "TCP"}])
        );
    }

    #[test]
    fn a_patch_without_protocol_takes_the_original_as_is() {
        assert_eq!(
            run(
                json!([{"port": 80, "protocol": "TCP", "targetPort": 80}]),
                json!([{"port": 80, "targetPort": 8080}])
            ),
            json!([{"port": 80, "protocol": "TCP", "targetPort": 80}])
        );
    }

    /// Recorded with kustomize v5.5.0 (`kubectl kustomize`).
    #[test]
    fn mixed_ports_as_kustomize_merges_them() {
        assert_eq!(
            run(
                json!([{"port": 80, "protocol": "TCP", "targetPort": 80},
                       {"port": 443, "targetPort": 443}]),
                json!([{"port": 80, "targetPort": 8080},
                       {"port": 53, "protocol": "UDP"},
                       {"port": 443, "protocol": "TCP", "name": "https"}])
            ),
            json!([{"port": 53, "protocol": "UDP"},
                   {"port": 80, "protocol": "TCP", "targetPort": 80},
                   {"port": 443, "targetPort": 443}])
        );
    }

    #[test]
    fn delete_directives_remove_the_element() {
        assert_eq!(
            run(
                json!([{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]),
                json!([{"port": 53, "protocol": "UDP", "$patch": "delete"}])
            ),
            json!([{"port": 80, "protocol": "TCP"}])
        );
    }
}
