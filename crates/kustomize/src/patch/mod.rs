//! The three patch transformers: `patchesStrategicMerge`, `patches`, `patchesJson6902`.

mod json6902;
pub mod select;

use serde_json::Value;

pub use select::select;

use crate::Error;
use crate::kustomization::{Patch, Selector};
use crate::loader::Loader;
use crate::resmap::ResMap;
use crate::resource::Resource;
use crate::smp;

/// A parsed patch body.
enum Body {
    Strategic(Vec<Value>),
    Json(Vec<Value>),
}

fn parse_body(loader: &Loader, patch: &Patch) -> Result<Body, Error> {
    let (label, text) = if patch.path.is_empty() {
        ("<inline patch>".to_owned(), patch.patch.clone())
    } else {
        (patch.path.clone(), loader.read(&patch.path)?)
    };
    let documents: Vec<Value> = loader
        .parse(&label, &text)?
        .into_iter()
        .filter(|document| !document.is_null())
        .collect();
    match documents.as_slice() {
        [Value::Array(operations)] => Ok(Body::Json(operations.clone())),
        [] => Err(Error::Patch {
            message: format!("patch {label} is empty"),
        }),
        _ => Ok(Body::Strategic(documents)),
    }
}

/// Applies one strategic merge patch document to one resource.
fn apply_strategic(
    resource: &mut Resource,
    patch: &Value,
    options: &std::collections::BTreeMap<String, bool>,
) -> Result<(), Error> {
    let allow_name = options.get("allowNameChange").copied().unwrap_or(false);
    let allow_kind = options.get("allowKindChange").copied().unwrap_or(false);
    let (name, namespace, kind) = (resource.name(), resource.namespace(), resource.kind());
    if allow_name || allow_kind {
        resource.store_previous_id();
    }
    let type_name = smp::schema::kind_type(&resource.gvk());
    let mut patch = patch.clone();
    if let Value::Object(map) = &mut patch {
        // The patch's apiVersion never changes the target's.
        map.remove("apiVersion");
    }
    let mut merged = resource.object.clone();
    match smp::merge(&mut merged, &patch, type_name) {
        smp::Outcome::Keep => resource.object = merged,
        smp::Outcome::Delete => {
            resource.object = Value::Object(serde_json::Map::new());
            return Ok(());
        }
        smp::Outcome::Conflict => {
            return Err(Error::Patch {
                message: format!(
                    "cannot merge a map into a scalar or list field of {}",
                    resource.current_id()
                ),
            });
        }
    }
    if resource.is_empty() {
        return Ok(());
    }
    if !allow_kind && let Value::Object(map) = &mut resource.object {
        map.insert("kind".to_owned(), Value::String(kind));
    }
    if !allow_name {
        resource.set_name(&name);
    }
    if namespace.is_empty() {
        if let Some(Value::Object(metadata)) = resource.object.get_mut("metadata") {
            metadata.remove("namespace");
        }
    } else {
        resource.set_namespace(&namespace);
    }
    Ok(())
}

fn patch_id_target(resources: &ResMap, patch: &Value) -> Result<usize, Error> {
    let probe = Resource::new(patch.clone());
    let id = probe.current_id();
    let matches: Vec<usize> = resources
        .items
        .iter()
        .enumerate()
        .filter(|(_, resource)| {
            resource.current_id().equals(&id)
                || resource
                    .tracking
                    .previous
                    .iter()
                    .any(|previous| previous.equals(&id))
        })
        .map(|(index, _)| index)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::PatchTargetNotFound {
            target: id.to_string(),
        }),
        _ => Err(Error::Patch {
            message: format!(
                "multiple matches for id {id}; failed to find unique target for patch"
            ),
        }),
    }
}

fn remove_empty(resources: &mut ResMap) {
    resources.items.retain(|resource| !resource.is_empty());
}

/// A `patches:` entry (strategic or JSON, with or without target).
pub fn apply_patch(loader: &Loader, resources: &mut ResMap, patch: &Patch) -> Result<(), Error> {
    match parse_body(loader, patch)? {
        Body::Json(operations) => {
            let Some(target) = &patch.target else {
                return Err(Error::Patch {
                    message: "must specify a target for JSON patch".to_owned(),
                });
            };
            apply_json(resources, target, &operations)
        }
        Body::Strategic(documents) => {
            if let Some(target) = &patch.target {
                if documents.len() > 1 {
                    return Err(Error::Patch {
                        message: "multiple strategic-merge patches in one `patches` entry may not set `target`".to_owned(),
                    });
                }
                for index in select(&resources.items, target)? {
                    let mut document = documents[0].clone();
                    if let Value::Object(map) = &mut document {
                        map.insert(
                            "apiVersion".to_owned(),
                            Value::String(resources.items[index].api_version()),
                        );
                    }
                    apply_strategic(&mut resources.items[index], &document, &patch.options)?;
                }
            } else {
                for document in &documents {
                    let index = patch_id_target(resources, document)?;
                    apply_strategic(&mut resources.items[index], document, &patch.options)?;
                }
            }
            remove_empty(resources);
            Ok(())
        }
    }
}

/// A `patchesStrategicMerge:` entry: a file path or inline YAML.
pub fn apply_strategic_entry(
    loader: &Loader,
    resources: &mut ResMap,
    entry: &Value,
) -> Result<(), Error> {
    let text = match entry {
        Value::String(text) if !text.contains('\n') && loader.resolve(text).is_file() => {
            loader.read(text)?
        }
        Value::String(text) => text.clone(),
        other => crate::yaml::to_yaml(other),
    };
    let patch = Patch {
        patch: text,
        ..Patch::default()
    };
    apply_patch(loader, resources, &patch)
}

/// A `patchesJson6902:` entry.
pub fn apply_json_entry(
    loader: &Loader,
    resources: &mut ResMap,
    patch: &Patch,
) -> Result<(), Error> {
    apply_patch(loader, resources, patch)
}

fn apply_json(
    resources: &mut ResMap,
    target: &Selector,
    operations: &[Value],
) -> Result<(), Error> {
    for index in select(&resources.items, target)? {
        json6902::apply(&mut resources.items[index].object, operations)?;
    }
    Ok(())
}
