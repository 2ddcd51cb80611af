//! Shared by the OCIRepository and Bucket tests: a controller in its own namespace, waits on
//! any source kind's Ready condition, artifact downloads, events, and the controller's own
//! OCI client (compiled into the tests by path, to push artifacts to the test registry).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::Path;
use std::time::Duration;

use ferroflux_testkit::controller::{ControllerProcess, free_port};
use ferroflux_testkit::{TestNamespace, client, install_crds, wait_for_value};
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{Api, ListParams, PostParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::Value;

#[path = "../../src/oci/client.rs"]
#[allow(
    dead_code,
    reason = "the tests use part of the controller's client; which part varies by test"
)]
pub mod registry_client;

pub use registry_client::{ClientOptions, Credentials, PushArtifact, RegistryClient, Repository};

/// A source-controller restricted to a fresh namespace.
pub struct Sources {
    pub client: Client,
    pub namespace: TestNamespace,
    pub storage_url: String,
    controller: ControllerProcess,
    _storage: tempfile::TempDir,
}

impl Sources {
    pub async fn start(prefix: &str) -> Self {
        let client = client().await;
        install_crds(&client).await;
        let namespace = TestNamespace::new(&client, prefix).await;
        let storage = tempfile::tempdir().unwrap();
        let port = free_port();
        let controller = ControllerProcess::start(
            Path::new(env!("CARGO_BIN_EXE_source-controller")),
            namespace.name(),
            &[
                "--artifact-retention-ttl=1s".to_owned(),
                format!("--storage-path={}", storage.path().join("data").display()),
                format!("--storage-addr=127.0.0.1:{port}"),
                format!("--storage-adv-addr=127.0.0.1:{port}"),
            ],
            storage.path().join("controller.log"),
        );
        Self {
            client,
            namespace,
            storage_url: format!("http://127.0.0.1:{port}"),
            controller,
            _storage: storage,
        }
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + Debug,
    {
        Api::namespaced(self.client.clone(), self.namespace.name())
    }

    pub async fn secret(&self, name: &str, type_: Option<&str>, data: &[(&str, &str)]) {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), self.namespace.name());
        let mut secret = Secret::default();
        secret.metadata.name = Some(name.to_owned());
        secret.type_ = type_.map(str::to_owned);
        secret.string_data = Some(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        secrets
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
    }

    /// Waits until the object's Ready condition has `status` (`"True"`/`"False"`) and, if
    /// given, its artifact has `revision`; returns the object as JSON.
    pub async fn wait_ready<K>(&self, name: &str, status: &str, revision: Option<&str>) -> Value
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + Debug
            + serde::Serialize,
    {
        let api = self.api::<K>();
        let what = format!(
            "{} {name} Ready={status} revision={revision:?}; controller log: {}",
            K::kind(&()),
            self.controller.log_path().display()
        );
        wait_for_value(Duration::from_secs(60), &what, || {
            let api = api.clone();
            async move {
                let object = serde_json::to_value(api.get(name).await.ok()?).ok()?;
                let ready = ready(&object)?;
                let observed = object["status"]["observedGeneration"]
                    == object["metadata"]["generation"]
                    || status != "True";
                let revision_ok = revision
                    .is_none_or(|r| object["status"]["artifact"]["revision"].as_str() == Some(r));
                (ready["status"] == status && observed && revision_ok).then_some(object)
            }
        })
        .await
    }

    /// Downloads the object's artifact like a consumer (digest verified) and returns its
    /// files.
    pub async fn download(&self, object: &Value) -> BTreeMap<String, String> {
        let artifact = &object["status"]["artifact"];
        let url = artifact["url"].as_str().expect("an artifact URL");
        assert!(url.starts_with(&self.storage_url), "{url} is served here");
        let dest = tempfile::tempdir().unwrap();
        let options = ferroflux_artifact::FetchOptions {
            retries: 0,
            ..Default::default()
        };
        ferroflux_artifact::fetch(
            url,
            artifact["digest"].as_str().unwrap(),
            dest.path(),
            &options,
        )
        .await
        .expect("the artifact downloads and its digest verifies");
        let mut files = BTreeMap::new();
        collect(dest.path(), dest.path(), &mut files);
        files
    }

    /// The raw bytes of the object's artifact file.
    pub async fn download_raw(&self, object: &Value) -> Vec<u8> {
        let url = object["status"]["artifact"]["url"].as_str().unwrap();
        reqwest::get(url)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec()
    }

    /// Waits for an event with `type_` and `reason` about `name`; returns its message.
    pub async fn wait_event(&self, name: &str, type_: &str, reason: &str) -> String {
        let events: Api<Event> = Api::namespaced(self.client.clone(), self.namespace.name());
        let what = format!("a {type_} event {reason} for {name}");
        wait_for_value(Duration::from_secs(30), &what, || {
            let events = events.clone();
            async move {
                let list = events.list(&ListParams::default()).await.ok()?;
                list.items.into_iter().find_map(|e| {
                    (e.involved_object.name.as_deref() == Some(name)
                        && e.type_.as_deref() == Some(type_)
                        && e.reason.as_deref() == Some(reason))
                    .then(|| e.message.unwrap_or_default())
                })
            }
        })
        .await
    }

    /// Asks for an immediate reconciliation with `reconcile.fluxcd.io/requestedAt`.
    pub async fn request_reconcile<K>(&self, name: &str)
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + Debug,
    {
        let token = format!("{:?}", std::time::SystemTime::now());
        let patch = serde_json::json!({"metadata": {"annotations": {
            ferroflux_api::constants::RECONCILE_REQUESTED_AT_ANNOTATION: token
        }}});
        self.api::<K>()
            .patch(
                name,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(&patch),
            )
            .await
            .unwrap();
    }

    pub fn log(&self) -> String {
        self.controller.log()
    }
}

/// The Ready condition of an object as JSON.
pub fn ready(object: &Value) -> Option<&Value> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
}

/// The condition `type_` of an object as JSON.
pub fn condition<'a>(object: &'a Value, type_: &str) -> Option<&'a Value> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            files.insert(relative, std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
}

/// A gzip tarball of `files` (path, content), like `flux push artifact` builds.
pub fn tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
    let gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gzip);
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, path, content.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// Pushes `files` as a Flux artifact tagged `tag` with an OCI source/revision annotation;
/// returns the manifest digest.
pub async fn push_flux_artifact(
    registry: &ferroflux_testkit::registry::Registry,
    repository: &str,
    tag: &str,
    files: &[(&str, &str)],
) -> String {
    let annotations = BTreeMap::from([
        (
            "org.opencontainers.image.source".to_owned(),
            "https://github.com/example/app".to_owned(),
        ),
        (
            "org.opencontainers.image.revision".to_owned(),
            format!("{tag}@sha1:0123456789abcdef0123456789abcdef01234567"),
        ),
    ]);
    let client = test_client(registry);
    let repository = Repository::parse(&format!("{}/{repository}", registry.host())).unwrap();
    client
        .push_artifact(
            &repository,
            tag,
            PushArtifact::flux(tar_gz(files), annotations),
        )
        .await
        .expect("pushing to the test registry")
}

/// A client with the registry's credentials (and CA, when it serves TLS).
pub fn test_client(registry: &ferroflux_testkit::registry::Registry) -> RegistryClient {
    let tls = registry_client::TlsOptions {
        ca_pem: registry.is_tls().then(|| registry.ca_pem().into_bytes()),
        client_cert: None,
    };
    RegistryClient::new(ClientOptions {
        credentials: Some(Credentials::Basic {
            username: registry.username().to_owned(),
            password: registry.password().to_owned(),
        }),
        tls,
        insecure: !registry.is_tls(),
        ..ClientOptions::default()
    })
    .unwrap()
}
