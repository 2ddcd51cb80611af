//! The built-in objects templates see: `.Chart` (chart.Metadata plus IsRoot),
//! `.Capabilities`, `.Files`, and the conversion of values into template values.

use std::collections::BTreeMap;
use std::sync::Arc;

use ferroflux_gotmpl::{Arity, ElemType, Function, Object, Value};
use serde_json::Value as Json;

use crate::chart::{File, Metadata};

/// Values to template values: `--set` integers stay int64, everything else is float64.
pub fn json_to_value(json: &Json) -> Value {
    match json {
        Json::Number(n) if n.is_i64() => Value::Int64(n.as_i64().unwrap_or(0)),
        Json::Number(n) if n.is_u64() => Value::Uint64(n.as_u64().unwrap_or(0)),
        Json::Array(items) => Value::list(items.iter().map(json_to_value).collect()),
        Json::Object(map) => Value::map(
            map.iter()
                .map(|(k, v)| (k.clone(), json_to_value(v)))
                .collect(),
        ),
        other => Value::from(other.clone()),
    }
}

fn strings(items: &[String]) -> Value {
    Value::typed_list(
        ElemType::String,
        items.iter().map(|s| Value::from(s.as_str())).collect(),
    )
}

/// `.Chart`: Helm's metadata struct embedded with `IsRoot`.
#[derive(Debug)]
pub struct ChartObject {
    /// The chart's metadata.
    pub metadata: Metadata,
    /// Whether this is the top-level chart.
    pub is_root: bool,
}

impl Object for ChartObject {
    fn type_name(&self) -> String {
        "struct { *chart.Metadata; IsRoot bool }".to_owned()
    }

    fn field(&self, name: &str) -> Option<Value> {
        let m = &self.metadata;
        let text = |s: &str| Some(Value::from(s));
        match name {
            "Name" => text(&m.name),
            "Version" => text(&m.version),
            "AppVersion" => text(&m.app_version),
            "APIVersion" => text(&m.api_version),
            "Type" => text(&m.chart_type),
            "IsRoot" => Some(Value::Bool(self.is_root)),
            _ => self
                .fields()
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v),
        }
    }

    fn fields(&self) -> Vec<(String, Value)> {
        let m = &self.metadata;
        let dependencies = m
            .dependencies
            .iter()
            .map(|d| {
                let mut entries = BTreeMap::new();
                entries.insert("Name".to_owned(), Value::from(d.name.as_str()));
                entries.insert("Version".to_owned(), Value::from(d.version.as_str()));
                entries.insert("Repository".to_owned(), Value::from(d.repository.as_str()));
                entries.insert("Condition".to_owned(), Value::from(d.condition.as_str()));
                entries.insert("Alias".to_owned(), Value::from(d.alias.as_str()));
                entries.insert("Enabled".to_owned(), Value::Bool(d.enabled));
                Value::map(entries)
            })
            .collect();
        let maintainers = m
            .maintainers
            .iter()
            .map(|j| {
                let get =
                    |k: &str| Value::from(j.get(k).and_then(Json::as_str).unwrap_or_default());
                let mut entries = BTreeMap::new();
                entries.insert("Name".to_owned(), get("name"));
                entries.insert("Email".to_owned(), get("email"));
                entries.insert("URL".to_owned(), get("url"));
                Value::map(entries)
            })
            .collect();
        let metadata = vec![
            ("Name", Value::from(m.name.as_str())),
            ("Home", Value::from(m.home.as_str())),
            ("Sources", strings(&m.sources)),
            ("Version", Value::from(m.version.as_str())),
            ("Description", Value::from(m.description.as_str())),
            ("Keywords", strings(&m.keywords)),
            ("Maintainers", Value::list(maintainers)),
            ("Icon", Value::from(m.icon.as_str())),
            ("APIVersion", Value::from(m.api_version.as_str())),
            ("Condition", Value::from(m.condition.as_str())),
            ("Tags", Value::from(m.tags.as_str())),
            ("AppVersion", Value::from(m.app_version.as_str())),
            ("Deprecated", Value::Bool(m.deprecated)),
            (
                "Annotations",
                Value::typed_map(
                    ElemType::String,
                    m.annotations
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                        .collect(),
                ),
            ),
            ("KubeVersion", Value::from(m.kube_version.as_str())),
            ("Dependencies", Value::list(dependencies)),
            ("Type", Value::from(m.chart_type.as_str())),
            ("IsRoot", Value::Bool(self.is_root)),
        ];
        metadata
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    }

    fn to_go_string(&self) -> Option<String> {
        let fields = self.fields();
        let (metadata, root) = fields.split_at(fields.len() - 1);
        let inner: Vec<String> = metadata
            .iter()
            .map(|(_, v)| ferroflux_gotmpl::format::sprint(std::slice::from_ref(v)))
            .collect();
        Some(format!(
            "{{{{{}}} {}}}",
            inner.join(" "),
            ferroflux_gotmpl::format::sprint(std::slice::from_ref(&root[0].1))
        ))
    }

    fn is_pointer(&self) -> bool {
        false
    }
}

/// `.Capabilities`.
#[derive(Debug)]
pub struct Capabilities {
    /// `v1.34.0`
    pub kube_version: String,
    /// `1`
    pub major: String,
    /// `20`
    pub minor: String,
    /// Known API versions.
    pub api_versions: Vec<String>,
    /// Helm's version string.
    pub helm_version: String,
}

#[derive(Debug)]
struct KubeVersion {
    version: String,
    major: String,
    minor: String,
}

impl Object for KubeVersion {
    fn type_name(&self) -> String {
        "chartutil.KubeVersion".to_owned()
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" => Some(Value::from(self.version.as_str())),
            "Major" => Some(Value::from(self.major.as_str())),
            "Minor" => Some(Value::from(self.minor.as_str())),
            _ => None,
        }
    }

    fn method(&self, name: &str) -> Option<Function> {
        let version = self.version.clone();
        matches!(name, "String" | "GitVersion")
            .then(|| Function::new(Arity::Exact(0), move |_| Ok(Value::from(version.as_str()))))
    }

    fn fields(&self) -> Vec<(String, Value)> {
        vec![
            ("Version".to_owned(), Value::from(self.version.as_str())),
            ("Major".to_owned(), Value::from(self.major.as_str())),
            ("Minor".to_owned(), Value::from(self.minor.as_str())),
        ]
    }

    fn to_go_string(&self) -> Option<String> {
        Some(self.version.clone())
    }

    fn is_pointer(&self) -> bool {
        false
    }
}

#[derive(Debug)]
struct VersionSet(Vec<String>);

impl Object for VersionSet {
    fn type_name(&self) -> String {
        "chartutil.VersionSet".to_owned()
    }

    fn field(&self, _name: &str) -> Option<Value> {
        None
    }

    fn method(&self, name: &str) -> Option<Function> {
        let versions = self.0.clone();
        (name == "Has").then(|| {
            Function::new(Arity::Exact(1), move |args| {
                let wanted = args[0].as_str().unwrap_or_default();
                Ok(Value::Bool(versions.iter().any(|v| v == wanted)))
            })
        })
    }

    fn fields(&self) -> Vec<(String, Value)> {
        Vec::new()
    }

    fn to_go_string(&self) -> Option<String> {
        Some(format!("[{}]", self.0.join(" ")))
    }

    fn is_pointer(&self) -> bool {
        false
    }
}

/// The commit of the helm v3.19.0 tag, which a release build links in.
const HELM_GIT_COMMIT: &str = "3d8990f0836691f0229297773f3524598f46bda6";

#[derive(Debug)]
struct HelmVersion(String);

impl Object for HelmVersion {
    fn type_name(&self) -> String {
        "version.BuildInfo".to_owned()
    }

    fn field(&self, name: &str) -> Option<Value> {
        self.fields()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn fields(&self) -> Vec<(String, Value)> {
        vec![
            ("Version".to_owned(), Value::from(self.0.as_str())),
            ("GitCommit".to_owned(), Value::from(HELM_GIT_COMMIT)),
            ("GitTreeState".to_owned(), Value::from("clean")),
            ("GoVersion".to_owned(), Value::from("go1.26.8")),
        ]
    }

    fn is_pointer(&self) -> bool {
        false
    }
}

impl Object for Capabilities {
    fn type_name(&self) -> String {
        "*chartutil.Capabilities".to_owned()
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(Value::Object(Arc::new(KubeVersion {
                version: self.kube_version.clone(),
                major: self.major.clone(),
                minor: self.minor.clone(),
            }))),
            "APIVersions" => Some(Value::Object(Arc::new(VersionSet(
                self.api_versions.clone(),
            )))),
            "HelmVersion" => Some(Value::Object(Arc::new(HelmVersion(
                self.helm_version.clone(),
            )))),
            _ => None,
        }
    }

    fn fields(&self) -> Vec<(String, Value)> {
        ["KubeVersion", "APIVersions", "HelmVersion"]
            .iter()
            .filter_map(|n| self.field(n).map(|v| ((*n).to_owned(), v)))
            .collect()
    }
}

/// `.Files`: the chart's non-template files, shared by every function bound to them.
#[derive(Debug, Clone, Default)]
pub struct Files(pub Arc<BTreeMap<String, Vec<u8>>>);

impl Files {
    /// From the chart's file list.
    pub fn new(files: &[File]) -> Files {
        Files(Arc::new(
            files
                .iter()
                .map(|f| (f.name.clone(), f.data.clone()))
                .collect(),
        ))
    }
}

impl Object for Files {
    fn type_name(&self) -> String {
        "engine.files".to_owned()
    }

    fn field(&self, _name: &str) -> Option<Value> {
        None
    }

    fn method(&self, name: &str) -> Option<Function> {
        let files = Arc::clone(&self.0);
        let text = move |name: &str| {
            files
                .get(name)
                .map(|d| String::from_utf8_lossy(d).into_owned())
                .unwrap_or_default()
        };
        let all = Arc::clone(&self.0);
        Some(match name {
            "Get" => Function::new(Arity::Exact(1), move |a| {
                Ok(Value::from(text(a[0].as_str().unwrap_or_default())))
            }),
            "GetBytes" => Function::new(Arity::Exact(1), move |a| {
                let data = all
                    .get(a[0].as_str().unwrap_or_default())
                    .cloned()
                    .unwrap_or_default();
                Ok(Value::typed_list(
                    ElemType::Uint8,
                    data.into_iter().map(Value::Uint8).collect(),
                ))
            }),
            "Lines" => Function::new(Arity::Exact(1), move |a| {
                let Some(data) = all.get(a[0].as_str().unwrap_or_default()) else {
                    return Ok(Value::typed_list(ElemType::String, Vec::new()));
                };
                let s = String::from_utf8_lossy(data);
                let s = s.strip_suffix('\n').unwrap_or(&s);
                Ok(Value::typed_list(
                    ElemType::String,
                    s.split('\n').map(Value::from).collect(),
                ))
            }),
            "Glob" => Function::new(Arity::Exact(1), move |a| {
                let pattern = a[0].as_str().unwrap_or_default();
                let matched = all
                    .iter()
                    .filter(|(n, _)| crate::glob::matches(pattern, n))
                    .map(|(n, d)| (n.clone(), d.clone()))
                    .collect();
                Ok(Value::Object(Arc::new(Files(Arc::new(matched)))))
            }),
            "AsConfig" => Function::new(Arity::Exact(0), move |_| {
                Ok(Value::from(as_config(&all, false)))
            }),
            "AsSecrets" => Function::new(Arity::Exact(0), move |_| {
                Ok(Value::from(as_config(&all, true)))
            }),
            _ => return None,
        })
    }

    fn to_go_string(&self) -> Option<String> {
        let entries: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}:{v:?}")).collect();
        Some(format!("map[{}]", entries.join(" ")))
    }

    fn is_pointer(&self) -> bool {
        false
    }
}

fn as_config(files: &BTreeMap<String, Vec<u8>>, base64: bool) -> String {
    use base64::Engine as _;
    if files.is_empty() {
        return "{}".to_owned();
    }
    let entries: Vec<(String, crate::yaml::Node)> = files
        .iter()
        .map(|(name, data)| {
            let base = name.rsplit('/').next().unwrap_or(name).to_owned();
            let text = if base64 {
                base64::engine::general_purpose::STANDARD.encode(data)
            } else {
                String::from_utf8_lossy(data).into_owned()
            };
            (base, crate::yaml::Node::Str(text))
        })
        .collect();
    let text = crate::yaml::to_yaml_string(&crate::yaml::Node::Map(entries));
    text.strip_suffix('\n').unwrap_or(&text).to_owned()
}
