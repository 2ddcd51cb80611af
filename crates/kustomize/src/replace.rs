//! `replacements`: copy a field of one resource into fields of others.

use serde_json::{Map, Value};

use crate::Error;
use crate::loader::Loader;
use crate::patch::select::matches_label_selector;
use crate::resid::{Gvk, ResId};
use crate::resmap::ResMap;
use crate::resource::Resource;
use crate::yaml::resolve_plain;

fn text(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn selector_id(value: &Value) -> ResId {
    ResId {
        gvk: Gvk {
            group: text(value, "group"),
            version: text(value, "version"),
            kind: text(value, "kind"),
        },
        name: text(value, "name"),
        namespace: text(value, "namespace"),
    }
}

fn ids(resource: &Resource) -> Vec<ResId> {
    let mut ids = vec![resource.current_id()];
    ids.extend(resource.tracking.previous.iter().cloned());
    ids
}

fn selected_by(id: &ResId, selector: &ResId) -> bool {
    (selector.name.is_empty() || selector.name == id.name)
        && (selector.namespace.is_empty()
            || selector.effective_namespace() == id.effective_namespace())
        && id.gvk.is_selected_by(&selector.gvk)
}

fn meta_selectors_match(resource: &Resource, selector: &Value) -> bool {
    let labels = text(selector, "labelSelector");
    let annotations = text(selector, "annotationSelector");
    (labels.is_empty() || matches_label_selector(&labels, &resource.string_map("labels")))
        && (annotations.is_empty()
            || matches_label_selector(&annotations, &resource.string_map("annotations")))
}

/// Splits `a.b.[name=x].c` on dots outside brackets.
pub fn split_field_path(path: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0;
    for character in path.chars() {
        match character {
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(character);
    }
    parts.push(current);
    parts
}

fn lookup<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    let Some((head, rest)) = path.split_first() else {
        return Some(value);
    };
    let child = match (
        value,
        head.strip_prefix('[')
            .and_then(|inner| inner.strip_suffix(']')),
    ) {
        (Value::Array(items), Some(condition)) => {
            let (key, wanted) = condition.split_once('=')?;
            items
                .iter()
                .find(|item| element_matches(item, key, wanted))?
        }
        (Value::Array(items), None) => items.get(head.parse::<usize>().ok()?)?,
        (Value::Object(map), _) => map.get(head.as_str())?,
        _ => return None,
    };
    lookup(child, rest)
}

fn element_matches(item: &Value, key: &str, wanted: &str) -> bool {
    let found = if key.is_empty() {
        Some(item)
    } else {
        item.get(key)
    };
    found.is_some_and(|found| match found {
        Value::String(text) => text == wanted,
        other => scalar_text(other) == wanted,
    })
}

/// Visits every field the path selects, creating missing parts when asked.
fn visit(
    value: &mut Value,
    path: &[String],
    create: bool,
    found: &mut usize,
    set: &mut dyn FnMut(&mut Value),
) {
    let Some((head, rest)) = path.split_first() else {
        *found += 1;
        set(value);
        return;
    };
    if head == "*" {
        match value {
            Value::Array(items) => items
                .iter_mut()
                .for_each(|item| visit(item, rest, create, found, set)),
            Value::Object(map) => map
                .values_mut()
                .for_each(|item| visit(item, rest, create, found, set)),
            _ => {}
        }
        return;
    }
    if let Some(condition) = head
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
    {
        let Some((key, wanted)) = condition.split_once('=') else {
            return;
        };
        if value.is_null() && create {
            *value = Value::Array(Vec::new());
        }
        let Value::Array(items) = value else {
            return;
        };
        let mut matched = false;
        for item in items
            .iter_mut()
            .filter(|item| element_matches(item, key, wanted))
        {
            matched = true;
            visit(item, rest, create, found, set);
        }
        if !matched && create && !key.is_empty() {
            let mut element = Map::new();
            element.insert(key.to_owned(), Value::String(wanted.to_owned()));
            items.push(Value::Object(element));
            if let Some(last) = items.last_mut() {
                visit(last, rest, create, found, set);
            }
        }
        return;
    }
    if let Value::Array(items) = value {
        if let Some(item) = head
            .parse::<usize>()
            .ok()
            .and_then(|index| items.get_mut(index))
        {
            visit(item, rest, create, found, set);
        }
        return;
    }
    if value.is_null() && create {
        *value = Value::Object(Map::new());
    }
    let Value::Object(map) = value else {
        return;
    };
    if !map.contains_key(head.as_str()) {
        if !create {
            return;
        }
        map.insert(head.clone(), Value::Null);
    }
    if let Some(child) = map.get_mut(head.as_str()) {
        visit(child, rest, create, found, set);
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn source_value(resources: &[Resource], source: &Value) -> Result<Value, Error> {
    let selector = selector_id(source);
    let matches: Vec<&Resource> = resources
        .iter()
        .filter(|resource| ids(resource).iter().any(|id| selected_by(id, &selector)))
        .collect();
    let resource = match matches.as_slice() {
        [one] => *one,
        [] => return Err(Error::build(format!("nothing selected by {selector}"))),
        _ => {
            return Err(Error::build(format!(
                "multiple matches for selector {selector}"
            )));
        }
    };
    let field = match text(source, "fieldPath") {
        path if path.is_empty() => "metadata.name".to_owned(),
        path => path,
    };
    let value = lookup(&resource.object, &split_field_path(&field))
        .filter(|value| !value.is_null())
        .cloned()
        .ok_or_else(|| {
            Error::build(format!(
                "fieldPath `{field}` is missing for replacement source {selector}"
            ))
        })?;
    let Some(options) = source.get("options") else {
        return Ok(value);
    };
    let delimiter = text(options, "delimiter");
    if delimiter.is_empty() {
        return Ok(value);
    }
    let index = options.get("index").and_then(Value::as_i64).unwrap_or(0);
    let text = scalar_text(&value);
    let parts: Vec<&str> = text.split(delimiter.as_str()).collect();
    usize::try_from(index)
        .ok()
        .and_then(|index| parts.get(index))
        .map(|part| Value::String((*part).to_owned()))
        .ok_or_else(|| Error::build(format!("options.index {index} is out of bounds")))
}

fn set_field(target: &mut Value, value: &Value, options: Option<&Value>) {
    let mut value = value.clone();
    if let Some(options) = options {
        let delimiter = text(options, "delimiter");
        if !delimiter.is_empty() {
            let current = scalar_text(target);
            let mut parts: Vec<String> = current
                .split(delimiter.as_str())
                .map(str::to_owned)
                .collect();
            let index = options.get("index").and_then(Value::as_i64).unwrap_or(0);
            let inserted = scalar_text(&value);
            match usize::try_from(index) {
                Err(_) => parts.insert(0, inserted),
                Ok(index) if index >= parts.len() => parts.push(inserted),
                Ok(index) => parts[index] = inserted,
            }
            value = Value::String(parts.join(&delimiter));
        }
    }
    // A scalar target keeps its own type; only its text changes.
    *target = match (&*target, &value) {
        (Value::String(_), Value::Number(_) | Value::Bool(_)) => Value::String(scalar_text(&value)),
        (Value::Number(_) | Value::Bool(_), Value::String(text)) => resolve_plain(text),
        _ => value,
    };
}

fn apply_targets(
    resources: &mut [Resource],
    value: &Value,
    targets: &[Value],
) -> Result<(), Error> {
    for target in targets {
        let Some(select) = target.get("select") else {
            return Err(Error::build("target must specify resources to select"));
        };
        let rejects = target
            .get("reject")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut paths: Vec<String> = target
            .get("fieldPaths")
            .and_then(Value::as_array)
            .map(|paths| {
                paths
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if paths.is_empty() {
            paths.push("metadata.name".to_owned());
        }
        let options = target.get("options");
        let create = options
            .and_then(|options| options.get("create"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let selector = selector_id(select);
        for resource in resources.iter_mut() {
            let resource_ids = ids(resource);
            if !meta_selectors_match(resource, select) {
                continue;
            }
            let rejected_by_meta = rejects.iter().any(|reject| {
                (!text(reject, "labelSelector").is_empty()
                    || !text(reject, "annotationSelector").is_empty())
                    && meta_selectors_match(resource, reject)
            });
            let rejected_by_id = rejects.iter().any(|reject| {
                let reject_id = selector_id(reject);
                reject_id != ResId::default()
                    && resource_ids.iter().any(|id| selected_by(id, &reject_id))
            });
            if rejected_by_meta
                || rejected_by_id
                || !resource_ids.iter().any(|id| selected_by(id, &selector))
            {
                continue;
            }
            for path in &paths {
                let mut found = 0;
                visit(
                    &mut resource.object,
                    &split_field_path(path),
                    create,
                    &mut found,
                    &mut |field| {
                        set_field(field, value, options);
                    },
                );
                if found == 0 {
                    let verb = if create { "find or create" } else { "find" };
                    return Err(Error::build(format!(
                        "unable to {verb} field \"{path}\" in replacement target"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Runs a list of replacements (inline or `path:` files) over the resources.
pub fn run(loader: &Loader, resources: &mut ResMap, replacements: &[Value]) -> Result<(), Error> {
    let mut expanded = Vec::new();
    for entry in replacements {
        if let Some(Value::String(path)) = entry.get("path") {
            let text = loader.read(path)?;
            for document in loader.parse(path, &text)? {
                match document {
                    Value::Array(items) => expanded.extend(items),
                    Value::Null => {}
                    other => expanded.push(other),
                }
            }
        } else {
            expanded.push(entry.clone());
        }
    }
    for replacement in &expanded {
        let source = replacement.get("source").cloned().unwrap_or(Value::Null);
        let value = source_value(&resources.items, &source)?;
        let targets = replacement
            .get("targets")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        apply_targets(&mut resources.items, &value, &targets)?;
    }
    Ok(())
}
