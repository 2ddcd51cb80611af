//! A native kustomize v5 engine whose output is byte-identical to `kubectl kustomize`.
//!
//! Pipeline (mirroring kustomize's `krusty` package):
//! 1. load the kustomization file of a directory and, recursively, its resources,
//!    bases and components into an accumulator of resources ([`build`]);
//! 2. run the generators (configMapGenerator, secretGenerator) and then the built-in
//!    transformers in kustomize's fixed order: strategic-merge patches, patches,
//!    namespace, prefix, suffix, labels, annotations, JSON 6902 patches, replicas,
//!    images, replacements; then `transformers:` plugin configurations;
//! 3. at the top level only, append content hashes to generated names, rewrite every
//!    reference to a renamed resource (the name-reference table) and resolve legacy vars;
//! 4. sort (legacy kind order unless `sortOptions` says otherwise) and print each
//!    resource the way kustomize does: through JSON and go-yaml v2, which sorts keys and
//!    decides quoting and line folding, joined by `---`.
//!
//! Values are `serde_json::Value`s: kustomize itself prints through JSON, so comments,
//! key order and scalar styles of the input never reach the output.

mod build;
mod config;
mod defaults;
mod error;
mod fieldspec;
mod generate;
mod kustomization;
mod loader;
mod nameref;
mod namerefs;
mod patch;
mod remote;
mod replace;
mod resid;
mod resmap;
mod resource;
mod smp;
mod sort;
mod transform;
mod vars;
pub mod yaml;

use std::path::Path;

pub use error::{Chain, Error};
pub use resource::Resource;
pub use smp::generate_merge_key_table;

/// Which files a kustomization may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadRestrictions {
    /// Files must lie in or below the kustomization's own directory (kustomize default).
    #[default]
    RootOnly,
    /// Any readable file may be used.
    None,
}

/// Options of a build, matching `kustomize build` flags.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub load_restrictor: LoadRestrictions,
    /// Allow remote resources: `http(s)://` files and Git repositories (cloned with
    /// libgit2, kustomize's URL rules). Off by default; when off they fail with a clear
    /// error.
    pub allow_remote: bool,
}

/// Builds the kustomization in `dir` into its resources, in output order.
pub fn build(dir: &Path, options: &BuildOptions) -> Result<Vec<Resource>, Error> {
    let dir = build::absolute(dir);
    let mut builder = build::Builder::new(options);
    let (loader, kustomization) = builder.load_kustomization(&dir, &Chain::default())?;
    builder.track_transformations = kustomization
        .build_metadata
        .iter()
        .any(|option| option == "transformerAnnotations");
    let sort_options = kustomization.sort_options.clone();
    let build_metadata = kustomization.build_metadata.clone();
    builder.preloaded = Some((dir.clone(), loader, kustomization));
    let accumulator = builder.accumulate_directory(&dir, false, None, &Chain::default())?;
    let mut resources = accumulator.resources.items;
    add_hashes(&mut resources);
    nameref::fix_back_references(&mut resources, &accumulator.config.name_reference)?;
    vars::resolve(
        &mut resources,
        &accumulator.vars,
        &accumulator.config.var_reference,
    )?;
    sort::sort(&mut resources, sort_options.as_ref());
    strip_build_metadata(&mut resources, &build_metadata);
    Ok(resources)
}

/// Builds and prints exactly what `kubectl kustomize DIR` prints.
pub fn build_to_yaml(dir: &Path, options: &BuildOptions) -> Result<String, Error> {
    let resources = build(dir, options)?;
    for resource in &resources {
        if let Some(character) = yaml::unreadable_character(resource.as_value()) {
            return Err(Error::build(format!(
                "resource {} holds the character U+{:04X}, which kustomize's YAML conversion rejects",
                resource.current_id(),
                u32::from(character)
            )));
        }
    }
    Ok(resources
        .iter()
        .map(Resource::to_yaml)
        .collect::<Vec<_>>()
        .join("---\n"))
}

/// Appends the content hash to generated ConfigMap/Secret names.
fn add_hashes(resources: &mut [Resource]) {
    for resource in resources
        .iter_mut()
        .filter(|resource| resource.tracking.needs_hash)
    {
        let hash = generate::content_hash(resource);
        resource.store_previous_id();
        let name = format!("{}-{hash}", resource.name());
        resource.set_name(&name);
    }
}

/// Applies `buildMetadata`: origin and transformer annotations and the managed-by label.
fn strip_build_metadata(resources: &mut [Resource], options: &[String]) {
    let origins = options.iter().any(|option| option == "originAnnotations");
    let managed_by = options.iter().any(|option| option == "managedByLabel");
    for resource in resources {
        if origins && let Some(origin) = resource.tracking.origin.clone() {
            insert_pair(
                resource,
                "annotations",
                "config.kubernetes.io/origin",
                &origin,
            );
        }
        if !resource.tracking.transformations.is_empty() {
            let list: String = resource.tracking.transformations.concat();
            insert_pair(
                resource,
                "annotations",
                "alpha.config.kubernetes.io/transformations",
                &list,
            );
        }
        if managed_by {
            // kubectl's embedded kustomize reports its version as "(devel)".
            insert_pair(
                resource,
                "labels",
                "app.kubernetes.io/managed-by",
                "kustomize-(devel)",
            );
        }
    }
}

fn insert_pair(resource: &mut Resource, field: &str, key: &str, value: &str) {
    let metadata = resource.metadata_mut();
    let map = metadata
        .entry(field)
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if !map.is_object() {
        *map = serde_json::Value::Object(serde_json::Map::new());
    }
    if let serde_json::Value::Object(map) = map {
        map.insert(key.to_owned(), serde_json::Value::String(value.to_owned()));
    }
}
