//! The built-in transformers in kustomize's fixed order, and transformer plugins
//! configured as YAML under `transformers:`.

mod meta;

use std::fmt::Write as _;

use serde_json::Value;

use crate::build::{Accumulator, Builder};
use crate::fieldspec::{FieldSpec, merge_specs};
use crate::kustomization::{Image, Kustomization, Label, Patch, Replica};
use crate::loader::Loader;
use crate::resmap::ResMap;
use crate::{Error, patch};

pub use meta::SubjectMode;

/// Records on every resource that a transformer configured in one kustomization ran, as
/// kustomize's `alpha.config.kubernetes.io/transformations` annotation lists it (each
/// configured transformer instance annotates every resource present at that point).
pub struct Tracker {
    /// The kustomization file relative to the top-level one; `None` when not tracking.
    configured_in: Option<String>,
}

impl Tracker {
    /// A tracker for the kustomization `loader` reads, active when `on`.
    pub fn new(on: bool, loader: &Loader) -> Self {
        Self {
            configured_in: on.then(|| {
                loader
                    .origin_dir
                    .join(&loader.kustomization_name)
                    .display()
                    .to_string()
            }),
        }
    }

    /// A built-in transformer of `kind` (e.g. `PrefixTransformer`) ran.
    fn builtin(&self, resources: &mut ResMap, kind: &str) {
        if let Some(configured_in) = &self.configured_in {
            let entry = format!(
                "- configuredIn: {configured_in}\n  configuredBy:\n    apiVersion: builtin\n    kind: {kind}\n"
            );
            mark(resources, &entry);
        }
    }

    /// A transformer plugin configured by `config` (read from `configured_in`) ran.
    fn plugin(&self, resources: &mut ResMap, configured_in: &str, config: &Value) {
        if self.configured_in.is_none() {
            return;
        }
        let mut entry = format!("- configuredIn: {configured_in}\n  configuredBy:\n");
        for (field, value) in [
            ("apiVersion", text(config, "apiVersion")),
            ("kind", text(config, "kind")),
            ("name", metadata_text(config, "name")),
            ("namespace", metadata_text(config, "namespace")),
        ] {
            if !value.is_empty() {
                let _ = writeln!(entry, "    {field}: {value}");
            }
        }
        mark(resources, &entry);
    }
}

fn mark(resources: &mut ResMap, entry: &str) {
    let entry: std::sync::Arc<str> = entry.into();
    for resource in &mut resources.items {
        resource.tracking.transformations.push(entry.clone());
    }
}

fn metadata_text(value: &Value, field: &str) -> String {
    value
        .get("metadata")
        .map(|metadata| text(metadata, field))
        .unwrap_or_default()
}

/// Field specs used by a `labels:` entry.
fn label_specs(label: &Label, accumulator: &Accumulator) -> Vec<FieldSpec> {
    let config = &accumulator.config;
    let mut specs = label.fields.clone();
    merge_specs(&mut specs, &config.labels);
    if label.include_selectors {
        merge_specs(&mut specs, &config.common_labels);
    } else {
        if label.include_templates {
            merge_specs(&mut specs, &config.template_labels);
        }
        merge_specs(
            &mut specs,
            &[FieldSpec {
                path: "metadata/labels".to_owned(),
                create: true,
                ..FieldSpec::default()
            }],
        );
    }
    specs
}

fn no_create(specs: &[FieldSpec]) -> Vec<FieldSpec> {
    specs
        .iter()
        .map(|spec| FieldSpec {
            create: false,
            ..spec.clone()
        })
        .collect()
}

/// Runs kustomize's built-in transformers for one kustomization, in kustomize's order.
pub fn run_builtin(
    loader: &Loader,
    kustomization: &Kustomization,
    accumulator: &mut Accumulator,
    tracker: &Tracker,
) -> Result<(), Error> {
    for entry in &kustomization.patches_strategic_merge {
        patch::apply_strategic_entry(loader, &mut accumulator.resources, entry)?;
    }
    if !kustomization.patches_strategic_merge.is_empty() {
        tracker.builtin(&mut accumulator.resources, "PatchStrategicMergeTransformer");
    }
    for entry in &kustomization.patches {
        patch::apply_patch(loader, &mut accumulator.resources, entry)?;
        tracker.builtin(&mut accumulator.resources, "PatchTransformer");
    }
    let config = std::sync::Arc::clone(&accumulator.config);
    let resources = &mut accumulator.resources;
    meta::set_namespace(
        resources,
        &kustomization.namespace,
        &config.namespace,
        SubjectMode::DefaultOnly,
        false,
    )?;
    if !kustomization.namespace.is_empty() {
        tracker.builtin(resources, "NamespaceTransformer");
    }
    if !kustomization.name_prefix.is_empty() {
        meta::add_prefix_suffix(
            resources,
            &kustomization.name_prefix,
            "",
            &config.name_prefix,
            true,
        )?;
        tracker.builtin(resources, "PrefixTransformer");
    }
    if !kustomization.name_suffix.is_empty() {
        meta::add_prefix_suffix(
            resources,
            "",
            &kustomization.name_suffix,
            &config.name_suffix,
            false,
        )?;
        tracker.builtin(resources, "SuffixTransformer");
    }
    for label in &kustomization.labels {
        let specs = label_specs(label, accumulator);
        meta::add_pairs(&mut accumulator.resources, &label.pairs, &specs)?;
        tracker.builtin(&mut accumulator.resources, "LabelTransformer");
    }
    let resources = &mut accumulator.resources;
    meta::add_pairs(
        resources,
        &kustomization.common_labels,
        &config.common_labels,
    )?;
    // kustomize configures the commonLabels instance whenever any labels are set.
    if !kustomization.labels.is_empty() || !kustomization.common_labels.is_empty() {
        tracker.builtin(resources, "LabelTransformer");
    }
    meta::add_pairs(
        resources,
        &kustomization.common_annotations,
        &config.common_annotations,
    )?;
    if !kustomization.common_annotations.is_empty() {
        tracker.builtin(resources, "AnnotationsTransformer");
    }
    for entry in &kustomization.patches_json6902 {
        patch::apply_json_entry(loader, resources, entry)?;
        tracker.builtin(resources, "PatchJson6902Transformer");
    }
    for replica in &kustomization.replicas {
        meta::set_replicas(resources, replica, &config.replicas)?;
        tracker.builtin(resources, "ReplicaCountTransformer");
    }
    for image in &kustomization.images {
        meta::set_image(resources, image, &no_create(&config.images))?;
        tracker.builtin(resources, "ImageTagTransformer");
    }
    if !kustomization.replacements.is_empty() {
        crate::replace::run(loader, resources, &kustomization.replacements)?;
        tracker.builtin(resources, "ReplacementTransformer");
    }
    Ok(())
}

fn text(value: &Value, field: &str) -> String {
    match value.get(field) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn specs_field(value: &Value, field: &str) -> Result<Option<Vec<FieldSpec>>, Error> {
    match value.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(specs) => serde_json::from_value(specs.clone())
            .map(Some)
            .map_err(|error| Error::build(format!("invalid fieldSpecs: {error}"))),
    }
}

fn from_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Error> {
    serde_json::from_value(value)
        .map_err(|error| Error::build(format!("invalid transformer configuration: {error}")))
}

fn pairs_field(value: &Value, field: &str) -> Vec<(String, String)> {
    match value.get(field) {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(key, value)| {
                (
                    key.clone(),
                    value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Runs one transformer plugin configuration (a built-in kind written as YAML).
fn run_plugin(
    loader: &Loader,
    resources: &mut ResMap,
    config: &Value,
    accumulator_config: &crate::config::TransformerConfig,
) -> Result<(), Error> {
    let kind = text(config, "kind");
    let strip = |value: &Value| {
        let mut value = value.clone();
        if let Value::Object(map) = &mut value {
            for key in ["apiVersion", "kind", "metadata"] {
                map.remove(key);
            }
        }
        value
    };
    match kind.as_str() {
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            let specs = specs_field(config, "fieldSpecs")?
                .unwrap_or_else(|| accumulator_config.name_prefix.clone());
            let prefix = text(config, "prefix");
            let suffix = text(config, "suffix");
            if !prefix.is_empty() {
                meta::add_prefix_suffix(resources, &prefix, "", &specs, true)?;
            }
            if !suffix.is_empty() {
                meta::add_prefix_suffix(resources, "", &suffix, &specs, false)?;
            }
            Ok(())
        }
        "LabelTransformer" => {
            let specs = specs_field(config, "fieldSpecs")?.unwrap_or_default();
            meta::add_pairs(resources, &pairs_field(config, "labels"), &specs)
        }
        "AnnotationsTransformer" => {
            let specs = specs_field(config, "fieldSpecs")?.unwrap_or_default();
            meta::add_pairs(resources, &pairs_field(config, "annotations"), &specs)
        }
        "NamespaceTransformer" => {
            let namespace = config
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let specs = specs_field(config, "fieldSpecs")?.unwrap_or_default();
            let mode = match text(config, "setRoleBindingSubjects").as_str() {
                "allServiceAccounts" => SubjectMode::AllServiceAccounts,
                "none" => SubjectMode::None,
                _ => SubjectMode::DefaultOnly,
            };
            let unset_only = config
                .get("unsetOnly")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            meta::set_namespace(resources, &namespace, &specs, mode, unset_only)
        }
        "ImageTagTransformer" => {
            let image: Image = from_value(config.get("imageTag").cloned().unwrap_or(Value::Null))?;
            let specs = specs_field(config, "fieldSpecs")?
                .unwrap_or_else(|| accumulator_config.images.clone());
            meta::set_image(resources, &image, &no_create(&specs))
        }
        "ReplicaCountTransformer" => {
            let replica: Replica =
                from_value(config.get("replica").cloned().unwrap_or(Value::Null))?;
            let specs = specs_field(config, "fieldSpecs")?
                .unwrap_or_else(|| accumulator_config.replicas.clone());
            meta::set_replicas(resources, &replica, &specs)
        }
        "PatchTransformer" | "PatchJson6902Transformer" => {
            let patch: Patch = from_value(strip(config))?;
            patch::apply_patch(loader, resources, &patch)
        }
        "PatchStrategicMergeTransformer" => {
            let paths = config
                .get("paths")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for entry in paths {
                patch::apply_strategic_entry(loader, resources, &entry)?;
            }
            if let Some(Value::String(patches)) = config.get("patches") {
                patch::apply_strategic_entry(loader, resources, &Value::String(patches.clone()))?;
            }
            Ok(())
        }
        "ReplacementTransformer" => {
            let replacements = config
                .get("replacements")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            crate::replace::run(loader, resources, &replacements)
        }
        other => Err(Error::Unsupported {
            field: format!("transformers: plugin kind '{other}'"),
        }),
    }
}

/// Runs the `transformers:` entries (inline YAML, files, or kustomization directories).
pub fn run_configured(
    builder: &mut Builder<'_>,
    loader: &Loader,
    kustomization: &Kustomization,
    accumulator: &mut Accumulator,
    tracker: &Tracker,
) -> Result<(), Error> {
    if !kustomization.validators.is_empty() {
        return Err(Error::Unsupported {
            field: "validators".to_owned(),
        });
    }
    let kustomization_file = loader.origin_dir.join(&loader.kustomization_name);
    for entry in &kustomization.transformers {
        // Each config with the file it was read from (kustomize's origin of the plugin).
        let configs: Vec<(String, Value)> = if entry.contains('\n') {
            let file = kustomization_file.display().to_string();
            loader
                .parse("<inline transformer>", entry)?
                .into_iter()
                .map(|config| (file.clone(), config))
                .collect()
        } else if loader.resolve(entry).is_dir() {
            let chain = loader.chain.clone();
            let built =
                builder.accumulate_directory(&loader.resolve(entry), false, None, &chain)?;
            built
                .resources
                .items
                .into_iter()
                .map(|resource| {
                    let file = resource
                        .tracking
                        .origin
                        .as_deref()
                        .and_then(|origin| origin.lines().next())
                        .and_then(|line| line.strip_prefix("path: "))
                        .unwrap_or_default()
                        .to_owned();
                    (file, resource.into_value())
                })
                .collect()
        } else {
            let text = loader.read(entry)?;
            let file = loader.origin_dir.join(entry).display().to_string();
            loader
                .parse(entry, &text)?
                .into_iter()
                .map(|config| (file.clone(), config))
                .collect()
        };
        for (file, config) in configs.iter().filter(|(_, config)| !config.is_null()) {
            run_plugin(
                loader,
                &mut accumulator.resources,
                config,
                &accumulator.config,
            )?;
            tracker.plugin(&mut accumulator.resources, file, config);
        }
    }
    Ok(())
}
