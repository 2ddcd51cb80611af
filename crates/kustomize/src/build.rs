//! Accumulation: the recursive walk over kustomization directories.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::TransformerConfig;
use crate::error::Chain;
use crate::kustomization::Kustomization;
use crate::loader::{Loader, clean, is_remote};
use crate::resmap::ResMap;
use crate::resource::Resource;
use crate::{BuildOptions, Error, generate, transform};

/// What a kustomization directory (with everything below it) has produced so far.
#[derive(Debug)]
pub struct Accumulator {
    pub resources: ResMap,
    /// Shared until a `configurations:` entry changes it (copy on write).
    pub config: std::sync::Arc<TransformerConfig>,
    pub vars: Vec<Value>,
}

impl Default for Accumulator {
    fn default() -> Self {
        Self {
            resources: ResMap::default(),
            config: TransformerConfig::shared_default(),
            vars: Vec::new(),
        }
    }
}

/// Walks kustomization directories; `stack` detects cycles.
pub struct Builder<'a> {
    pub options: &'a BuildOptions,
    stack: Vec<PathBuf>,
    /// The top-level kustomization directory; origins are relative to it.
    top: Option<PathBuf>,
    /// Remote repositories cloned for this build, removed when it ends.
    clones: Vec<crate::remote::Clone>,
    /// Record which transformers ran over each resource (the top-level kustomization asks
    /// for `buildMetadata: [transformerAnnotations]`).
    pub track_transformations: bool,
    /// Real paths of the directories this build has visited.
    real_paths: crate::loader::RealPaths,
    /// The top-level kustomization, loaded once by [`crate::build`] before the walk.
    pub preloaded: Option<(PathBuf, Loader, Kustomization)>,
}

impl<'a> Builder<'a> {
    pub fn new(options: &'a BuildOptions) -> Self {
        Self {
            options,
            stack: Vec::new(),
            top: None,
            clones: Vec::new(),
            track_transformations: false,
            real_paths: crate::loader::RealPaths::default(),
            preloaded: None,
        }
    }

    /// Loads and parses the kustomization file of `dir`.
    pub fn load_kustomization(
        &mut self,
        dir: &Path,
        chain: &Chain,
    ) -> Result<(Loader, Kustomization), Error> {
        let file = Loader::kustomization_file(dir, chain)?;
        let mut own_chain = chain.clone();
        own_chain.0.push(dir.to_owned());
        let mut loader = Loader::new(
            dir.to_owned(),
            self.options.load_restrictor,
            own_chain,
            self.real_paths.clone(),
        );
        let top = self.top.get_or_insert_with(|| dir.to_owned());
        loader.origin_dir = crate::loader::relative_to(dir, top);
        let name = file
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        loader.kustomization_name.clone_from(&name);
        let text = std::fs::read_to_string(&file).map_err(|source| loader.io(&file, source))?;
        let documents = loader.parse_kustomization(&name, &text)?;
        let value = documents
            .into_iter()
            .find(|document| !document.is_null())
            .unwrap_or(Value::Object(serde_json::Map::new()));
        let invalid = |message: String| Error::Invalid {
            path: file.clone(),
            message,
            chain: chain.clone(),
        };
        let has_content = value.as_object().is_some_and(|map| {
            map.iter()
                .any(|(key, value)| key != "apiVersion" && key != "kind" && !value.is_null())
        });
        if !has_content {
            return Err(invalid("kustomization.yaml is empty".to_owned()));
        }
        let mut kustomization: Kustomization =
            serde_json::from_value(value).map_err(|error| Error::Invalid {
                path: file.clone(),
                message: error.to_string(),
                chain: chain.clone(),
            })?;
        kustomization.normalize();
        let kind = kustomization.kind.as_str();
        if !matches!(kind, "Kustomization" | "Component") {
            return Err(invalid(
                "kind should be Kustomization or Component".to_owned(),
            ));
        }
        let required = if kind == "Component" {
            "kustomize.config.k8s.io/v1alpha1"
        } else {
            "kustomize.config.k8s.io/v1beta1"
        };
        if kustomization.api_version != required {
            return Err(invalid(format!(
                "apiVersion for {kind} should be {required}"
            )));
        }
        Ok((loader, kustomization))
    }

    /// Builds one directory into a fresh accumulator (or into `into` for components).
    pub fn accumulate_directory(
        &mut self,
        dir: &Path,
        component: bool,
        into: Option<Accumulator>,
        chain: &Chain,
    ) -> Result<Accumulator, Error> {
        let real = self
            .real_paths
            .directory(dir)
            .unwrap_or_else(|_| dir.to_owned());
        if self.stack.contains(&real) {
            let path: Vec<String> = self
                .stack
                .iter()
                .map(|dir| dir.display().to_string())
                .collect();
            return Err(Error::Cycle {
                dir: real,
                chain: path.join(" -> "),
            });
        }
        let (loader, kustomization) = match self.preloaded.take() {
            Some((preloaded_dir, loader, kustomization)) if preloaded_dir == dir => {
                (loader, kustomization)
            }
            _ => self.load_kustomization(dir, chain)?,
        };
        let is_component = kustomization.kind == "Component";
        if component && !is_component {
            return Err(Error::build(format!(
                "expected kind 'Component' for path '{}' but got '{}'",
                dir.display(),
                kustomization.kind
            )));
        }
        if !component && is_component {
            return Err(Error::build(format!(
                "expected kind != 'Component' for path '{}'",
                dir.display()
            )));
        }
        self.stack.push(real);
        let result = self.accumulate_target(&loader, &kustomization, into.unwrap_or_default());
        self.stack.pop();
        result
    }

    fn accumulate_target(
        &mut self,
        loader: &Loader,
        kustomization: &Kustomization,
        mut accumulator: Accumulator,
    ) -> Result<Accumulator, Error> {
        check_unsupported(kustomization)?;
        for entry in &kustomization.resources {
            self.accumulate_resource(loader, entry, &mut accumulator)?;
        }
        for file in &kustomization.configurations {
            let text = loader.read(file)?;
            for document in loader.parse(file, &text)? {
                std::sync::Arc::make_mut(&mut accumulator.config)
                    .merge_document(&document)
                    .map_err(|message| Error::Invalid {
                        path: loader.resolve(file),
                        message,
                        chain: loader.chain.clone(),
                    })?;
            }
        }
        for file in &kustomization.crds {
            let text = loader.read(file)?;
            for document in loader.parse(file, &text)? {
                std::sync::Arc::make_mut(&mut accumulator.config).merge_crd(&document);
            }
        }
        generate::run_generators(loader, kustomization, &mut accumulator.resources)?;
        for component in &kustomization.components {
            accumulator = self.accumulate_sub(loader, component, true, accumulator)?;
        }
        let tracker = transform::Tracker::new(self.track_transformations, loader);
        transform::run_builtin(loader, kustomization, &mut accumulator, &tracker)?;
        transform::run_configured(self, loader, kustomization, &mut accumulator, &tracker)?;
        accumulator.vars.extend(kustomization.vars.iter().cloned());
        Ok(accumulator)
    }

    fn accumulate_sub(
        &mut self,
        loader: &Loader,
        entry: &str,
        component: bool,
        accumulator: Accumulator,
    ) -> Result<Accumulator, Error> {
        let dir = if is_remote(entry) {
            self.clone_remote(entry, None)?
        } else {
            loader.resolve(entry)
        };
        let chain = loader.chain.clone();
        if component {
            return self.accumulate_directory(&dir, true, Some(accumulator), &chain);
        }
        let mut accumulator = accumulator;
        let child = self.accumulate_directory(&dir, false, None, &chain)?;
        accumulator.resources.append_all(child.resources)?;
        if child.config.customized {
            std::sync::Arc::make_mut(&mut accumulator.config).merge(&child.config);
        }
        accumulator.vars.extend(child.vars);
        Ok(accumulator)
    }

    /// Clones a remote base (when remote resources are allowed) and returns the directory of
    /// its kustomization. `file_error` is why loading it as a file failed, if that was tried.
    fn clone_remote(&mut self, entry: &str, file_error: Option<&str>) -> Result<PathBuf, Error> {
        if !self.options.allow_remote {
            return Err(Error::Remote {
                url: entry.to_owned(),
                reason: "remote resources are disabled (BuildOptions::allow_remote is false)"
                    .to_owned(),
            });
        }
        let failed = |reason: String| Error::Remote {
            url: entry.to_owned(),
            reason: match file_error {
                Some(file_error) => format!("accumulation err='{file_error}': {reason}"),
                None => reason,
            },
        };
        let spec = crate::remote::parse_repo_spec(entry).map_err(failed)?;
        let clone = crate::remote::clone(&spec).map_err(failed)?;
        let root = clone.root(&spec);
        self.clones.push(clone);
        Ok(root)
    }

    /// A remote resource: an `http(s)://` file of resources, else a Git repository.
    fn accumulate_remote(
        &mut self,
        loader: &Loader,
        entry: &str,
        accumulator: &mut Accumulator,
    ) -> Result<(), Error> {
        let mut file_error = None;
        if self.options.allow_remote
            && (entry.starts_with("http://") || entry.starts_with("https://"))
        {
            match crate::remote::fetch_file(entry) {
                Ok(text) => match resources_from_text(loader, entry, &text) {
                    Ok(mut resources) => {
                        let origin = format!("path: {entry}\n");
                        for resource in &mut resources {
                            resource.tracking.origin = Some(origin.clone());
                        }
                        return accumulator.resources.append_many(resources);
                    }
                    Err(error) => file_error = Some(error.to_string()),
                },
                Err(crate::remote::FetchError::Http(message)) => {
                    return Err(Error::Remote {
                        url: entry.to_owned(),
                        reason: message,
                    });
                }
                Err(crate::remote::FetchError::Other(message)) => file_error = Some(message),
            }
        }
        let dir = self.clone_remote(entry, file_error.as_deref())?;
        let chain = loader.chain.clone();
        let child = self.accumulate_directory(&dir, false, None, &chain)?;
        accumulator.resources.append_all(child.resources)?;
        if child.config.customized {
            std::sync::Arc::make_mut(&mut accumulator.config).merge(&child.config);
        }
        accumulator.vars.extend(child.vars);
        Ok(())
    }

    fn accumulate_resource(
        &mut self,
        loader: &Loader,
        entry: &str,
        accumulator: &mut Accumulator,
    ) -> Result<(), Error> {
        if is_remote(entry) {
            return self.accumulate_remote(loader, entry, accumulator);
        }
        let path = loader.resolve(entry);
        let text = match loader.real_paths.entry(&path) {
            Ok((_, true)) => {
                let taken = std::mem::take(accumulator);
                *accumulator = self.accumulate_sub(loader, entry, false, taken)?;
                return Ok(());
            }
            Ok((real, false)) => loader.read_real(&path, real)?,
            Err(source) => return Err(loader.io(&path, source)),
        };
        let origin = format!("path: {}\n", loader.origin_dir.join(entry).display());
        let mut resources = resources_from_text(loader, entry, &text)?;
        for resource in &mut resources {
            resource.tracking.origin = Some(origin.clone());
        }
        accumulator.resources.append_many(resources)?;
        Ok(())
    }
}

/// Parses a resource file: every non-empty document, with `*List` kinds expanded.
pub fn resources_from_text(
    loader: &Loader,
    entry: &str,
    text: &str,
) -> Result<Vec<Resource>, Error> {
    let mut result = Vec::new();
    for document in loader.parse(entry, text)? {
        match document {
            Value::Null => {}
            Value::Object(map) => expand_list(Value::Object(map), &mut result),
            _ => {
                return Err(Error::Invalid {
                    path: loader.resolve(entry),
                    message: "a resource document must be a mapping".to_owned(),
                    chain: loader.chain.clone(),
                });
            }
        }
    }
    Ok(result)
}

fn expand_list(object: Value, result: &mut Vec<Resource>) {
    let is_list = object
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind.ends_with("List"))
        && object.get("items").is_some_and(Value::is_array);
    if !is_list {
        result.push(Resource::new(object));
        return;
    }
    if let Some(Value::Array(items)) = object.get("items") {
        for item in items {
            if item.is_object() {
                expand_list(item.clone(), result);
            }
        }
    }
}

fn check_unsupported(kustomization: &Kustomization) -> Result<(), Error> {
    if !kustomization.helm_charts.is_empty() || kustomization.helm_globals.is_some() {
        return Err(Error::Unsupported {
            field: "helmCharts".to_owned(),
        });
    }
    if !kustomization.helm_chart_inflation_generator.is_empty() {
        return Err(Error::Unsupported {
            field: "helmChartInflationGenerator".to_owned(),
        });
    }
    Ok(())
}

/// Makes `dir` absolute and clean so error messages and cycle checks are stable.
pub fn absolute(dir: &Path) -> PathBuf {
    if dir.is_absolute() {
        clean(dir)
    } else {
        let base = std::env::current_dir().unwrap_or_default();
        clean(&base.join(dir))
    }
}
