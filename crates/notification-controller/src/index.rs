//! The Alerts, Providers and Receivers, kept in memory by watches so that each event and
//! webhook is handled without listing objects on the API server. Every replica keeps
//! them (the servers run on all replicas, as in Flux).

use std::sync::Arc;

use ferroflux_api::notification::v1::Receiver;
use ferroflux_api::notification::v1beta3::{Alert, Provider};
use futures::StreamExt;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tracing::error;

/// Read-only views of the watched Alerts and Providers.
#[derive(Clone)]
pub struct Index {
    alerts: Store<Alert>,
    providers: Store<Provider>,
    receivers: Store<Receiver>,
}

impl Index {
    /// Starts watching Alerts, Providers and Receivers in `namespace`, or in all namespaces.
    pub fn start(client: &Client, namespace: Option<&str>) -> Self {
        Self {
            alerts: spawn_reflector(client, namespace),
            providers: spawn_reflector(client, namespace),
            receivers: spawn_reflector(client, namespace),
        }
    }

    /// Waits until the watches have listed their objects once.
    pub async fn wait_ready(&self) {
        let _ = self.alerts.wait_until_ready().await;
        let _ = self.providers.wait_until_ready().await;
        let _ = self.receivers.wait_until_ready().await;
    }

    /// The Receivers, looked up by webhook path.
    pub fn receivers(&self) -> Store<Receiver> {
        self.receivers.clone()
    }

    /// Every Alert.
    pub fn alerts(&self) -> Vec<Arc<Alert>> {
        self.alerts.state()
    }

    /// The Provider `namespace/name`, if it exists.
    pub fn provider(&self, namespace: &str, name: &str) -> Option<Arc<Provider>> {
        self.providers.get(&ObjectRef::new(name).within(namespace))
    }
}

fn spawn_reflector<K>(client: &Client, namespace: Option<&str>) -> Store<K>
where
    K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let api: Api<K> = match namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    };
    let (reader, writer) = reflector::store();
    let stream = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(writer)
        .applied_objects();
    tokio::spawn(async move {
        futures::pin_mut!(stream);
        while let Some(item) = stream.next().await {
            if let Err(e) = item {
                error!(kind = %K::kind(&()), error = %e, "watch failed");
            }
        }
    });
    reader
}
