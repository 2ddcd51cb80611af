//! Source watches shared by the controllers (Flux's `requestsFor...Change` handlers): a
//! source whose artifact revision changes enqueues the objects that consume it, and the
//! watched sources are kept in a cache the reconcilers read instead of the API server.

use std::fmt::Debug;

use ferroflux_api::meta::Artifact;
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use crate::FluxObject;

/// A kind that publishes an artifact in its status.
pub trait ArtifactSource:
    Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
    + Clone
    + Debug
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// `status.artifact`, if any.
    fn artifact(&self) -> Option<&Artifact>;
}

macro_rules! artifact_sources {
    ($($kind:ty),+ $(,)?) => {$(
        impl ArtifactSource for $kind {
            fn artifact(&self) -> Option<&Artifact> {
                self.status.as_ref().and_then(|s| s.artifact.as_ref())
            }
        }
    )+};
}

artifact_sources!(
    ferroflux_api::source::v1::GitRepository,
    ferroflux_api::source::v1::OCIRepository,
    ferroflux_api::source::v1::Bucket,
    ferroflux_api::source::v1::HelmRepository,
    ferroflux_api::source::v1::HelmChart,
    ferroflux_api::source::v1::ExternalArtifact,
);

/// Watches every `S` in the cluster, kept in the cache behind `cache` (made with
/// [`reflector::store`]); when one has an artifact, enqueues the `K` objects of `consumers`
/// for which `wants(consumer, source, revision)` holds. The cache is updated before the
/// consumers are enqueued, so that their reconciliation reads what triggered it.
pub fn watch_source<K, S>(
    controller: Controller<K>,
    client: &Client,
    consumers: &Store<K>,
    cache: reflector::store::Writer<S>,
    wants: impl Fn(&K, &S, &str) -> bool + Send + Sync + 'static,
) -> Controller<K>
where
    K: FluxObject,
    S: ArtifactSource,
{
    let consumers = consumers.clone();
    let stream = watcher(
        Api::<S>::all(client.clone()),
        watcher::Config::default().any_semantic(),
    )
    .default_backoff()
    .reflect(cache)
    .touched_objects();
    controller.watches_stream(stream, move |source: S| {
        let Some(revision) = source.artifact().map(|a| a.revision.clone()) else {
            return Vec::new();
        };
        consumers
            .state()
            .into_iter()
            .filter(|consumer| wants(consumer, &source, &revision))
            .map(|consumer| ObjectRef::from_obj(consumer.as_ref()))
            .collect::<Vec<_>>()
    })
}

/// Whether the reference `(name, namespace)` of an object in `own_namespace` (an empty or
/// missing namespace means the object's own) names `source`.
pub fn refers_to<S: ResourceExt>(
    source: &S,
    name: &str,
    namespace: Option<&str>,
    own_namespace: &str,
) -> bool {
    let namespace = namespace.filter(|n| !n.is_empty()).unwrap_or(own_namespace);
    source.name_any() == name && source.namespace().as_deref() == Some(namespace)
}

/// Whether `cache` has received its first full list: from then on an object missing from
/// it was, at most moments before, missing from the API server too.
pub fn is_synced<S>(cache: &Store<S>) -> bool
where
    S: Resource + Clone + 'static,
    S::DynamicType: Eq + std::hash::Hash + Clone,
{
    futures::FutureExt::now_or_never(cache.wait_until_ready()).is_some_and(|ready| ready.is_ok())
}

/// The object `namespace/name`: from `cache` when it holds it, otherwise from the API
/// server (an object created a moment ago may not be in the cache yet).
pub async fn cached_get<S>(
    client: &Client,
    cache: Option<&Store<S>>,
    namespace: &str,
    name: &str,
) -> Result<Option<S>, kube::Error>
where
    S: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    if let Some(found) = cache.and_then(|c| c.get(&ObjectRef::new(name).within(namespace))) {
        return Ok(Some(found.as_ref().clone()));
    }
    Api::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await
}
