//! Talking to the test cluster: a namespace per test with the CRDs installed, creating
//! objects as plain JSON, and reading the API server's refusals.

use ferroflux_testkit::TestNamespace;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::Status;
use kube::{Client, Error};
use serde_json::{Value, json};

use crate::kinds::Kind;

/// One test's view of the cluster: a client and a fresh namespace with the CRDs installed.
pub struct Cluster {
    pub client: Client,
    namespace: TestNamespace,
}

impl Cluster {
    pub async fn new(prefix: &str) -> Self {
        let client = ferroflux_testkit::client().await;
        ferroflux_testkit::install_crds(&client).await;
        let namespace = TestNamespace::new(&client, prefix).await;
        Self { client, namespace }
    }

    pub fn namespace(&self) -> &str {
        self.namespace.name()
    }

    /// Deletes the namespace and waits for the API server to accept the deletion (the
    /// runtime ends with the test, so the background delete of `TestNamespace` may not run).
    pub async fn finish(self) {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let _ = api
            .delete(self.namespace.name(), &DeleteParams::background())
            .await;
    }

    fn api(&self, kind: &Kind) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), self.namespace(), &kind.resource)
    }

    /// `object` ready to create here: the test namespace, the given name, and only labels and
    /// annotations kept from the rest of its metadata (finalizers would keep the namespace
    /// from ever being deleted; generation and the like belong to the server).
    pub fn localize(&self, object: &Value, name: &str) -> Value {
        let mut object = object.clone();
        let metadata = &object["metadata"];
        let mut local = json!({"name": name, "namespace": self.namespace()});
        for field in ["labels", "annotations"] {
            if let Some(value) = metadata.get(field) {
                local[field] = value.clone();
            }
        }
        object["metadata"] = local;
        object
    }

    /// Creates `object` (status is ignored by the API server: it is a subresource).
    pub async fn create(&self, kind: &Kind, object: &Value) -> Result<Value, Box<Status>> {
        let dynamic: DynamicObject = serde_json::from_value(object.clone())
            .unwrap_or_else(|e| panic!("{} is not a Kubernetes object: {e}", kind.name));
        let created = self
            .api(kind)
            .create(&PostParams::default(), &dynamic)
            .await
            .map_err(api_status)?;
        Ok(serde_json::to_value(created).expect("objects serialize"))
    }

    /// Replaces the status through the status subresource (merge patch of `status`).
    pub async fn write_status(
        &self,
        kind: &Kind,
        name: &str,
        status: &Value,
    ) -> Result<Value, Box<Status>> {
        let patch = json!({ "status": status });
        let patched = self
            .api(kind)
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(api_status)?;
        Ok(serde_json::to_value(patched).expect("objects serialize"))
    }

    /// Reads `name` back as plain JSON.
    pub async fn get(&self, kind: &Kind, name: &str) -> Value {
        let object = self
            .api(kind)
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("reading {} {name} back: {e}", kind.name));
        serde_json::to_value(object).expect("objects serialize")
    }

    /// Deletes `name`; it may not exist (its creation may have been refused).
    pub async fn delete(&self, kind: &Kind, name: &str) {
        match self.api(kind).delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(Error::Api(status)) if status.code == 404 => {}
            Err(e) => panic!("deleting {} {name}: {e}", kind.name),
        }
    }

    /// Creates `object`, which the API server must refuse as invalid (HTTP 422); returns the
    /// server's message.
    pub async fn refused(&self, kind: &Kind, object: &Value) -> Result<String, String> {
        match self.create(kind, object).await {
            Ok(_) => Err("the API server accepted it".to_owned()),
            Err(status) if status.code == 422 && status.reason == "Invalid" => Ok(status.message),
            Err(status) => Err(format!(
                "refused with HTTP {} {} instead of 422 Invalid: {}",
                status.code, status.reason, status.message
            )),
        }
    }
}

fn api_status(error: Error) -> Box<Status> {
    match error {
        Error::Api(status) => status,
        other => panic!("the API server did not answer: {other}"),
    }
}
