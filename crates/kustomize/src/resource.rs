//! One Kubernetes object plus the build-time bookkeeping kustomize keeps beside it.

use serde_json::{Map, Value};

use crate::resid::{Gvk, ResId};

/// How a generated resource combines with one of the same id from a base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behavior {
    #[default]
    Create,
    Merge,
    Replace,
}

/// Bookkeeping that kustomize stores in build annotations; we keep it out of the object.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tracking {
    /// Ids the resource had before renames (name/namespace/kind history).
    pub previous: Vec<ResId>,
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    /// Set for generated ConfigMaps/Secrets whose name still needs a content hash.
    pub needs_hash: bool,
    pub behavior: Option<Behavior>,
    /// The `config.kubernetes.io/origin` text, shown with `buildMetadata: [originAnnotations]`.
    pub origin: Option<String>,
    /// The transformers that ran over the resource, as the list items of the
    /// `alpha.config.kubernetes.io/transformations` annotation; recorded only with
    /// `buildMetadata: [transformerAnnotations]`.
    pub transformations: Vec<std::sync::Arc<str>>,
}

/// A resource of the build output: an order-preserving JSON object.
#[derive(Debug, Clone)]
pub struct Resource {
    pub(crate) object: Value,
    pub(crate) tracking: Tracking,
}

impl Resource {
    pub(crate) fn new(object: Value) -> Self {
        Self {
            object,
            tracking: Tracking::default(),
        }
    }

    /// The object as a JSON value.
    pub fn as_value(&self) -> &Value {
        &self.object
    }

    /// Consumes the resource, returning its object.
    pub fn into_value(self) -> Value {
        self.object
    }

    /// The YAML kustomize prints for this resource alone.
    pub fn to_yaml(&self) -> String {
        crate::yaml::to_yaml(&self.object)
    }

    fn text(&self, pointer: &str) -> String {
        self.str_at(pointer).to_owned()
    }

    fn str_at(&self, pointer: &str) -> &str {
        match crate::yaml::pointer(&self.object, pointer) {
            Some(Value::String(text)) => text,
            _ => "",
        }
    }

    /// The id as borrowed text, for duplicate checks without allocating: apiVersion, kind,
    /// name and the effective namespace (as [`ResId::effective_namespace`]).
    pub(crate) fn id_key(&self) -> (&str, &str, &str, &str) {
        let kind = self.str_at("/kind");
        let namespace = if crate::resid::is_cluster_scoped_kind(kind) {
            "_non_namespaceable_"
        } else {
            match self.str_at("/metadata/namespace") {
                "" => "default",
                namespace => namespace,
            }
        };
        (
            // `/v1` and `v1` name the same group and version.
            self.str_at("/apiVersion").trim_start_matches('/'),
            kind,
            self.str_at("/metadata/name"),
            namespace,
        )
    }

    pub fn api_version(&self) -> String {
        self.text("/apiVersion")
    }

    pub fn kind(&self) -> String {
        self.text("/kind")
    }

    pub fn name(&self) -> String {
        self.text("/metadata/name")
    }

    pub fn namespace(&self) -> String {
        self.text("/metadata/namespace")
    }

    pub fn gvk(&self) -> Gvk {
        Gvk::from_api_version(&self.api_version(), &self.kind())
    }

    /// The id under its current name and namespace.
    pub fn current_id(&self) -> ResId {
        ResId {
            gvk: self.gvk(),
            name: self.name(),
            namespace: self.namespace(),
        }
    }

    /// The id the resource had when first loaded.
    pub(crate) fn original_id(&self) -> ResId {
        self.tracking
            .previous
            .first()
            .cloned()
            .unwrap_or_else(|| self.current_id())
    }

    /// Remembers the current id before a transformer renames the resource.
    pub(crate) fn store_previous_id(&mut self) {
        let mut id = self.current_id();
        let effective = id.effective_namespace().to_owned();
        id.namespace = effective;
        self.tracking.previous.push(id);
    }

    pub(crate) fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        let object = ensure_object(&mut self.object);
        ensure_object(
            object
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new())),
        )
    }

    pub(crate) fn set_name(&mut self, name: &str) {
        self.metadata_mut()
            .insert("name".to_owned(), Value::String(name.to_owned()));
    }

    pub(crate) fn set_namespace(&mut self, namespace: &str) {
        self.metadata_mut()
            .insert("namespace".to_owned(), Value::String(namespace.to_owned()));
    }

    /// Labels or annotations as string pairs.
    pub(crate) fn string_map(&self, field: &str) -> Vec<(String, String)> {
        match self
            .object
            .get("metadata")
            .and_then(|metadata| metadata.get(field))
        {
            Some(Value::Object(map)) => map
                .iter()
                .map(|(key, value)| {
                    (
                        key.clone(),
                        value
                            .as_str()
                            .map_or_else(|| value.to_string(), str::to_owned),
                    )
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the resource has no content at all (a deleted-by-patch object).
    pub(crate) fn is_empty(&self) -> bool {
        match &self.object {
            Value::Object(map) => map.is_empty(),
            Value::Null => true,
            _ => false,
        }
    }
}

/// Turns a value into an object in place (replacing scalars) and returns the map.
pub(crate) fn ensure_object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    match value {
        Value::Object(map) => map,
        _ => unreachable!("value was just made an object"),
    }
}
