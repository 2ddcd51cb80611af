//! From an unpacked artifact to the objects to apply: kustomization file (generated or
//! overlaid), SOPS decryption, native kustomize build, postBuild substitution, owner labels.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use ferroflux_api::kustomize::v1::{Kustomization, SubstituteReferenceKind, SubstituteStrategy};
use ferroflux_runtime::lookup::Lookup;
use kube::ResourceExt;
use serde_json::Value;

use crate::error::KustomizeError;
use crate::{decrypt, generator, substitute};

/// Objects carrying this label or annotation are not substituted.
pub const SUBSTITUTE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";
/// Owner label: the Kustomization's name.
pub const NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
/// Owner label: the Kustomization's namespace.
pub const NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";

/// Options of a build.
pub struct BuildSettings {
    /// Allow remote bases (`--no-remote-bases` turns this off).
    pub allow_remote: bool,
    /// Fail on variables that are referenced but not set (`StrictPostBuildSubstitutions`).
    pub strict_substitution: bool,
    /// Leave SOPS-encrypted objects as they are instead of refusing them (an offline build
    /// without the decryption keys; never set by the controller).
    pub keep_encrypted: bool,
}

/// Builds the objects of `object` from the artifact unpacked at `root` (which it may
/// change: a generated or overlaid kustomization file); the ConfigMaps and Secrets it names
/// are read through `lookup`.
pub async fn build(
    lookup: Lookup<'_>,
    object: &Kustomization,
    root: &Path,
    settings: &BuildSettings,
) -> Result<Vec<Value>, KustomizeError> {
    let path = object.spec.path.clone().unwrap_or_default();
    let relative = path.trim_start_matches("./").trim_start_matches('/');
    let dir = root.join(relative);
    let inside = dir
        .components()
        .all(|c| c != std::path::Component::ParentDir);
    if !inside || !dir.is_dir() {
        return Err(KustomizeError::Artifact {
            message: format!(
                "kustomization path not found: stat {}: no such file or directory",
                display_path(&path)
            ),
            retry_after: None,
        });
    }
    let keys = decrypt::keys(lookup, object).await?.map(Arc::new);
    let spec = object.spec.clone();
    let (build_dir, build_root) = (dir.clone(), root.to_path_buf());
    let allow_remote = settings.allow_remote;
    let build_keys = keys.clone();
    let resources = tokio::task::spawn_blocking(move || -> Result<Vec<Value>, KustomizeError> {
        generator::prepare(&build_dir, &build_root, &spec)
            .map_err(|e| KustomizeError::Build(e.to_string()))?;
        if let Some(keys) = &build_keys {
            decrypt::decrypt_sources(&build_root, &build_dir, keys)?;
        }
        let options = ferroflux_kustomize::BuildOptions {
            load_restrictor: ferroflux_kustomize::LoadRestrictions::None,
            allow_remote,
        };
        let resources = ferroflux_kustomize::build(&build_dir, &options)
            .map_err(|e| KustomizeError::Build(format!("kustomize build failed: {e}")))?;
        Ok(resources
            .into_iter()
            .map(ferroflux_kustomize::Resource::into_value)
            .collect())
    })
    .await
    .map_err(|e| KustomizeError::Build(format!("kustomize build failed: {e}")))??;

    let mut resources = resources;
    if let Some(keys) = &keys {
        for resource in &mut resources {
            decrypt::decrypt_object(resource, keys)?;
        }
    }
    let mut objects =
        substitute_all(lookup, object, resources, settings.strict_substitution).await?;
    for resource in &mut objects {
        if !settings.keep_encrypted {
            check_object(resource)?;
        }
        stamp(resource, object);
    }
    Ok(objects)
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        ".".to_owned()
    } else {
        path.to_owned()
    }
}

/// Every object needs apiVersion, kind and name; SOPS-encrypted ones are never applied as
/// they are (unless annotated `kustomize.toolkit.fluxcd.io/decrypt: disabled`).
fn check_object(resource: &Value) -> Result<(), KustomizeError> {
    let text = |pointer: &str| {
        resource
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (kind, name) = (text("/kind"), text("/metadata/name"));
    if text("/apiVersion").is_empty() || kind.is_empty() || name.is_empty() {
        return Err(KustomizeError::Build(format!(
            "object '{kind}/{name}' is missing apiVersion, kind or metadata.name"
        )));
    }
    if resource
        .get("sops")
        .is_some_and(|sops| sops.get("mac").is_some())
        && !decrypt::disabled(resource)
    {
        let namespace = text("/metadata/namespace");
        let subject = if namespace.is_empty() {
            format!("{kind}/{name}")
        } else {
            format!("{kind}/{namespace}/{name}")
        };
        return Err(KustomizeError::Build(format!(
            "{subject} is SOPS encrypted, configuring decryption is required for this secret to be reconciled"
        )));
    }
    Ok(())
}

/// Owner labels (which prune relies on) and `spec.commonMetadata`.
fn stamp(resource: &mut Value, object: &Kustomization) {
    let Some(metadata) = resource.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let mut insert = |field: &str, key: &str, value: &str| {
        let map = metadata
            .entry(field)
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(map) = map.as_object_mut() {
            map.insert(key.to_owned(), Value::from(value));
        }
    };
    if let Some(common) = &object.spec.common_metadata {
        for (key, value) in common.labels.iter().flatten() {
            insert("labels", key, value);
        }
        for (key, value) in common.annotations.iter().flatten() {
            insert("annotations", key, value);
        }
    }
    insert("labels", NAME_LABEL, &object.name_any());
    insert(
        "labels",
        NAMESPACE_LABEL,
        &object.namespace().unwrap_or_default(),
    );
}

/// Applies postBuild substitution to every object that does not opt out.
async fn substitute_all(
    lookup: Lookup<'_>,
    object: &Kustomization,
    resources: Vec<Value>,
    strict: bool,
) -> Result<Vec<Value>, KustomizeError> {
    let Some(post_build) = &object.spec.post_build else {
        return Ok(resources);
    };
    let vars = variables(lookup, object).await?;
    let always = post_build.substitute_strategy == Some(SubstituteStrategy::Always);
    if vars.is_empty() && !always {
        return Ok(resources);
    }
    let mut out = Vec::with_capacity(resources.len());
    for resource in resources {
        let disabled = ["labels", "annotations"].iter().any(|field| {
            resource
                .pointer(&format!(
                    "/metadata/{field}/{}",
                    SUBSTITUTE_KEY.replace('/', "~1")
                ))
                .and_then(Value::as_str)
                .is_some_and(|v| v.eq_ignore_ascii_case("disabled"))
        });
        if disabled {
            out.push(resource);
            continue;
        }
        let subject = format!(
            "{}/{}",
            resource
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            resource
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
        );
        let text = ferroflux_kustomize::yaml::to_yaml(&resource);
        let substituted = substitute::substitute(&text, &vars, strict).map_err(|e| {
            KustomizeError::Build(format!("{subject}: variable substitution failed: {e}"))
        })?;
        let mut documents =
            ferroflux_kustomize::yaml::parse_documents(&substituted).map_err(|e| {
                KustomizeError::Build(format!(
                    "{subject}: the substituted object is not valid YAML: {}",
                    generator::yaml_error(&e)
                ))
            })?;
        out.push(documents.pop().unwrap_or(resource));
    }
    Ok(out)
}

/// The variables of `postBuild`: `substituteFrom` in order (later wins), then `substitute`.
async fn variables(
    lookup: Lookup<'_>,
    object: &Kustomization,
) -> Result<BTreeMap<String, String>, KustomizeError> {
    let namespace = object.namespace().unwrap_or_default();
    let Some(post_build) = &object.spec.post_build else {
        return Ok(BTreeMap::new());
    };
    let mut vars = BTreeMap::new();
    for reference in post_build.substitute_from.iter().flatten() {
        let optional = reference.optional.unwrap_or(false);
        let data: Option<BTreeMap<String, String>> = match reference.kind {
            SubstituteReferenceKind::ConfigMap => lookup
                .config_map(&namespace, &reference.name)
                .await?
                .map(|config_map| config_map.data.unwrap_or_default()),
            SubstituteReferenceKind::Secret => lookup
                .secret(&namespace, &reference.name)
                .await?
                .map(|secret| {
                    secret
                        .data
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                        .collect()
                }),
        };
        let kind = match reference.kind {
            SubstituteReferenceKind::ConfigMap => "ConfigMap",
            SubstituteReferenceKind::Secret => "Secret",
        };
        match data {
            Some(data) => vars.extend(data),
            None if optional => {}
            None => {
                return Err(KustomizeError::Build(format!(
                    "substitute from '{kind}/{}' error: {kind} '{namespace}/{}' not found",
                    reference.name, reference.name
                )));
            }
        }
    }
    vars.extend(post_build.substitute.clone().unwrap_or_default());
    for (name, value) in &mut vars {
        if !substitute::valid_name(name) {
            return Err(KustomizeError::Build(format!(
                "'{name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'"
            )));
        }
        *value = value.replace('\n', "");
    }
    Ok(vars)
}
