//! Resolving a group/version/kind to its API resource, cached.
//!
//! Only the group version of a kind is queried (kube's `pinned_kind`), and only found kinds
//! are cached: a miss always asks the server again, so kinds whose CRD was created earlier
//! in the same apply are found.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use kube::Client;
use kube::api::{ApiResource, GroupVersionKind};
use kube::discovery::{self, Scope};

/// An API resource and whether its objects live in namespaces.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The resource (plural, group, version, kind).
    pub resource: ApiResource,
    /// Whether objects of the kind are namespaced.
    pub namespaced: bool,
}

/// A shared cache of resolved kinds.
#[derive(Clone, Default)]
pub struct DiscoveryCache {
    known: Arc<RwLock<HashMap<GroupVersionKind, Resolved>>>,
}

impl std::fmt::Debug for DiscoveryCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DiscoveryCache")
            .finish_non_exhaustive()
    }
}

impl DiscoveryCache {
    /// Resolves `gvk`, asking the API server on a cache miss. `Ok(None)` when the server does
    /// not serve the kind.
    pub async fn resolve(
        &self,
        client: &Client,
        gvk: &GroupVersionKind,
    ) -> Result<Option<Resolved>, kube::Error> {
        if let Some(found) = self.cached(gvk) {
            return Ok(Some(found));
        }
        match discovery::pinned_kind(client, gvk).await {
            Ok((resource, capabilities)) => {
                let resolved = Resolved {
                    resource,
                    namespaced: capabilities.scope == Scope::Namespaced,
                };
                self.known
                    .write()
                    .expect("the discovery cache lock is never poisoned")
                    .insert(gvk.clone(), resolved.clone());
                Ok(Some(resolved))
            }
            // A missing group version answers with a plain-text 404, which kube does not
            // recognise as NotFound.
            Err(kube::Error::Api(status)) if status.code == 404 || status.is_not_found() => {
                Ok(None)
            }
            Err(kube::Error::Discovery(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    fn cached(&self, gvk: &GroupVersionKind) -> Option<Resolved> {
        self.known
            .read()
            .expect("the discovery cache lock is never poisoned")
            .get(gvk)
            .cloned()
    }

    /// Records the kinds a CustomResourceDefinition serves (group, served versions, kind,
    /// plural, scope), so objects of a CRD applied in the same batch resolve even before
    /// the API server's discovery shows them. Other objects are ignored.
    pub fn learn_from_crd(&self, object: &serde_json::Value) {
        if object.get("kind").and_then(serde_json::Value::as_str)
            != Some("CustomResourceDefinition")
        {
            return;
        }
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
        };
        let (group, kind, plural) = (
            text("/spec/group"),
            text("/spec/names/kind"),
            text("/spec/names/plural"),
        );
        if group.is_empty() || kind.is_empty() || plural.is_empty() {
            return;
        }
        let namespaced = text("/spec/scope") != "Cluster";
        let versions = object
            .pointer("/spec/versions")
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut known = self
            .known
            .write()
            .expect("the discovery cache lock is never poisoned");
        for version in versions {
            if version.get("served").and_then(serde_json::Value::as_bool) == Some(false) {
                continue;
            }
            let Some(name) = version.get("name").and_then(serde_json::Value::as_str) else {
                continue;
            };
            let gvk = GroupVersionKind::gvk(group, name, kind);
            let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
            known.entry(gvk).or_insert(Resolved {
                resource,
                namespaced,
            });
        }
    }

    /// Forgets every resolved kind (e.g. after CRDs were deleted).
    pub fn clear(&self) {
        self.known
            .write()
            .expect("the discovery cache lock is never poisoned")
            .clear();
    }
}

/// `no matches for kind "Widget" in version "example.com/v1"`, as kubectl says.
pub(crate) fn no_match_message(gvk: &GroupVersionKind) -> String {
    let version = if gvk.group.is_empty() {
        gvk.version.clone()
    } else {
        format!("{}/{}", gvk.group, gvk.version)
    };
    format!(
        "no matches for kind \"{}\" in version \"{version}\"",
        gvk.kind
    )
}
