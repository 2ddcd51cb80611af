//! Rendering a release: the native Helm engine, then Flux's post-renderers (common
//! metadata and the origin labels), into what Helm stores: the manifest and the hooks.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ferroflux_helm::kube::KubeVersion;
use ferroflux_helm::{Chart, TemplateOptions};
use serde_json::{Map, Value};

use crate::storage::release::{ChartMetadata, ChartRecord, FileRecord, HookRecord};

/// What rendering produced.
#[derive(Clone, Debug, Default)]
pub struct Rendered {
    /// The manifest as Helm stores it (`---\n# Source: path\n<doc>\n` per document).
    pub manifest: String,
    /// The hooks, in install order.
    pub hooks: Vec<HookRecord>,
    /// NOTES.txt.
    pub notes: String,
    /// CRDs from `crds/` directories, as objects.
    pub crds: Vec<Value>,
}

/// Flux's post-renderers: `spec.postRenderers[].kustomize` (patches and images, applied
/// in order to the non-hook manifests), then common metadata and the origin labels.
#[derive(Clone, Debug, Default)]
pub struct PostRender {
    /// `spec.postRenderers[].kustomize`, in order.
    pub kustomize: Vec<ferroflux_api::helm::v2::Kustomize>,
    /// `spec.commonMetadata.labels` then the origin labels (which win).
    pub labels: BTreeMap<String, String>,
    /// `spec.commonMetadata.annotations`.
    pub annotations: BTreeMap<String, String>,
}

/// Release and cluster settings of one rendering.
pub struct RenderOptions<'a> {
    /// Release name.
    pub release_name: &'a str,
    /// Release namespace.
    pub namespace: &'a str,
    /// Revision being rendered.
    pub revision: i64,
    /// An upgrade (else an install).
    pub is_upgrade: bool,
    /// User values.
    pub values: &'a Map<String, Value>,
    /// The cluster's version.
    pub kube_version: &'a KubeVersion,
    /// Skip `values.schema.json`.
    pub skip_schema_validation: bool,
    /// Post-render metadata.
    pub post_render: &'a PostRender,
}

/// Renders `chart`; the error is the engine's message.
pub fn render(chart: &Chart, options: &RenderOptions<'_>) -> Result<Rendered, String> {
    let template = TemplateOptions {
        release_name: options.release_name.to_owned(),
        namespace: options.namespace.to_owned(),
        revision: options.revision,
        is_upgrade: options.is_upgrade,
        values: options.values.clone(),
        kube_version: options.kube_version.clone(),
        api_versions: Vec::new(),
        skip_schema_validation: options.skip_schema_validation,
    };
    let rendered = ferroflux_helm::template(chart, &template).map_err(|e| e.to_string())?;
    let mut manifest = String::new();
    if options.post_render.kustomize.is_empty() {
        for m in &rendered.manifests {
            let document = post_render(&m.content, options.post_render)?;
            let _ = write!(manifest, "---\n# Source: {}\n{}\n", m.name, document);
        }
    } else {
        // kustomize drops the `# Source:` comments, as with Helm's post-renderers.
        let mut documents: Vec<String> = rendered
            .manifests
            .iter()
            .map(|m| m.content.clone())
            .collect();
        for kustomize in &options.post_render.kustomize {
            documents = kustomize_render(&documents, kustomize)?;
        }
        for document in documents {
            let _ = write!(
                manifest,
                "---\n{}\n",
                post_render(&document, options.post_render)?
            );
        }
    }
    let mut hooks = Vec::new();
    for hook in &rendered.hooks {
        hooks.push(HookRecord {
            name: hook.name.clone(),
            kind: hook.kind.clone(),
            path: hook.path.clone(),
            manifest: post_render(&hook.manifest, options.post_render)?,
            events: hook.events.clone(),
            weight: hook.weight,
            delete_policies: hook.delete_policies.clone(),
            ..HookRecord::default()
        });
    }
    let mut crds = Vec::new();
    for (name, text) in &rendered.crds {
        let documents = ferroflux_helm::yaml::parse_all_documents(text)
            .map_err(|e| format!("failed to read CRD {name}: {e}"))?;
        crds.extend(documents.into_iter().filter(Value::is_object));
    }
    Ok(Rendered {
        manifest,
        hooks,
        notes: rendered.notes,
        crds,
    })
}

/// One kustomize post-renderer: a synthetic kustomization of the documents with the
/// renderer's patches and images, built by the native kustomize engine.
fn kustomize_render(
    documents: &[String],
    kustomize: &ferroflux_api::helm::v2::Kustomize,
) -> Result<Vec<String>, String> {
    let dir = tempfile::tempdir()
        .map_err(|e| format!("error while running post render on files: {e}"))?;
    let mut all = String::new();
    for document in documents {
        let _ = write!(all, "---\n{document}\n");
    }
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text)
            .map_err(|e| format!("error while running post render on files: {e}"))
    };
    write("helm-output.yaml", &all)?;
    let mut kustomization = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["helm-output.yaml"],
    });
    if let Some(patches) = kustomize.patches.as_ref().filter(|p| !p.is_empty()) {
        kustomization["patches"] = serde_json::to_value(patches).unwrap_or_default();
    }
    if let Some(images) = kustomize.images.as_ref().filter(|i| !i.is_empty()) {
        kustomization["images"] = serde_json::to_value(images).unwrap_or_default();
    }
    write("kustomization.yaml", &kustomization.to_string())?;
    let resources =
        ferroflux_kustomize::build(dir.path(), &ferroflux_kustomize::BuildOptions::default())
            .map_err(|e| format!("error while running post render on files: {e}"))?;
    Ok(resources
        .into_iter()
        .map(|r| to_yaml(&r.into_value()))
        .collect())
}

/// Adds the post-render labels and annotations to one document.
fn post_render(document: &str, post: &PostRender) -> Result<String, String> {
    let mut object = ferroflux_helm::yaml::parse_document(document)
        .map_err(|e| format!("error while running post render on files: {e}"))?;
    if !object.is_object() {
        return Ok(document.to_owned());
    }
    let metadata = object
        .as_object_mut()
        .map(|o| {
            o.entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()))
        })
        .and_then(Value::as_object_mut);
    if let Some(metadata) = metadata {
        add(metadata, "labels", &post.labels);
        add(metadata, "annotations", &post.annotations);
    }
    Ok(to_yaml(&object))
}

fn add(metadata: &mut Map<String, Value>, key: &str, entries: &BTreeMap<String, String>) {
    if entries.is_empty() {
        return;
    }
    let target = metadata
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()));
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Some(map) = target.as_object_mut() {
        for (k, v) in entries {
            map.insert(k.clone(), Value::String(v.clone()));
        }
    }
}

/// YAML of a JSON value, as the engine's `toYaml`.
pub fn to_yaml(value: &Value) -> String {
    ferroflux_helm::yaml::to_yaml_string(&ferroflux_helm::yaml::Node::from_json(value))
        .trim_end()
        .to_owned()
}

/// The objects of a stored manifest (documents that are not objects are skipped).
pub fn objects_of(manifest: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for document in ferroflux_helm::manifests::split_manifests(manifest) {
        let object = ferroflux_helm::yaml::parse_document(&document)?;
        if object.get("kind").is_some() {
            out.push(object);
        }
    }
    Ok(out)
}

/// The chart as Helm stores it in a release (subcharts are not stored, as in Helm).
pub fn chart_record(chart: &Chart) -> ChartRecord {
    use base64::Engine as _;
    let encode = |data: &[u8]| base64::engine::general_purpose::STANDARD.encode(data);
    let file = |f: &ferroflux_helm::chart::File| FileRecord {
        name: f.name.clone(),
        data: encode(&f.data),
    };
    let m = &chart.metadata;
    ChartRecord {
        metadata: Some(ChartMetadata {
            name: m.name.clone(),
            home: m.home.clone(),
            sources: m.sources.clone(),
            version: m.version.clone(),
            description: m.description.clone(),
            keywords: m.keywords.clone(),
            maintainers: m.maintainers.clone(),
            icon: m.icon.clone(),
            api_version: m.api_version.clone(),
            condition: m.condition.clone(),
            tags: m.tags.clone(),
            app_version: m.app_version.clone(),
            deprecated: m.deprecated,
            annotations: m.annotations.clone(),
            kube_version: m.kube_version.clone(),
            dependencies: Vec::new(),
            chart_type: m.chart_type.clone(),
        }),
        lock: None,
        templates: Some(chart.templates.iter().map(file).collect()),
        values: Some(chart.values.clone()),
        schema: chart.schema.as_deref().map(encode),
        files: Some(chart.files.iter().map(file).collect()),
    }
}
