//! Where a controller reads the ConfigMaps and Secrets an object names (postBuild
//! substitutions, values, decryption keys): the cluster, or, for an offline build
//! (`ferroflux build`), the objects a repository renders to.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};
use serde_json::Value;

/// ConfigMaps and Secrets at hand, by kind, namespace and name; a later insert of the same
/// object wins.
#[derive(Clone, Debug, Default)]
pub struct ObjectSet {
    objects: BTreeMap<(String, String, String), Value>,
}

impl ObjectSet {
    /// Keeps `object` when it is a core/v1 ConfigMap or Secret with a name.
    pub fn insert(&mut self, object: &Value) {
        let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
        let (Some("v1"), Some(kind @ ("ConfigMap" | "Secret")), Some(name)) =
            (text("/apiVersion"), text("/kind"), text("/metadata/name"))
        else {
            return;
        };
        let namespace = text("/metadata/namespace").unwrap_or("default");
        self.objects.insert(
            (kind.to_owned(), namespace.to_owned(), name.to_owned()),
            object.clone(),
        );
    }

    fn get<T: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<T> {
        let object = self
            .objects
            .get(&(kind.to_owned(), namespace.to_owned(), name.to_owned()))?;
        let mut object = object.clone();
        if kind == "Secret" {
            string_data_into_data(&mut object);
        }
        serde_json::from_value(object).ok()
    }
}

/// A Secret's `stringData` as the API server stores it: merged into `data` (base64).
fn string_data_into_data(secret: &mut Value) {
    use base64::Engine as _;
    let Some(string_data) = secret.as_object_mut().and_then(|s| s.remove("stringData")) else {
        return;
    };
    let Value::Object(string_data) = string_data else {
        return;
    };
    if !secret.get("data").is_some_and(Value::is_object) {
        secret["data"] = Value::Object(serde_json::Map::new());
    }
    for (key, value) in string_data {
        if let Some(text) = value.as_str() {
            secret["data"][key] =
                Value::String(base64::engine::general_purpose::STANDARD.encode(text));
        }
    }
}

/// The source of named ConfigMaps and Secrets.
#[derive(Clone, Copy)]
pub enum Lookup<'a> {
    /// Read from the API server.
    Cluster(&'a Client),
    /// Read from objects at hand.
    Objects(&'a ObjectSet),
}

impl Lookup<'_> {
    /// The ConfigMap `namespace/name`, if it exists.
    pub async fn config_map(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<ConfigMap>, kube::Error> {
        match self {
            Lookup::Cluster(client) => {
                Api::<ConfigMap>::namespaced((*client).clone(), namespace)
                    .get_opt(name)
                    .await
            }
            Lookup::Objects(set) => Ok(set.get("ConfigMap", namespace, name)),
        }
    }

    /// The Secret `namespace/name`, if it exists.
    pub async fn secret(&self, namespace: &str, name: &str) -> Result<Option<Secret>, kube::Error> {
        match self {
            Lookup::Cluster(client) => {
                Api::<Secret>::namespaced((*client).clone(), namespace)
                    .get_opt(name)
                    .await
            }
            Lookup::Objects(set) => Ok(set.get("Secret", namespace, name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn objects_answer_for_config_maps_and_secrets() {
        let mut set = ObjectSet::default();
        set.insert(&json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "vars", "namespace": "apps"}, "data": {"a": "1"}}));
        set.insert(&json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "creds", "namespace": "apps"}, "stringData": {"token": "x"}}));
        set.insert(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "vars", "namespace": "apps"}}));
        let lookup = Lookup::Objects(&set);
        let map = lookup.config_map("apps", "vars").await.unwrap().unwrap();
        assert_eq!(map.data.unwrap()["a"], "1");
        let secret = lookup.secret("apps", "creds").await.unwrap().unwrap();
        assert_eq!(secret.data.unwrap()["token"].0, b"x");
        assert!(lookup.config_map("other", "vars").await.unwrap().is_none());
    }
}
