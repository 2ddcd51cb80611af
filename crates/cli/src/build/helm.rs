//! HelmReleases of an offline build: the chart from the local repository (GitRepository
//! and Bucket sources) or from `--charts` (Helm and OCI repositories), values composed as
//! helm-controller composes them, rendered with its renderer and post-renderers.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ferroflux_api::helm::v2::HelmRelease;
use ferroflux_helm::Chart;
use ferroflux_helm::kube::KubeVersion;
use ferroflux_runtime::lookup::Lookup;
use helm_controller::reconciler::{post_render, release_name, target_namespace};
use helm_controller::render::{RenderOptions, render as render_chart};
use kube::ResourceExt;
use serde_json::Value;

use super::sources::Resolved;
use super::{Builder, kind_name};

/// Renders `release` into the builder's output, or notes why it cannot be rendered.
pub async fn render(builder: &mut Builder, release: &Value, charts: Option<&Path>) {
    let mut value = release.clone();
    if value.pointer("/metadata/namespace").is_none() {
        value["metadata"]["namespace"] = Value::from("default");
    }
    let title = format!(
        "HelmRelease/{}/{}",
        value
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    );
    let object: HelmRelease = match serde_json::from_value(value) {
        Ok(object) => object,
        Err(e) => {
            builder.out.errors.push(format!("{title}: invalid: {e}"));
            return;
        }
    };
    let chart = match chart_of(builder, &object, charts) {
        Ok(Ok(chart)) => chart,
        Ok(Err(why)) => {
            builder.out.notes.push(format!("{title} skipped: {why}"));
            return;
        }
        Err(e) => {
            builder.out.errors.push(format!("{title}: {e}"));
            return;
        }
    };
    match rendered(builder, &object, &chart).await {
        Ok(yaml) => {
            let _ = write!(
                builder.out.yaml,
                "# Source: {title} (chart {} {})\n{yaml}",
                chart.metadata.name, chart.metadata.version
            );
        }
        Err(e) => builder.out.errors.push(format!("{title}: {e}")),
    }
}

/// The release's manifest: CRDs (unless `install.crds: Skip`), hooks and objects.
async fn rendered(
    builder: &Builder,
    object: &HelmRelease,
    chart: &Chart,
) -> Result<String, String> {
    let values = helm_controller::values::compose(Lookup::Objects(&builder.objects), object)
        .await
        .map_err(|e| e.to_string())?;
    let install = object.spec.install.as_ref();
    let skip_crds = install
        .and_then(|i| i.crds)
        .is_some_and(|policy| kind_name(&policy) == "Skip");
    let post = post_render(object);
    let rendered = render_chart(
        chart,
        &RenderOptions {
            release_name: &release_name(object),
            namespace: &target_namespace(object),
            revision: 1,
            is_upgrade: false,
            values: &values,
            kube_version: &KubeVersion::default(),
            skip_schema_validation: install
                .and_then(|i| i.disable_schema_validation)
                .unwrap_or(false),
            post_render: &post,
        },
    )?;
    let mut out = String::new();
    if !skip_crds {
        for crd in &rendered.crds {
            let _ = write!(out, "---\n{}", ferroflux_kustomize::yaml::to_yaml(crd));
        }
    }
    out.push_str(&rendered.manifest);
    for hook in &rendered.hooks {
        let _ = write!(out, "---\n# Source: {}\n{}\n", hook.path, hook.manifest);
    }
    Ok(out)
}

/// The chart of `object`; `Ok(Err(why))` when it is not available offline.
fn chart_of(
    builder: &mut Builder,
    object: &HelmRelease,
    charts: Option<&Path>,
) -> anyhow::Result<Result<Chart, String>> {
    let own_namespace = object.namespace().unwrap_or_default();
    if let Some(template) = &object.spec.chart {
        let spec = &template.spec;
        let kind = kind_name(&spec.source_ref.kind);
        let namespace = spec
            .source_ref
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or(own_namespace);
        if kind == "HelmRepository" {
            return Ok(from_chart_dir(
                charts,
                &spec.chart,
                &kind,
                &spec.source_ref.name,
            ));
        }
        let root = match builder
            .sources
            .resolve(&kind, &namespace, &spec.source_ref.name)?
        {
            Resolved::Dir(root) => root,
            Resolved::Pending => {
                return Ok(Err(format!(
                    "{kind}/{namespace}/{} is made by no ArtifactGenerator in the build",
                    spec.source_ref.name
                )));
            }
            Resolved::Unavailable(why) => return Ok(Err(why)),
        };
        let dir = root.join(spec.chart.trim_start_matches("./"));
        let mut chart = ferroflux_helm::loader::load(&dir)
            .map_err(|e| anyhow::anyhow!("loading chart {}: {e}", spec.chart))?;
        for file in spec.values_files.iter().flatten() {
            let path = root.join(file.trim_start_matches("./"));
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(_) if spec.ignore_missing_values_files.unwrap_or(false) => continue,
                Err(e) => anyhow::bail!("values file {file}: {e}"),
            };
            if let Value::Object(map) = ferroflux_helm::yaml::parse_document(&text)
                .map_err(|e| anyhow::anyhow!("values file {file}: {e}"))?
            {
                helm_controller::values::merge(&mut chart.values, map);
            }
        }
        return Ok(Ok(chart));
    }
    if let Some(reference) = &object.spec.chart_ref {
        let kind = kind_name(&reference.kind);
        let namespace = reference
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or(own_namespace);
        let chart = builder
            .chart_names
            .get(&format!("{kind}/{namespace}/{}", reference.name))
            .cloned()
            .unwrap_or_else(|| reference.name.clone());
        return Ok(from_chart_dir(charts, &chart, &kind, &reference.name));
    }
    Ok(Err("neither chart nor chartRef is set".to_owned()))
}

/// `<charts>/<name>/` or the highest `<charts>/<name>-<version>.tgz`.
fn from_chart_dir(
    charts: Option<&Path>,
    name: &str,
    kind: &str,
    source: &str,
) -> Result<Chart, String> {
    let Some(charts) = charts else {
        return Err(format!(
            "chart '{name}' comes from {kind} '{source}'; pass --charts DIR holding {name}/ or {name}-<version>.tgz"
        ));
    };
    let dir = charts.join(name);
    let path: Option<PathBuf> = if dir.join("Chart.yaml").is_file() {
        Some(dir)
    } else {
        let prefix = format!("{name}-");
        let mut archives: Vec<PathBuf> = std::fs::read_dir(charts)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e.eq_ignore_ascii_case("tgz"))
                    && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        n.starts_with(&prefix)
                            && n[prefix.len()..].starts_with(|c: char| c.is_ascii_digit())
                    })
            })
            .collect();
        archives.sort_by_key(|p| version_of(p, &prefix));
        archives.pop()
    };
    let Some(path) = path else {
        return Err(format!(
            "chart '{name}' ({kind} '{source}') is not in {}",
            charts.display()
        ));
    };
    ferroflux_helm::loader::load(&path).map_err(|e| format!("loading {}: {e}", path.display()))
}

/// The version in `<name>-<version>.tgz`, for ordering.
fn version_of(path: &Path, prefix: &str) -> Option<ferroflux_semver::Version> {
    let file = path.file_name()?.to_str()?;
    let version = file.strip_prefix(prefix)?.strip_suffix(".tgz")?;
    ferroflux_semver::Version::parse(version).ok()
}
