//! Transformers that set metadata-like fields: namespace, name prefix/suffix, labels,
//! annotations, replicas and images.

use regex::Regex;
use serde_json::{Map, Value};

use crate::Error;
use crate::fieldspec::{FieldSpec, apply_specs, split_path, visit_path};
use crate::kustomization::{Image, Pairs, Replica};
use crate::resid::Gvk;
use crate::resmap::ResMap;

/// How the namespace transformer treats RoleBinding subjects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectMode {
    DefaultOnly,
    AllServiceAccounts,
    None,
}

pub fn set_namespace(
    resources: &mut ResMap,
    namespace: &str,
    specs: &[FieldSpec],
    subjects: SubjectMode,
    unset_only: bool,
) -> Result<(), Error> {
    if namespace.is_empty() {
        return Ok(());
    }
    for resource in &mut resources.items {
        if resource.is_empty() {
            continue;
        }
        resource.store_previous_id();
        let gvk = resource.gvk();
        let api_version = resource.api_version();
        let mut set = |value: &mut Value| -> Result<(), Error> {
            let is_empty = value.is_null() || value.as_str() == Some("");
            if !unset_only || is_empty {
                *value = Value::String(namespace.to_owned());
            }
            Ok(())
        };
        if !gvk.is_cluster_scoped() {
            visit_path(
                &mut resource.object,
                &split_path("metadata/namespace"),
                true,
                &mut set,
            )?;
        }
        let is_binding = gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding";
        let filtered: Vec<FieldSpec> = specs
            .iter()
            .filter(|spec| spec.path != "metadata/namespace")
            .filter(|spec| api_version == "v1" || spec.path != "metadata/name")
            .filter(|spec| !(is_binding && spec.path == "subjects/namespace"))
            .cloned()
            .collect();
        if is_binding {
            set_subject_namespaces(&mut resource.object, namespace, subjects);
        }
        apply_specs(&mut resource.object, &gvk, &filtered, &mut set)?;
    }
    let mut seen = std::collections::HashSet::new();
    for resource in &resources.items {
        let id = resource.current_id();
        let namespace = id.effective_namespace().to_owned();
        if !seen.insert((id.gvk.clone(), id.name.clone(), namespace)) {
            return Err(Error::build(format!(
                "namespace transformation produces ID conflict: {id}"
            )));
        }
    }
    Ok(())
}

fn set_subject_namespaces(object: &mut Value, namespace: &str, mode: SubjectMode) {
    let Some(Value::Array(subjects)) = object.get_mut("subjects") else {
        return;
    };
    for subject in subjects {
        let Value::Object(subject) = subject else {
            continue;
        };
        let selected = match mode {
            SubjectMode::None => false,
            SubjectMode::DefaultOnly => {
                subject.get("name").and_then(Value::as_str) == Some("default")
            }
            SubjectMode::AllServiceAccounts => {
                subject.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
            }
        };
        if selected {
            subject.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
        }
    }
}

const PREFIX_SKIP: &[(&str, &str)] = &[
    ("", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("", "Namespace"),
];

/// Adds a prefix and suffix to names (and to any extra configured fields).
pub fn add_prefix_suffix(
    resources: &mut ResMap,
    prefix: &str,
    suffix: &str,
    specs: &[FieldSpec],
    is_prefix: bool,
) -> Result<(), Error> {
    for resource in &mut resources.items {
        let original = resource.original_id();
        let skipped = PREFIX_SKIP.iter().any(|(group, kind)| {
            original.gvk.is_selected_by(&Gvk {
                group: (*group).to_owned(),
                version: String::new(),
                kind: (*kind).to_owned(),
            })
        });
        if skipped {
            continue;
        }
        for spec in specs
            .iter()
            .filter(|spec| original.gvk.is_selected_by(&spec.gvk()))
        {
            if spec.path == "metadata/name" {
                let affix = if is_prefix { prefix } else { suffix };
                if !affix.is_empty() {
                    if is_prefix {
                        resource.tracking.prefixes.push(affix.to_owned());
                    } else {
                        resource.tracking.suffixes.push(affix.to_owned());
                    }
                    resource.store_previous_id();
                }
            }
            let gvk = resource.gvk();
            if !spec.applies_to(&gvk) {
                continue;
            }
            visit_path(
                &mut resource.object,
                &split_path(&spec.path),
                spec.create,
                &mut |value| {
                    if let Value::String(text) = value {
                        *text = format!("{prefix}{text}{suffix}");
                    }
                    Ok(())
                },
            )?;
        }
    }
    Ok(())
}

/// Adds string pairs to the maps at the given fields (labels, selectors, annotations).
pub fn add_pairs(resources: &mut ResMap, pairs: &Pairs, specs: &[FieldSpec]) -> Result<(), Error> {
    if pairs.is_empty() {
        return Ok(());
    }
    for resource in &mut resources.items {
        let gvk = resource.gvk();
        apply_specs(&mut resource.object, &gvk, specs, &mut |value| {
            if value.is_null() {
                *value = Value::Object(Map::new());
            }
            if let Value::Object(map) = value {
                for (key, text) in pairs {
                    map.insert(key.clone(), Value::String(text.clone()));
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

pub fn set_replicas(
    resources: &mut ResMap,
    replica: &Replica,
    specs: &[FieldSpec],
) -> Result<(), Error> {
    let mut found = false;
    for spec in specs {
        for resource in &mut resources.items {
            let mut ids = resource.tracking.previous.clone();
            ids.push(resource.current_id());
            if !ids
                .iter()
                .any(|id| id.name == replica.name && id.gvk.is_selected_by(&spec.gvk()))
            {
                continue;
            }
            found = true;
            visit_path(
                &mut resource.object,
                &split_path(&spec.path),
                spec.create,
                &mut |value| {
                    *value = Value::from(replica.count);
                    Ok(())
                },
            )?;
        }
    }
    if !found {
        let gvks: Vec<String> = specs.iter().map(|spec| spec.gvk().sort_string()).collect();
        return Err(Error::build(format!(
            "resource with name {} does not match a config with the following GVK [{}]",
            replica.name,
            gvks.join(" ")
        )));
    }
    Ok(())
}

/// Splits `registry/name:tag@digest` like kustomize's `image.Split`.
pub fn split_image(image: &str) -> (String, String, String) {
    let slash = image.find('/').filter(|index| *index > 0).unwrap_or(0);
    let search = &image[slash..];
    let at = search.find('@').map(|index| index + slash);
    let colon = search.find(':').map(|index| index + slash);
    match (colon, at) {
        (colon, Some(at)) if colon.is_none_or(|colon| at < colon) => (
            image[..at].to_owned(),
            String::new(),
            image[at + 1..].to_owned(),
        ),
        (Some(colon), Some(at)) => (
            image[..colon].to_owned(),
            image[colon + 1..at].to_owned(),
            image[at + 1..].to_owned(),
        ),
        (Some(colon), None) => (
            image[..colon].to_owned(),
            image[colon + 1..].to_owned(),
            String::new(),
        ),
        (None, None | Some(_)) => (image.to_owned(), String::new(), String::new()),
    }
}

fn update_image(value: &mut Value, image: &Image, matcher: &Regex) {
    let Value::String(current) = value else {
        return;
    };
    if !matcher.is_match(current) {
        return;
    }
    let (mut name, mut tag, mut digest) = split_image(current);
    if !image.new_name.is_empty() {
        name.clone_from(&image.new_name);
    }
    if !image.new_tag.is_empty() && !image.digest.is_empty() {
        tag.clone_from(&image.new_tag);
        digest.clone_from(&image.digest);
    } else if !image.new_tag.is_empty() {
        tag.clone_from(&image.new_tag);
        digest.clear();
    } else if !image.digest.is_empty() {
        tag.clear();
        digest.clone_from(&image.digest);
    } else if !image.tag_suffix.is_empty() {
        tag.push_str(&image.tag_suffix);
        digest.clear();
    }
    if !tag.is_empty() {
        name = format!("{name}:{tag}");
    }
    if !digest.is_empty() {
        name = format!("{name}@{digest}");
    }
    *value = Value::String(name);
}

/// Containers anywhere in the object (kustomize's legacy image filter).
fn update_containers(value: &mut Value, image: &Image, matcher: &Regex) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if (key == "containers" || key == "initContainers")
                    && let Value::Array(items) = child
                {
                    for item in items.iter_mut() {
                        if let Some(field) = item.get_mut("image") {
                            update_image(field, image, matcher);
                        }
                    }
                }
                update_containers(child, image, matcher);
            }
        }
        Value::Array(items) => {
            for item in items {
                update_containers(item, image, matcher);
            }
        }
        _ => {}
    }
}

pub fn set_image(resources: &mut ResMap, image: &Image, specs: &[FieldSpec]) -> Result<(), Error> {
    let matcher = Regex::new(&format!(
        "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$",
        image.name
    ))
    .map_err(|error| Error::build(format!("invalid image name '{}': {error}", image.name)))?;
    for resource in &mut resources.items {
        if resource.kind() == "CustomResourceDefinition" {
            continue;
        }
        update_containers(&mut resource.object, image, &matcher);
        let gvk = resource.gvk();
        apply_specs(&mut resource.object, &gvk, specs, &mut |value| {
            update_image(value, image, &matcher);
            Ok(())
        })?;
    }
    Ok(())
}
