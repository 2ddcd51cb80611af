//! `template()`: values, dependencies, capabilities, rendering and sorting, producing
//! what `helm template` prints.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use ferroflux_gotmpl::Value;
use serde_json::{Map, Value as Json};

use crate::chart::Chart;
use crate::error::Error;
use crate::kube::{DEFAULT_API_VERSIONS, KubeVersion, is_compatible_range};
use crate::manifests::{Hook, Manifest, sort_manifests, split_manifests};
use crate::objects::Capabilities;

/// Release and cluster settings for one rendering.
#[derive(Clone, Debug)]
pub struct TemplateOptions {
    /// `.Release.Name` (`release-name` when `helm template` gets no name).
    pub release_name: String,
    /// `.Release.Namespace`.
    pub namespace: String,
    /// `.Release.Revision`.
    pub revision: i64,
    /// `.Release.IsUpgrade` (and not `IsInstall`).
    pub is_upgrade: bool,
    /// User-supplied values (`-f` files and `--set`s already merged).
    pub values: Map<String, Json>,
    /// `.Capabilities.KubeVersion`.
    pub kube_version: KubeVersion,
    /// Extra `.Capabilities.APIVersions`.
    pub api_versions: Vec<String>,
    /// Skip `values.schema.json` validation.
    pub skip_schema_validation: bool,
}

impl Default for TemplateOptions {
    fn default() -> Self {
        TemplateOptions {
            release_name: "release-name".to_owned(),
            namespace: "default".to_owned(),
            revision: 1,
            is_upgrade: false,
            values: Map::new(),
            kube_version: KubeVersion::default(),
            api_versions: Vec::new(),
            skip_schema_validation: false,
        }
    }
}

/// The result of rendering a chart.
#[derive(Clone, Debug, Default)]
pub struct Rendered {
    /// Non-hook documents in install order.
    pub manifests: Vec<Manifest>,
    /// Hook documents in install order.
    pub hooks: Vec<Hook>,
    /// CRD files from `crds/` directories: (`chart/crds/file`, contents).
    pub crds: Vec<(String, String)>,
    /// The top-level chart's NOTES.txt, rendered.
    pub notes: String,
    /// Every rendered file by path (partials and NOTES excluded).
    pub files: BTreeMap<String, String>,
}

/// Renders `chart` as `helm template` would.
pub fn template(chart: &Chart, options: &TemplateOptions) -> Result<Rendered, Error> {
    let mut chart = chart.clone();
    if !chart.metadata.kube_version.is_empty()
        && !is_compatible_range(&chart.metadata.kube_version, &options.kube_version.version)
    {
        return Err(Error::Chart(format!(
            "chart requires kubeVersion: {} which is incompatible with Kubernetes {}",
            chart.metadata.kube_version, options.kube_version.version
        )));
    }
    crate::values::process_dependencies(&mut chart, &options.values);
    let values = crate::values::coalesce_values(&chart, &options.values, false);
    if !options.skip_schema_validation {
        crate::schema::validate_chart(&chart, &values)?;
    }
    let top = top_level(&chart, options, &values);
    let mut files = crate::engine::render(&chart, &top)?;
    let notes_key = format!("{}/templates/NOTES.txt", chart.name());
    let notes = files.get(&notes_key).cloned().unwrap_or_default();
    files.retain(|name, _| !name.ends_with("NOTES.txt"));
    let (hooks, manifests) = sort_manifests(&files)?;
    let mut crds = Vec::new();
    collect_crds(&chart, chart.name(), &mut crds);
    Ok(Rendered {
        manifests,
        hooks,
        crds,
        notes,
        files,
    })
}

fn top_level(
    chart: &Chart,
    options: &TemplateOptions,
    values: &Map<String, Json>,
) -> BTreeMap<String, Value> {
    let mut release = BTreeMap::new();
    release.insert(
        "Name".to_owned(),
        Value::from(options.release_name.as_str()),
    );
    release.insert(
        "Namespace".to_owned(),
        Value::from(options.namespace.as_str()),
    );
    release.insert("Revision".to_owned(), Value::Int(options.revision));
    release.insert("IsUpgrade".to_owned(), Value::Bool(options.is_upgrade));
    release.insert("IsInstall".to_owned(), Value::Bool(!options.is_upgrade));
    release.insert("Service".to_owned(), Value::from("Helm"));
    let mut api_versions: Vec<String> = DEFAULT_API_VERSIONS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    api_versions.extend(options.api_versions.iter().cloned());
    let capabilities = Capabilities {
        kube_version: options.kube_version.version.clone(),
        major: options.kube_version.major.clone(),
        minor: options.kube_version.minor.clone(),
        api_versions,
        helm_version: "v3.19.0".to_owned(),
    };
    let mut top = BTreeMap::new();
    top.insert("Release".to_owned(), Value::map(release));
    top.insert(
        "Capabilities".to_owned(),
        Value::Object(Arc::new(capabilities)),
    );
    top.insert("Values".to_owned(), crate::engine::values_object(values));
    let _ = chart;
    top
}

fn collect_crds(chart: &Chart, full_path: &str, out: &mut Vec<(String, String)>) {
    for file in &chart.files {
        let is_manifest = [".yaml", ".yml", ".json"]
            .iter()
            .any(|e| file.name.ends_with(e));
        if file.name.starts_with("crds/") && is_manifest {
            out.push((
                format!("{full_path}/{}", file.name),
                String::from_utf8_lossy(&file.data).into_owned(),
            ));
        }
    }
    for sub in &chart.dependencies {
        collect_crds(sub, &format!("{full_path}/charts/{}", sub.name()), out);
    }
}

impl Rendered {
    /// What `helm template` prints: CRDs first (with `include_crds`), manifests, hooks;
    /// `show_only` keeps the documents of matching template paths.
    pub fn to_helm_template_output(&self, show_only: &[String], include_crds: bool) -> String {
        self.try_output(show_only, include_crds)
            .unwrap_or_else(|e| e.to_string())
    }

    /// Like [`Rendered::to_helm_template_output`], failing when a `show_only` path matches
    /// nothing (`could not find template X in chart`).
    pub fn try_output(&self, show_only: &[String], include_crds: bool) -> Result<String, Error> {
        let mut manifest = String::new();
        if include_crds {
            for (name, data) in &self.crds {
                let _ = write!(manifest, "---\n# Source: {name}\n{data}\n");
            }
        }
        for m in &self.manifests {
            let _ = write!(manifest, "---\n# Source: {}\n{}\n", m.name, m.content);
        }
        let mut out = format!("{}\n", manifest.trim());
        for hook in &self.hooks {
            let _ = write!(out, "---\n# Source: {}\n{}\n", hook.path, hook.manifest);
        }
        if show_only.is_empty() {
            return Ok(out);
        }
        let documents = split_manifests(&out);
        let mut selected = String::new();
        for pattern in show_only {
            let mut missing = true;
            for document in &documents {
                let Some(path) = source_path(document) else {
                    continue;
                };
                if crate::ignore::go_match(pattern, &path) {
                    let _ = write!(selected, "---\n{document}\n");
                    missing = false;
                }
            }
            if missing {
                return Err(Error::Usage(format!(
                    "could not find template {pattern} in chart"
                )));
            }
        }
        Ok(selected)
    }
}

/// The path after `# Source: chart/` in a document.
fn source_path(document: &str) -> Option<String> {
    let at = document.find("# Source: ")?;
    let rest = &document[at + "# Source: ".len()..];
    let line = rest.lines().next()?;
    let (chart, path) = line.split_once('/')?;
    (!chart.is_empty() && !path.is_empty()).then(|| path.to_owned())
}
