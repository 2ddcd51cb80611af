//! Controllers, a Git server and a namespace for one test.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use ferroflux_api::kustomize::v1::{
    CrossNamespaceSourceReference, Kustomization, KustomizationSpec, SourceKind,
};
use ferroflux_api::meta::{ConditionStatus, LocalObjectReference};
use ferroflux_api::source::v1::{GitRepository, GitRepositoryRef, GitRepositorySpec};
use ferroflux_testkit::controller::{ControllerProcess, binary, free_port};
use ferroflux_testkit::git_server::{GitServer, Repo};
use ferroflux_testkit::{TestNamespace, client, install_crds};
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, DynamicObject, PostParams};

pub struct Harness {
    pub client: Client,
    pub namespace: TestNamespace,
    pub git: GitServer,
    pub repo: Repo,
    _storage: tempfile::TempDir,
    pub source_controller: ControllerProcess,
    pub kustomize_controller: ControllerProcess,
}

impl Harness {
    /// Everything running, a repository `app` with `files`, and a GitRepository `app`.
    pub async fn start(prefix: &str, files: &[(&str, &str)]) -> Self {
        Self::start_with(prefix, files, &[]).await
    }

    /// [`start`](Self::start) with extra kustomize-controller flags.
    pub async fn start_with(prefix: &str, files: &[(&str, &str)], flags: &[&str]) -> Self {
        let client = client().await;
        install_crds(&client).await;
        let namespace = TestNamespace::new(&client, prefix).await;
        let git = GitServer::start();
        let repo = git.create_repo("app");
        repo.commit(files, "initial");
        let storage = tempfile::tempdir().unwrap();
        let port = free_port();
        let source_controller = ControllerProcess::start(
            &binary("source-controller"),
            namespace.name(),
            &[
                format!("--storage-path={}", storage.path().join("data").display()),
                format!("--storage-addr=127.0.0.1:{port}"),
                format!("--storage-adv-addr=127.0.0.1:{port}"),
            ],
            storage.path().join("source-controller.log"),
        );
        let kustomize_controller = ControllerProcess::start(
            Path::new(env!("CARGO_BIN_EXE_kustomize-controller")),
            namespace.name(),
            &std::iter::once("--requeue-dependency=2s")
                .chain(flags.iter().copied())
                .map(str::to_owned)
                .collect::<Vec<_>>(),
            storage.path().join("kustomize-controller.log"),
        );
        let harness = Self {
            client,
            namespace,
            git,
            repo,
            _storage: storage,
            source_controller,
            kustomize_controller,
        };
        harness
            .secret(
                "git",
                &[
                    ("username", harness.git.username()),
                    ("password", harness.git.password()),
                ],
            )
            .await;
        let spec = GitRepositorySpec {
            url: harness.git.http_url(&harness.repo),
            interval: "1s".into(),
            secret_ref: Some(LocalObjectReference { name: "git".into() }),
            reference: Some(GitRepositoryRef {
                branch: Some("main".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        Api::<GitRepository>::namespaced(harness.client.clone(), harness.namespace.name())
            .create(&PostParams::default(), &GitRepository::new("app", spec))
            .await
            .unwrap();
        harness
    }

    pub fn ns(&self) -> &str {
        self.namespace.name()
    }

    pub async fn secret(&self, name: &str, data: &[(&str, &str)]) {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), self.ns());
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

    pub fn kustomizations(&self) -> Api<Kustomization> {
        Api::namespaced(self.client.clone(), self.ns())
    }

    /// A Kustomization of `path` in the `app` repository, applied into the test namespace.
    pub fn spec(&self, path: &str) -> KustomizationSpec {
        KustomizationSpec {
            source_ref: CrossNamespaceSourceReference {
                kind: SourceKind::GitRepository,
                name: "app".into(),
                ..Default::default()
            },
            path: Some(path.to_owned()),
            interval: "1h".into(),
            retry_interval: Some("2s".into()),
            prune: true,
            target_namespace: Some(self.ns().to_owned()),
            ..Default::default()
        }
    }

    pub async fn create(&self, name: &str, spec: KustomizationSpec) {
        self.kustomizations()
            .create(&PostParams::default(), &Kustomization::new(name, spec))
            .await
            .unwrap();
    }

    /// Waits for Ready=`status` (and, when given, a message containing `text`); on timeout
    /// the panic shows the end of both controllers' logs.
    pub async fn wait_ready(
        &self,
        name: &str,
        status: ConditionStatus,
        text: Option<&str>,
    ) -> Kustomization {
        let api = self.kustomizations();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        let mut last = None;
        loop {
            if let Ok(object) = api.get(name).await {
                let ready = object
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
                    .cloned();
                if let Some(ready) = &ready {
                    let matches = ready.status == status
                        && text.is_none_or(|t| ready.message.contains(t))
                        && (status != ConditionStatus::True
                            || object.status.as_ref().and_then(|s| s.observed_generation)
                                == object.metadata.generation);
                    if matches {
                        return object;
                    }
                }
                last = ready;
            }
            if tokio::time::Instant::now() > deadline {
                let tail = |log: String| {
                    log.lines()
                        .rev()
                        .take(25)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                panic!(
                    "timed out waiting for Kustomization {name} Ready={status:?} message~{text:?}; last Ready: {last:?}\n--- kustomize-controller\n{}\n--- source-controller\n{}",
                    tail(self.kustomize_controller.log()),
                    tail(self.source_controller.log())
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn ready(object: &Kustomization) -> (String, String) {
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

    /// The live object of `kind` named `name` in the test namespace, if any.
    pub async fn get(&self, api_version: &str, kind: &str, name: &str) -> Option<DynamicObject> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
        let (resource, _) = kube::discovery::pinned_kind(&self.client, &gvk)
            .await
            .unwrap();
        Api::<DynamicObject>::namespaced_with(self.client.clone(), self.ns(), &resource)
            .get_opt(name)
            .await
            .unwrap()
    }

    /// Commits `files` and returns the revision the Kustomization will report.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        format!("main@sha1:{}", self.repo.commit(files, message))
    }
}

/// The files of ../shared/fixtures/podinfo-kustomize, under `dir/`.
pub fn podinfo(dir: &str) -> Vec<(String, String)> {
    let fixture = ferroflux_testkit::repo_root().join("../shared/fixtures/podinfo-kustomize");
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(&fixture).unwrap_or_else(|e| panic!("reading {}: {e}", fixture.display()))
    {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        files.push((
            format!("{dir}/{name}"),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    files.sort();
    files
}

pub fn refs(files: &[(String, String)]) -> Vec<(&str, &str)> {
    files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect()
}
