//! A running source-controller, a Git server and a namespace for one test.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use ferroflux_api::meta::ConditionStatus;
use ferroflux_api::source::v1::{GitRepository, GitRepositorySpec};
use ferroflux_testkit::controller::{ControllerProcess, free_port};
use ferroflux_testkit::git_server::GitServer;
use ferroflux_testkit::{TestNamespace, client, install_crds, wait_for_value};
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, PostParams};

pub struct Harness {
    pub client: Client,
    pub namespace: TestNamespace,
    pub git: GitServer,
    pub storage: tempfile::TempDir,
    pub storage_url: String,
    controller: ControllerProcess,
}

impl Harness {
    pub async fn start(prefix: &str) -> Self {
        Self::start_with_args(prefix, &[]).await
    }

    /// Like [`Self::start`], with extra controller flags (e.g. `--events-addr`).
    pub async fn start_with_args(prefix: &str, extra: &[String]) -> Self {
        let client = client().await;
        install_crds(&client).await;
        let namespace = TestNamespace::new(&client, prefix).await;
        let git = GitServer::start();
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
            ]
            .into_iter()
            .chain(extra.iter().cloned())
            .collect::<Vec<_>>(),
            storage.path().join("controller.log"),
        );
        Self {
            client,
            namespace,
            git,
            storage,
            storage_url: format!("http://127.0.0.1:{port}"),
            controller,
        }
    }

    pub fn api(&self) -> Api<GitRepository> {
        Api::namespaced(self.client.clone(), self.namespace.name())
    }

    pub async fn secret(&self, name: &str, data: &[(&str, &str)]) {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), self.namespace.name());
        let mut secret = Secret::default();
        secret.metadata.name = Some(name.to_owned());
        secret.string_data = Some(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
        );
        secrets
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
    }

    pub async fn basic_auth_secret(&self) -> &'static str {
        self.secret(
            "basic",
            &[
                ("username", self.git.username()),
                ("password", self.git.password()),
            ],
        )
        .await;
        "basic"
    }

    /// Creates the Secret "tls": basic auth plus the test CA, for the HTTPS URLs.
    pub async fn tls_secret(&self) -> &'static str {
        self.secret(
            "tls",
            &[
                ("username", self.git.username()),
                ("password", self.git.password()),
                ("ca.crt", &self.git.ca_pem()),
            ],
        )
        .await;
        "tls"
    }

    /// Creates the Secret "ssh" with the server's client identity and known_hosts.
    pub async fn ssh_secret(&self) -> &'static str {
        self.secret(
            "ssh",
            &[
                ("identity", &self.git.ssh_identity_pem().clone()),
                ("known_hosts", &self.git.known_hosts().clone()),
            ],
        )
        .await;
        "ssh"
    }

    pub async fn create(&self, name: &str, spec: GitRepositorySpec) -> GitRepository {
        self.api()
            .create(&PostParams::default(), &GitRepository::new(name, spec))
            .await
            .unwrap()
    }

    /// Waits until Ready has `status` (and, if given, the revision), returning the object.
    pub async fn wait_ready(
        &self,
        name: &str,
        status: ConditionStatus,
        revision: Option<&str>,
    ) -> GitRepository {
        let api = self.api();
        let what = format!(
            "GitRepository {name} Ready={status:?} revision={revision:?}; controller log: {}",
            self.controller.log_path().display()
        );
        wait_for_value(Duration::from_secs(60), &what, || {
            let api = api.clone();
            async move {
                let object = api.get(name).await.ok()?;
                let status_ = object.status.as_ref()?;
                let ready = status_
                    .conditions
                    .as_ref()?
                    .iter()
                    .find(|c| c.type_ == "Ready")?;
                let observed = status_.observed_generation == object.metadata.generation
                    || status != ConditionStatus::True;
                let revision_ok = revision
                    .is_none_or(|r| status_.artifact.as_ref().is_some_and(|a| a.revision == r));
                (ready.status == status && observed && revision_ok).then_some(object)
            }
        })
        .await
    }

    /// Creates a GitRepository, waits until it stored an artifact of `revision` and returns
    /// the artifact's files, downloaded like a consumer.
    pub async fn stored_files(
        &self,
        name: &str,
        spec: GitRepositorySpec,
        revision: &str,
    ) -> BTreeMap<String, String> {
        self.create(name, spec).await;
        let object = self
            .wait_ready(name, ConditionStatus::True, Some(revision))
            .await;
        self.download(&object).await
    }

    pub fn ready_message(object: &GitRepository) -> (String, String) {
        let ready = object
            .status
            .as_ref()
            .unwrap()
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        (ready.reason.clone(), ready.message.clone())
    }

    /// Downloads an artifact like a consumer (digest verified) and returns its files.
    pub async fn download(&self, object: &GitRepository) -> BTreeMap<String, String> {
        let artifact = object
            .status
            .as_ref()
            .unwrap()
            .artifact
            .clone()
            .expect("an artifact");
        assert!(
            artifact.url.starts_with(&self.storage_url),
            "{} is served by this controller",
            artifact.url
        );
        let dest = tempfile::tempdir().unwrap();
        let options = ferroflux_artifact::FetchOptions {
            retries: 0,
            ..Default::default()
        };
        ferroflux_artifact::fetch(&artifact.url, &artifact.digest, dest.path(), &options)
            .await
            .expect("the artifact downloads and its digest verifies");
        let mut files = BTreeMap::new();
        collect(dest.path(), dest.path(), &mut files);
        files
    }

    /// Asks for an immediate reconciliation with `reconcile.fluxcd.io/requestedAt`.
    pub async fn request_reconcile(&self, name: &str) {
        let token = format!("{:?}", std::time::SystemTime::now());
        let patch = serde_json::json!({"metadata": {"annotations": {
            ferroflux_api::constants::RECONCILE_REQUESTED_AT_ANNOTATION: token
        }}});
        self.api()
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

fn collect(root: &std::path::Path, dir: &std::path::Path, files: &mut BTreeMap<String, String>) {
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

pub fn spec(url: &str, secret: Option<&str>) -> GitRepositorySpec {
    GitRepositorySpec {
        url: url.to_owned(),
        interval: "1h".to_owned(),
        secret_ref: secret.map(|name| ferroflux_api::meta::LocalObjectReference {
            name: name.to_owned(),
        }),
        reference: Some(ferroflux_api::source::v1::GitRepositoryRef {
            branch: Some("main".to_owned()),
            ..Default::default()
        }),
        ..GitRepositorySpec::default()
    }
}

/// `spec` with `spec.proxySecretRef` naming `proxy_secret`.
pub fn spec_via_proxy(url: &str, secret: Option<&str>, proxy_secret: &str) -> GitRepositorySpec {
    GitRepositorySpec {
        proxy_secret_ref: Some(ferroflux_api::meta::LocalObjectReference {
            name: proxy_secret.to_owned(),
        }),
        ..spec(url, secret)
    }
}
