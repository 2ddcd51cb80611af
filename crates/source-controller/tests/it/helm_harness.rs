//! A running source-controller, a loopback Helm repository and a namespace for one
//! HelmRepository/HelmChart test, plus chart packaging helpers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferroflux_api::meta::{Condition, ConditionStatus, LocalObjectReference};
use ferroflux_api::source::v1::{
    HelmChart, HelmChartSourceKind, HelmChartSpec, HelmRepository, HelmRepositorySpec,
    LocalHelmChartSourceReference,
};
use ferroflux_testkit::controller::{ControllerProcess, free_port};
use ferroflux_testkit::helm_repo::HelmRepoServer;
use ferroflux_testkit::{TestNamespace, client, install_crds, wait_for_value};
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use serde_json::json;

pub const PODINFO: &str = "/work/shared/fixtures/charts/podinfo";

pub struct HelmHarness {
    pub client: Client,
    pub namespace: TestNamespace,
    pub repo: HelmRepoServer,
    _storage: tempfile::TempDir,
    controller: ControllerProcess,
}

impl HelmHarness {
    pub async fn start(prefix: &str) -> Self {
        Self::start_with(prefix, &[]).await
    }

    pub async fn start_with(prefix: &str, extra: &[&str]) -> Self {
        let client = client().await;
        install_crds(&client).await;
        let namespace = TestNamespace::new(&client, prefix).await;
        let repo = HelmRepoServer::start();
        let storage = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut args = vec![
            "--artifact-retention-ttl=1s".to_owned(),
            format!("--storage-path={}", storage.path().join("data").display()),
            format!("--storage-addr=127.0.0.1:{port}"),
            format!("--storage-adv-addr=127.0.0.1:{port}"),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let controller = ControllerProcess::start(
            Path::new(env!("CARGO_BIN_EXE_source-controller")),
            namespace.name(),
            &args,
            storage.path().join("controller.log"),
        );
        Self {
            client,
            namespace,
            repo,
            _storage: storage,
            controller,
        }
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        Api::namespaced(self.client.clone(), self.namespace.name())
    }

    pub async fn secret(&self, name: &str, type_: Option<&str>, data: &[(&str, &str)]) {
        let mut secret = Secret::default();
        secret.metadata.name = Some(name.to_owned());
        secret.type_ = type_.map(str::to_owned);
        secret.string_data = Some(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
        );
        self.api::<Secret>()
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
    }

    pub async fn create_repository(&self, name: &str, spec: HelmRepositorySpec) {
        self.api::<HelmRepository>()
            .create(&PostParams::default(), &HelmRepository::new(name, spec))
            .await
            .unwrap();
    }

    pub async fn create_chart(&self, name: &str, spec: HelmChartSpec) {
        self.api::<HelmChart>()
            .create(&PostParams::default(), &HelmChart::new(name, spec))
            .await
            .unwrap();
    }

    /// Waits until the object's Ready condition has `status` and `check` accepts it.
    pub async fn wait<K>(
        &self,
        name: &str,
        status: ConditionStatus,
        check: impl Fn(&K) -> bool,
    ) -> K
    where
        K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug
            + Conditions,
    {
        let hint = self.controller.log_path().display().to_string();
        wait_in(&self.api::<K>(), name, status, check, &hint).await
    }

    /// Warning events about `name`.
    pub async fn warnings(&self, name: &str) -> Vec<Event> {
        let events: Api<Event> = self.api();
        events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| {
                e.involved_object.name.as_deref() == Some(name)
                    && e.type_.as_deref() == Some("Warning")
            })
            .collect()
    }

    pub fn log(&self) -> String {
        self.controller.log()
    }

    /// Packages the podinfo fixture with `version` (and `edit` applied to a copy) and
    /// publishes it in the repository.
    pub fn publish_podinfo(&self, version: &str) -> Vec<u8> {
        let package = package_podinfo(version, |_| {});
        self.repo.add_chart("podinfo", version, &package);
        package
    }
}

/// Waits until `name`'s Ready condition has `status` and `check` accepts it.
pub async fn wait_in<K>(
    api: &Api<K>,
    name: &str,
    status: ConditionStatus,
    check: impl Fn(&K) -> bool,
    log_hint: &str,
) -> K
where
    K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Conditions,
{
    let what = format!("{name} Ready={status:?}; controller log: {log_hint}");
    let check = &check;
    wait_for_value(Duration::from_secs(90), &what, || {
        let api = api.clone();
        async move {
            let object = api.get(name).await.ok()?;
            let ready = object
                .conditions()
                .into_iter()
                .find(|c| c.type_ == "Ready")?;
            (ready.status == status && check(&object)).then_some(object)
        }
    })
    .await
}

/// Conditions of a HelmRepository or HelmChart.
pub trait Conditions {
    fn conditions(&self) -> Vec<Condition>;
}

impl Conditions for HelmRepository {
    fn conditions(&self) -> Vec<Condition> {
        self.status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default()
    }
}

impl Conditions for HelmChart {
    fn conditions(&self) -> Vec<Condition> {
        self.status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default()
    }
}

/// Ready's reason and message.
pub fn ready<K: Conditions>(object: &K) -> (String, String) {
    let ready = object
        .conditions()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    (ready.reason, ready.message)
}

/// Whether condition `type_` is True.
pub fn is_true<K: Conditions>(object: &K, type_: &str) -> bool {
    object
        .conditions()
        .iter()
        .any(|c| c.type_ == type_ && c.status == ConditionStatus::True)
}

/// A copy of the podinfo chart directory with `version`, after `edit`.
pub fn podinfo_dir(version: &str, edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("podinfo");
    copy_dir(Path::new(PODINFO), &chart);
    let chart_yaml = std::fs::read_to_string(chart.join("Chart.yaml")).unwrap();
    let patched: String = chart_yaml
        .lines()
        .map(|l| {
            if l.starts_with("version:") {
                format!("version: {version}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(chart.join("Chart.yaml"), patched).unwrap();
    edit(&chart);
    (dir, chart)
}

/// The podinfo chart packaged with `version`.
pub fn package_podinfo(version: &str, edit: impl FnOnce(&Path)) -> Vec<u8> {
    let (dir, chart) = podinfo_dir(version, edit);
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let path = ferroflux_helm::package::package(&chart, &out).unwrap();
    std::fs::read(path).unwrap()
}

pub use ferroflux_testkit::copy_dir;

/// Every file of the podinfo fixture, relative paths and contents, under `prefix`.
pub fn podinfo_files(prefix: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    collect(Path::new(PODINFO), Path::new(PODINFO), prefix, &mut files);
    files
}

fn collect(root: &Path, dir: &Path, prefix: &str, files: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, prefix, files);
        } else {
            let relative = path.strip_prefix(root).unwrap().to_string_lossy();
            files.push((
                format!("{prefix}{relative}"),
                std::fs::read_to_string(&path).unwrap_or_default(),
            ));
        }
    }
}

pub fn repository_spec(url: &str) -> HelmRepositorySpec {
    HelmRepositorySpec {
        url: url.to_owned(),
        interval: Some("1h".to_owned()),
        ..HelmRepositorySpec::default()
    }
}

pub fn chart_spec(chart: &str, kind: HelmChartSourceKind, source: &str) -> HelmChartSpec {
    HelmChartSpec {
        chart: chart.to_owned(),
        version: Some("*".to_owned()),
        source_ref: LocalHelmChartSourceReference {
            api_version: None,
            kind,
            name: source.to_owned(),
        },
        interval: "1h".to_owned(),
        reconcile_strategy: None,
        ..HelmChartSpec::default()
    }
}

#[expect(clippy::unnecessary_wraps, reason = "specs take optional references")]
pub fn reference(name: &str) -> Option<LocalObjectReference> {
    Some(LocalObjectReference {
        name: name.to_owned(),
    })
}

/// Downloads an artifact (digest verified) into bytes.
pub async fn download(url: &str, digest: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("artifact");
    let fetcher = ferroflux_artifact::Fetcher::new(ferroflux_artifact::FetchOptions {
        retries: 0,
        ..Default::default()
    })
    .unwrap();
    fetcher.download(url, digest, &dest).await.unwrap();
    std::fs::read(dest).unwrap()
}

/// Sets `reconcile.fluxcd.io/requestedAt` to `token`.
pub async fn request_reconcile<K>(api: &Api<K>, name: &str, token: &str)
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(
            json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}}),
        ),
    )
    .await
    .unwrap();
}
