//! `ferroflux build PATH`: renders a whole Flux repository offline, as the controllers
//! would apply it. PATH (a cluster directory such as `clusters/production`) is built like
//! the Kustomization that syncs it; every Flux Kustomization found in the output is built
//! in turn with kustomize-controller's own pipeline (Flux's generated kustomization, spec
//! overlays, postBuild substitution from the ConfigMaps and Secrets of the build); every
//! HelmRelease whose chart is at hand is rendered with helm-controller's renderer. Sources
//! come from the local repository, `--source` directories and ArtifactGenerator copy rules.

mod helm;
mod sources;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use ferroflux_api::kustomize::v1::Kustomization;
use ferroflux_runtime::lookup::{Lookup, ObjectSet};
use kube::ResourceExt;
use kustomize_controller::build::BuildSettings;
use serde_json::Value;

use self::sources::{Resolved, Sources};

/// What `ferroflux build` was asked.
pub struct BuildRequest {
    /// The directory to build (a cluster directory of the repository).
    pub path: PathBuf,
    /// The repository root (default: the nearest directory above PATH holding `.git`).
    pub repo_root: Option<PathBuf>,
    /// `Kind/namespace/name=DIR` source directories.
    pub sources: Vec<String>,
    /// A directory of charts (`<chart>/` or `<chart>-<version>.tgz`) for HelmReleases
    /// whose chart comes from a Helm or OCI repository.
    pub charts: Option<PathBuf>,
}

/// The rendered stream and the notes on what could not be rendered.
pub struct BuildOutput {
    /// Multi-document YAML, a `# Source:` comment before each Flux object's output.
    pub yaml: String,
    /// Warnings: objects skipped and why.
    pub notes: Vec<String>,
    /// Errors: objects whose build failed.
    pub errors: Vec<String>,
}

/// Renders the repository.
pub async fn run(request: &BuildRequest) -> anyhow::Result<BuildOutput> {
    let path = request
        .path
        .canonicalize()
        .with_context(|| format!("{}: no such directory", request.path.display()))?;
    if !path.is_dir() {
        bail!("{} is not a directory", request.path.display());
    }
    let root = match &request.repo_root {
        Some(root) => root
            .canonicalize()
            .with_context(|| format!("{}: no such directory", root.display()))?,
        None => repository_root(&path),
    };
    let relative = path
        .strip_prefix(&root)
        .map_err(|_| anyhow::anyhow!("{} is not inside {}", path.display(), root.display()))?
        .to_string_lossy()
        .into_owned();
    let mut overrides = BTreeMap::new();
    for text in &request.sources {
        let (key, dir) = sources::parse_override(text)?;
        overrides.insert(key, dir.canonicalize()?);
    }
    let work = tempfile::tempdir()?;
    let mut builder = Builder {
        sources: Sources::new(root, overrides, work.path().to_path_buf()),
        work: work.path().to_path_buf(),
        objects: ObjectSet::default(),
        queue: VecDeque::new(),
        seen: BTreeSet::new(),
        built: BTreeSet::new(),
        chart_names: BTreeMap::new(),
        releases: Vec::new(),
        out: BuildOutput {
            yaml: String::new(),
            notes: Vec::new(),
            errors: Vec::new(),
        },
        builds: 0,
    };
    builder.build_root(&relative).await?;
    builder.drain().await;
    let releases = std::mem::take(&mut builder.releases);
    for release in releases {
        helm::render(&mut builder, &release, request.charts.as_deref()).await;
    }
    Ok(builder.out)
}

/// The nearest directory at or above `path` holding `.git`, else `path`.
fn repository_root(path: &Path) -> PathBuf {
    path.ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(path)
        .to_path_buf()
}

/// The state of one offline build.
struct Builder {
    sources: Sources,
    work: PathBuf,
    /// ConfigMaps and Secrets rendered so far (substitutions and values read them).
    objects: ObjectSet,
    /// Flux Kustomizations still to build.
    queue: VecDeque<Kustomization>,
    /// `namespace/name` of the Flux Kustomizations queued or built.
    seen: BTreeSet<String>,
    /// `namespace/name` of the Flux Kustomizations built.
    built: BTreeSet<String>,
    /// HelmReleases rendered by the Kustomizations.
    releases: Vec<Value>,
    /// The chart each OCIRepository or HelmChart of the build names, by
    /// `Kind/namespace/name`: the last path segment of the OCI URL, or `spec.chart`.
    chart_names: BTreeMap<String, String>,
    out: BuildOutput,
    /// Builds made, for unique work directories.
    builds: usize,
}

impl Builder {
    /// Builds the cluster directory: as the Kustomization in its own output that syncs it
    /// from the local repository when there is one, else as a plain Flux build.
    async fn build_root(&mut self, relative: &str) -> anyhow::Result<()> {
        let plain = synthetic(relative);
        let first = self
            .build_one(&plain, &self.sources.root.clone())
            .await
            .with_context(|| format!("building {relative}"))?;
        let own = first.iter().filter_map(as_kustomization).find(|k| {
            same_path(k.spec.path.as_deref(), relative)
                && kind_name(&k.spec.source_ref.kind) == "GitRepository"
        });
        let (objects, title) = match own {
            Some(own) => {
                let reference = &own.spec.source_ref;
                self.sources.local = (
                    "GitRepository".to_owned(),
                    reference
                        .namespace
                        .clone()
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| own.namespace().unwrap_or_default()),
                    reference.name.clone(),
                );
                self.seen.insert(key(&own));
                let objects = self.build_one(&own, &self.sources.root.clone()).await?;
                (objects, format!("Kustomization/{}", key(&own)))
            }
            None => (first, format!("path {relative}")),
        };
        self.emit(&title, objects);
        Ok(())
    }

    /// Builds queued Kustomizations until none can make progress; those still waiting for
    /// an ArtifactGenerator or a ConfigMap are reported.
    async fn drain(&mut self) {
        let mut waiting: Vec<(Kustomization, String)> = Vec::new();
        loop {
            let mut progressed = false;
            while let Some(object) = self.next_queued() {
                match self.try_build(&object).await {
                    Ok(()) => {
                        self.built.insert(key(&object));
                        progressed = true;
                    }
                    Err(why) => waiting.push((object, why)),
                }
            }
            if !progressed || waiting.is_empty() {
                break;
            }
            self.queue
                .extend(waiting.drain(..).map(|(object, _)| object));
        }
        for (object, why) in waiting {
            self.out
                .errors
                .push(format!("Kustomization/{}: {why}", key(&object)));
        }
    }

    /// The next Kustomization to build: the first whose `dependsOn` are built (or not part
    /// of the build), so that the output follows the order the cluster applies it in.
    fn next_queued(&mut self) -> Option<Kustomization> {
        let ready = self.queue.iter().position(|object| {
            object.spec.depends_on.iter().flatten().all(|dependency| {
                let namespace = dependency
                    .namespace
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| object.namespace().unwrap_or_default());
                let name = format!("{namespace}/{}", dependency.name);
                self.built.contains(&name) || !self.seen.contains(&name)
            })
        });
        self.queue.remove(ready.unwrap_or(0))
    }

    /// Builds one Flux Kustomization; `Err` says why it cannot be built (yet).
    async fn try_build(&mut self, object: &Kustomization) -> Result<(), String> {
        let reference = &object.spec.source_ref;
        let namespace = reference
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| object.namespace().unwrap_or_default());
        let kind = kind_name(&reference.kind);
        let dir = match self.sources.resolve(&kind, &namespace, &reference.name) {
            Ok(Resolved::Dir(dir)) => dir,
            Ok(Resolved::Pending) => {
                return Err(format!(
                    "{kind}/{namespace}/{} is made by no ArtifactGenerator in the build",
                    reference.name
                ));
            }
            Ok(Resolved::Unavailable(why)) => {
                self.out
                    .notes
                    .push(format!("Kustomization/{} skipped: {why}", key(object)));
                return Ok(());
            }
            Err(e) => return Err(format!("{e:#}")),
        };
        let objects = self
            .build_one(object, &dir)
            .await
            .map_err(|e| format!("{e:#}"))?;
        self.emit(&format!("Kustomization/{}", key(object)), objects);
        Ok(())
    }

    /// Builds `object` from a copy of `dir` with kustomize-controller's pipeline.
    async fn build_one(
        &mut self,
        object: &Kustomization,
        dir: &Path,
    ) -> anyhow::Result<Vec<Value>> {
        self.builds += 1;
        let copy = self.work.join(format!("build-{}", self.builds));
        sources::copy_tree(dir, &copy)?;
        let mut object = object.clone();
        let mut keep_encrypted = false;
        if let Some(decryption) = &object.spec.decryption {
            let found = match &decryption.secret_ref {
                Some(reference) => Lookup::Objects(&self.objects)
                    .secret(&object.namespace().unwrap_or_default(), &reference.name)
                    .await?
                    .is_some(),
                None => false,
            };
            if !found {
                self.out.notes.push(format!(
                    "Kustomization/{}: decryption keys are not in the build; SOPS-encrypted objects are left encrypted",
                    key(&object)
                ));
                object.spec.decryption = None;
                keep_encrypted = true;
            }
        }
        let settings = BuildSettings {
            allow_remote: false,
            strict_substitution: false,
            keep_encrypted,
        };
        let objects = kustomize_controller::build::build(
            Lookup::Objects(&self.objects),
            &object,
            &copy,
            &settings,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let _ = std::fs::remove_dir_all(&copy);
        Ok(objects)
    }

    /// Prints `objects` under `title` and queues the Flux objects among them.
    fn emit(&mut self, title: &str, objects: Vec<Value>) {
        let _ = writeln!(self.out.yaml, "# Source: {title}");
        for object in objects {
            self.objects.insert(&object);
            let api_version = object
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let kind = object
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match (api_version.split('/').next().unwrap_or_default(), kind) {
                ("kustomize.toolkit.fluxcd.io", "Kustomization") => {
                    if let Some(k) = as_kustomization(&object)
                        && self.seen.insert(key(&k))
                    {
                        self.queue.push_back(k);
                    }
                }
                ("source.extensions.fluxcd.io", "ArtifactGenerator") => {
                    self.sources.generators.push(object.clone());
                }
                ("helm.toolkit.fluxcd.io", "HelmRelease") => self.releases.push(object.clone()),
                ("source.toolkit.fluxcd.io", "OCIRepository" | "HelmChart") => {
                    let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
                    let chart = if kind == "HelmChart" {
                        text("/spec/chart").map(str::to_owned)
                    } else {
                        text("/spec/url")
                            .and_then(|url| url.trim_end_matches('/').rsplit('/').next())
                            .map(str::to_owned)
                    };
                    if let (Some(chart), Some(name)) = (chart, text("/metadata/name")) {
                        let namespace = text("/metadata/namespace").unwrap_or("default");
                        self.chart_names
                            .insert(format!("{kind}/{namespace}/{name}"), chart);
                    }
                }
                _ => {}
            }
            let _ = write!(
                self.out.yaml,
                "---\n{}",
                ferroflux_kustomize::yaml::to_yaml(&object)
            );
        }
    }
}

/// The Flux Kustomization `object` is, when it parses as one.
fn as_kustomization(object: &Value) -> Option<Kustomization> {
    let mut object = object.clone();
    if object.pointer("/metadata/namespace").is_none() {
        object["metadata"]["namespace"] = Value::from("default");
    }
    serde_json::from_value(object).ok()
}

/// A Kustomization of `path` in the local repository, for a cluster directory no
/// Kustomization in the build points to.
fn synthetic(path: &str) -> Kustomization {
    let mut object = Kustomization::new(
        "flux-system",
        serde_json::from_value(serde_json::json!({
            "interval": "10m",
            "path": format!("./{path}"),
            "prune": true,
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
        }))
        .unwrap_or_default(),
    );
    object.metadata.namespace = Some("flux-system".to_owned());
    object
}

fn same_path(path: Option<&str>, relative: &str) -> bool {
    let clean = |p: &str| {
        p.trim_start_matches("./")
            .trim_start_matches('/')
            .trim_end_matches('/')
            .to_owned()
    };
    clean(path.unwrap_or_default()) == clean(relative)
}

fn key<K: ResourceExt>(object: &K) -> String {
    format!(
        "{}/{}",
        object.namespace().unwrap_or_default(),
        object.name_any()
    )
}

/// The serialized name of a kind enum (`GitRepository`, `OCIRepository`, ...).
fn kind_name<T: serde::Serialize>(kind: &T) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
