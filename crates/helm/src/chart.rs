//! The in-memory chart: metadata from Chart.yaml, templates, other files, default values,
//! the schema and loaded subcharts, as Helm's `chart.Chart`.

use serde_json::{Map, Value as Json};

use crate::error::Error;

/// One file of a chart, with its path relative to the chart root (`templates/x.yaml`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// Slash-separated path inside the chart.
    pub name: String,
    /// Contents.
    pub data: Vec<u8>,
}

/// A dependency declared in Chart.yaml (v2) or requirements.yaml (v1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dependency {
    /// Chart name.
    pub name: String,
    /// Version constraint.
    pub version: String,
    /// Repository URL.
    pub repository: String,
    /// Comma-separated value paths that enable or disable the dependency.
    pub condition: String,
    /// Tags that enable or disable it.
    pub tags: Vec<String>,
    /// Whether it ended up enabled.
    pub enabled: bool,
    /// `import-values` entries (strings or `{child, parent}` maps).
    pub import_values: Vec<Json>,
    /// Name the dependency is installed under.
    pub alias: String,
}

/// Chart.yaml, with Helm's field set (`chart.Metadata`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    /// `name`
    pub name: String,
    /// `home`
    pub home: String,
    /// `sources`
    pub sources: Vec<String>,
    /// `version`
    pub version: String,
    /// `description`
    pub description: String,
    /// `keywords`
    pub keywords: Vec<String>,
    /// `maintainers` (name, email, url maps)
    pub maintainers: Vec<Json>,
    /// `icon`
    pub icon: String,
    /// `apiVersion`
    pub api_version: String,
    /// `condition`
    pub condition: String,
    /// `tags`
    pub tags: String,
    /// `appVersion`
    pub app_version: String,
    /// `deprecated`
    pub deprecated: bool,
    /// `annotations`
    pub annotations: std::collections::BTreeMap<String, String>,
    /// `kubeVersion`
    pub kube_version: String,
    /// `dependencies`
    pub dependencies: Vec<Dependency>,
    /// `type` (`application` or `library`)
    pub chart_type: String,
}

/// A loaded chart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chart {
    /// Chart.yaml.
    pub metadata: Metadata,
    /// Files under `templates/`.
    pub templates: Vec<File>,
    /// Every other file (README, crds/, files read with `.Files`).
    pub files: Vec<File>,
    /// values.yaml.
    pub values: Map<String, Json>,
    /// values.schema.json, if any.
    pub schema: Option<Vec<u8>>,
    /// Subcharts from `charts/`.
    pub dependencies: Vec<Chart>,
    /// Raw Chart.yaml and values.yaml, kept for packaging.
    pub raw: Vec<File>,
}

fn text(map: &Map<String, Json>, key: &str) -> String {
    match map.get(key) {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn strings(map: &Map<String, Json>, key: &str) -> Vec<String> {
    match map.get(key) {
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

impl Dependency {
    /// Reads one entry of `dependencies:`.
    pub fn from_json(json: &Json) -> Dependency {
        let empty = Map::new();
        let map = json.as_object().unwrap_or(&empty);
        Dependency {
            name: text(map, "name"),
            version: text(map, "version"),
            repository: text(map, "repository"),
            condition: text(map, "condition"),
            tags: strings(map, "tags"),
            enabled: map.get("enabled").and_then(Json::as_bool).unwrap_or(false),
            import_values: map
                .get("import-values")
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default(),
            alias: text(map, "alias"),
        }
    }
}

impl Metadata {
    /// Reads Chart.yaml.
    pub fn from_yaml(data: &[u8]) -> Result<Metadata, Error> {
        let text_data = String::from_utf8_lossy(data);
        let json = crate::yaml::parse_document(&text_data).map_err(|e| {
            Error::Chart(format!(
                "cannot load Chart.yaml: error converting YAML to JSON: {e}"
            ))
        })?;
        let empty = Map::new();
        let map = json.as_object().unwrap_or(&empty);
        Ok(Metadata {
            name: text(map, "name"),
            home: text(map, "home"),
            sources: strings(map, "sources"),
            version: text(map, "version"),
            description: text(map, "description"),
            keywords: strings(map, "keywords"),
            maintainers: map
                .get("maintainers")
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default(),
            icon: text(map, "icon"),
            api_version: text(map, "apiVersion"),
            condition: text(map, "condition"),
            tags: text(map, "tags"),
            app_version: text(map, "appVersion"),
            deprecated: map
                .get("deprecated")
                .and_then(Json::as_bool)
                .unwrap_or(false),
            annotations: map
                .get("annotations")
                .and_then(Json::as_object)
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            kube_version: text(map, "kubeVersion"),
            dependencies: map
                .get("dependencies")
                .and_then(Json::as_array)
                .map(|d| d.iter().map(Dependency::from_json).collect())
                .unwrap_or_default(),
            chart_type: text(map, "type"),
        })
    }

    /// Helm's metadata validation (the subset `helm template` trips over).
    pub fn validate(&self) -> Result<(), Error> {
        if self.api_version.is_empty() {
            return Err(Error::Chart(
                "validation: chart.metadata.apiVersion is required".to_owned(),
            ));
        }
        if self.name.is_empty() {
            return Err(Error::Chart(
                "validation: chart.metadata.name is required".to_owned(),
            ));
        }
        if self.version.is_empty() {
            return Err(Error::Chart(
                "validation: chart.metadata.version is required".to_owned(),
            ));
        }
        if ferroflux_semver::Version::parse(&self.version).is_err() {
            return Err(Error::Chart(format!(
                "validation: chart.metadata.version {:?} is invalid",
                self.version
            )));
        }
        if !self.chart_type.is_empty()
            && self.chart_type != "application"
            && self.chart_type != "library"
        {
            return Err(Error::Chart(
                "validation: chart.metadata.type must be application or library".to_owned(),
            ));
        }
        Ok(())
    }
}

impl Chart {
    /// The chart's name.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Whether this is a library chart (renders only `_` partials).
    pub fn is_library(&self) -> bool {
        self.metadata.chart_type.eq_ignore_ascii_case("library")
    }
}
