//! Transformer configuration: the field specs each built-in transformer uses, starting
//! from kustomize's defaults and extended by `configurations:` files.

use serde_json::Value;

use crate::defaults;
use crate::fieldspec::{FieldSpec, merge_specs};
use crate::namerefs::NAME_REFERENCES;
use crate::resid::Gvk;

/// For one renamable kind, the fields that refer to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameBackReference {
    pub target: Gvk,
    pub referrers: Vec<FieldSpec>,
}

#[derive(Debug, Clone)]
pub struct TransformerConfig {
    pub name_prefix: Vec<FieldSpec>,
    pub name_suffix: Vec<FieldSpec>,
    pub namespace: Vec<FieldSpec>,
    pub common_labels: Vec<FieldSpec>,
    pub template_labels: Vec<FieldSpec>,
    pub labels: Vec<FieldSpec>,
    pub common_annotations: Vec<FieldSpec>,
    pub images: Vec<FieldSpec>,
    pub replicas: Vec<FieldSpec>,
    pub var_reference: Vec<FieldSpec>,
    pub name_reference: Vec<NameBackReference>,
    /// Whether `configurations:` changed anything: an unchanged (default) configuration
    /// adds nothing when merged into another one, which always holds the defaults.
    pub customized: bool,
}

static DEFAULT: std::sync::OnceLock<std::sync::Arc<TransformerConfig>> = std::sync::OnceLock::new();

impl Default for TransformerConfig {
    /// kustomize's built-in configuration.
    fn default() -> Self {
        Self::builtin()
    }
}

impl TransformerConfig {
    /// The built-in configuration, built once and shared.
    pub fn shared_default() -> std::sync::Arc<Self> {
        std::sync::Arc::clone(DEFAULT.get_or_init(|| std::sync::Arc::new(Self::builtin())))
    }

    fn builtin() -> Self {
        let name_reference = NAME_REFERENCES
            .iter()
            .map(|reference| {
                let target = FieldSpec::parse_compact(reference.target, "", false).gvk();
                let referrers = reference
                    .referrers
                    .iter()
                    .map(|(selector, path)| FieldSpec::parse_compact(selector, path, false))
                    .collect();
                NameBackReference { target, referrers }
            })
            .collect();
        Self {
            name_prefix: defaults::name_prefix(),
            name_suffix: defaults::name_prefix(),
            namespace: defaults::namespace(),
            common_labels: defaults::common_labels(),
            template_labels: defaults::metadata_labels(),
            labels: Vec::new(),
            common_annotations: defaults::common_annotations(),
            images: defaults::images(),
            replicas: defaults::replicas(),
            var_reference: crate::vars::default_var_references(),
            name_reference,
            customized: false,
        }
    }
}

fn parse_specs(value: &Value) -> Result<Vec<FieldSpec>, String> {
    serde_json::from_value(value.clone()).map_err(|error| error.to_string())
}

impl TransformerConfig {
    /// Merges another config (from a sub-kustomization) into this one.
    pub fn merge(&mut self, other: &TransformerConfig) {
        if !other.customized {
            return;
        }
        self.customized = true;
        merge_specs(&mut self.name_prefix, &other.name_prefix);
        merge_specs(&mut self.name_suffix, &other.name_suffix);
        merge_specs(&mut self.namespace, &other.namespace);
        merge_specs(&mut self.common_labels, &other.common_labels);
        merge_specs(&mut self.template_labels, &other.template_labels);
        merge_specs(&mut self.labels, &other.labels);
        merge_specs(&mut self.common_annotations, &other.common_annotations);
        merge_specs(&mut self.images, &other.images);
        merge_specs(&mut self.replicas, &other.replicas);
        merge_specs(&mut self.var_reference, &other.var_reference);
        for reference in &other.name_reference {
            self.add_name_reference(reference.clone());
        }
    }

    fn add_name_reference(&mut self, reference: NameBackReference) {
        if let Some(existing) = self
            .name_reference
            .iter_mut()
            .find(|existing| existing.target == reference.target)
        {
            merge_specs(&mut existing.referrers, &reference.referrers);
        } else {
            self.name_reference.push(reference);
        }
    }

    /// Merges one `configurations:` document.
    pub fn merge_document(&mut self, document: &Value) -> Result<(), String> {
        let Value::Object(map) = document else {
            return Ok(());
        };
        self.customized = true;
        for (key, value) in map {
            let target = match key.as_str() {
                "namePrefix" => &mut self.name_prefix,
                "nameSuffix" => &mut self.name_suffix,
                "namespace" => &mut self.namespace,
                "commonLabels" => &mut self.common_labels,
                "templateLabels" => &mut self.template_labels,
                "labels" => &mut self.labels,
                "commonAnnotations" => &mut self.common_annotations,
                "images" => &mut self.images,
                "replicas" => &mut self.replicas,
                "varReference" => &mut self.var_reference,
                "nameReference" => {
                    self.merge_name_references(value)?;
                    continue;
                }
                other => return Err(format!("unknown transformer configuration field '{other}'")),
            };
            let specs = parse_specs(value)?;
            merge_specs(target, &specs);
        }
        Ok(())
    }

    fn merge_name_references(&mut self, value: &Value) -> Result<(), String> {
        let Value::Array(entries) = value else {
            return Ok(());
        };
        for entry in entries {
            let text = |field: &str| {
                entry
                    .get(field)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let target = Gvk {
                group: text("group"),
                version: text("version"),
                kind: text("kind"),
            };
            let referrers = match entry.get("fieldSpecs") {
                Some(specs) if !specs.is_null() => parse_specs(specs)?,
                _ => Vec::new(),
            };
            self.add_name_reference(NameBackReference { target, referrers });
        }
        Ok(())
    }

    /// `crds:` files may annotate fields as object references; not yet interpreted.
    #[expect(
        clippy::unused_self,
        reason = "will read x-kubernetes reference annotations into self"
    )]
    pub fn merge_crd(&mut self, _document: &Value) {}
}
