//! The kustomization file schema (kustomize.config.k8s.io/v1beta1 and v1alpha1 Component).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::fieldspec::FieldSpec;

/// Ordered string pairs: labels and annotations keep the order the user wrote.
pub type Pairs = Vec<(String, String)>;

fn pairs<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Pairs, D::Error> {
    let map: Option<serde_json::Map<String, Value>> = Option::deserialize(deserializer)?;
    map.unwrap_or_default()
        .into_iter()
        .map(|(key, value)| match value {
            Value::String(text) => Ok((key, text)),
            Value::Null => Ok((key, String::new())),
            // kustomize decodes these maps as map[string]string and rejects other types.
            other => Err(serde::de::Error::custom(format!(
                "cannot unmarshal {other} into a string value for key '{key}'"
            ))),
        })
        .collect()
}

fn list_or_null<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Kustomization {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    #[serde(rename = "metadata")]
    pub _metadata: Option<Value>,
    #[serde(default)]
    #[serde(rename = "openapi")]
    pub _openapi: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub name_prefix: String,
    #[serde(default)]
    pub name_suffix: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default, deserialize_with = "pairs")]
    pub common_labels: Pairs,
    #[serde(default, deserialize_with = "list_or_null")]
    pub labels: Vec<Label>,
    #[serde(default, deserialize_with = "pairs")]
    pub common_annotations: Pairs,
    #[serde(default, deserialize_with = "list_or_null")]
    pub patches_strategic_merge: Vec<Value>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub patches_json6902: Vec<Patch>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub patches: Vec<Patch>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub images: Vec<Image>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub image_tags: Vec<Image>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub replacements: Vec<Value>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub replicas: Vec<Replica>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub vars: Vec<Value>,
    #[serde(default)]
    pub sort_options: Option<SortOptions>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub resources: Vec<String>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub components: Vec<String>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub crds: Vec<String>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub bases: Vec<String>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub config_map_generator: Vec<GeneratorArgs>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub secret_generator: Vec<GeneratorArgs>,
    #[serde(default)]
    pub helm_globals: Option<Value>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub helm_charts: Vec<Value>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub helm_chart_inflation_generator: Vec<Value>,
    #[serde(default)]
    pub generator_options: Option<GeneratorOptions>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub configurations: Vec<String>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub generators: Vec<String>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub transformers: Vec<String>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub validators: Vec<String>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub build_metadata: Vec<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Label {
    #[serde(default, deserialize_with = "pairs")]
    pub pairs: Pairs,
    #[serde(default)]
    pub include_selectors: bool,
    #[serde(default)]
    pub include_templates: bool,
    #[serde(default, deserialize_with = "list_or_null")]
    pub fields: Vec<FieldSpec>,
}

/// A patch entry of `patches` or `patchesJson6902`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[expect(clippy::struct_field_names, reason = "kustomize's field names")]
pub struct Patch {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub patch: String,
    #[serde(default)]
    pub target: Option<Selector>,
    #[serde(default)]
    pub options: BTreeMap<String, bool>,
}

/// A resource selector with regex-capable name and namespace.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[expect(clippy::struct_field_names, reason = "kustomize's field names")]
pub struct Selector {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub label_selector: String,
    #[serde(default)]
    pub annotation_selector: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Image {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub new_name: String,
    #[serde(default)]
    pub new_tag: String,
    #[serde(default)]
    pub digest: String,
    #[serde(default)]
    pub tag_suffix: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Replica {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub count: i64,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SortOptions {
    #[serde(default)]
    pub order: String,
    #[serde(default)]
    pub legacy_sort_options: Option<LegacySortOptions>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegacySortOptions {
    #[serde(default, deserialize_with = "list_or_null")]
    pub order_first: Vec<String>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub order_last: Vec<String>,
}

/// Arguments of one configMapGenerator or secretGenerator entry.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorArgs {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub behavior: String,
    #[serde(default, deserialize_with = "list_or_null")]
    pub literals: Vec<String>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub files: Vec<String>,
    #[serde(default, deserialize_with = "list_or_null")]
    pub envs: Vec<String>,
    #[serde(default)]
    pub env: String,
    #[serde(default, rename = "type")]
    pub secret_type: String,
    #[serde(default)]
    pub options: Option<GeneratorOptions>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorOptions {
    #[serde(default, deserialize_with = "pairs")]
    pub labels: Pairs,
    #[serde(default, deserialize_with = "pairs")]
    pub annotations: Pairs,
    #[serde(default)]
    pub disable_name_suffix_hash: Option<bool>,
    #[serde(default)]
    pub immutable: Option<bool>,
}

impl Kustomization {
    /// kustomize's `FixKustomization`: legacy fields folded into their replacements.
    pub fn normalize(&mut self) {
        if self.kind.is_empty() {
            "Kustomization".clone_into(&mut self.kind);
        }
        if self.api_version.is_empty() {
            let version = if self.kind == "Component" {
                "v1alpha1"
            } else {
                "v1beta1"
            };
            self.api_version = format!("kustomize.config.k8s.io/{version}");
        }
        for generator in self
            .config_map_generator
            .iter_mut()
            .chain(self.secret_generator.iter_mut())
        {
            if !generator.env.is_empty() {
                let env = std::mem::take(&mut generator.env);
                generator.envs.push(env);
            }
        }
        let bases = std::mem::take(&mut self.bases);
        self.resources.extend(bases);
        let tags = std::mem::take(&mut self.image_tags);
        self.images.extend(tags);
    }
}
