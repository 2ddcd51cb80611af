//! A namespace, a chart served over loopback HTTP, a HelmChart whose artifact points at
//! it, and the helm-controller binary.
//!
//! The HelmChart status written here is a test fixture standing in for the
//! source-controller: the test packages a chart with the real `helm` CLI, serves it on
//! 127.0.0.1 and records it as the HelmChart's artifact, as the source-controller would.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ferroflux_api::helm::v2::HelmRelease;
use ferroflux_api::meta::ConditionStatus;
use ferroflux_api::source::v1::HelmChart;
use ferroflux_testkit::controller::ControllerProcess;
use ferroflux_testkit::{TestNamespace, client, install_crds};
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Runs the real helm CLI; returns stdout, panics with stderr on failure.
pub fn helm(args: &[&str]) -> String {
    let out = Command::new(ferroflux_testkit::tools::helm())
        .args(args)
        .output()
        .expect("running helm");
    assert!(
        out.status.success(),
        "helm {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub struct Harness {
    pub client: Client,
    pub namespace: TestNamespace,
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub controller: ControllerProcess,
}

async fn serve(listener: tokio::net::TcpListener, root: PathBuf) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let root = root.clone();
        tokio::spawn(async move {
            let mut buffer = vec![0u8; 4096];
            let n = stream.read(&mut buffer).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buffer[..n]);
            let path = request
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_owned();
            let response = match std::fs::read(root.join(&path)) {
                Ok(body) => {
                    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/gzip\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
                    r.extend(body);
                    r
                }
                Err(_) => {
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_vec()
                }
            };
            let _ = stream.write_all(&response).await;
        });
    }
}

impl Harness {
    pub async fn start(prefix: &str) -> Self {
        let client = client().await;
        install_crds(&client).await;
        let namespace = TestNamespace::new(&client, prefix).await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("www")).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(serve(listener, dir.path().join("www")));
        let controller = ControllerProcess::start(
            Path::new(env!("CARGO_BIN_EXE_helm-controller")),
            namespace.name(),
            &["--requeue-dependency=2s".to_owned()],
            dir.path().join("helm-controller.log"),
        );
        Self {
            client,
            namespace,
            dir,
            port,
            controller,
        }
    }

    pub fn ns(&self) -> &str {
        self.namespace.name()
    }

    /// Packages `chart_dir` with helm and publishes it as the artifact of HelmChart `name`.
    pub async fn publish_chart(&self, name: &str, chart_dir: &Path) {
        let out = self.dir.path().join("pkg");
        std::fs::create_dir_all(&out).unwrap();
        let printed = helm(&[
            "package",
            chart_dir.to_str().unwrap(),
            "-d",
            out.to_str().unwrap(),
        ]);
        let file = PathBuf::from(printed.trim().rsplit(": ").next().unwrap().trim());
        let data = std::fs::read(&file).unwrap();
        let file_name = format!("{name}-{}", file.file_name().unwrap().to_string_lossy());
        std::fs::write(self.dir.path().join("www").join(&file_name), &data).unwrap();
        let version = file_name
            .trim_end_matches(".tgz")
            .rsplit('-')
            .next()
            .unwrap()
            .to_owned();
        let api: Api<HelmChart> = Api::namespaced(self.client.clone(), self.ns());
        let chart: HelmChart = serde_json::from_value(json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
            "metadata": {"name": name},
            "spec": {"chart": name, "interval": "1h", "sourceRef": {"kind": "HelmRepository", "name": "fixture"}}
        })).unwrap();
        let generation = match api.get_opt(name).await.unwrap() {
            Some(found) => found.metadata.generation.unwrap_or(1),
            None => api
                .create(&PostParams::default(), &chart)
                .await
                .unwrap()
                .metadata
                .generation
                .unwrap_or(1),
        };
        let status = json!({"status": {
            "observedGeneration": generation,
            "conditions": [{"type": "Ready", "status": "True", "reason": "ChartPullSucceeded", "message": "pulled", "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": generation}],
            "artifact": {
                "path": format!("helmchart/{}/{name}/{file_name}", self.ns()),
                "url": format!("http://127.0.0.1:{}/{file_name}", self.port),
                "revision": version,
                "digest": format!("sha256:{}", hex::encode(Sha256::digest(&data))),
                "lastUpdateTime": "2026-01-01T00:00:00Z",
                "size": data.len(),
            }
        }});
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(status))
            .await
            .unwrap();
    }

    pub fn releases(&self) -> Api<HelmRelease> {
        Api::namespaced(self.client.clone(), self.ns())
    }

    pub async fn create(&self, name: &str, spec: serde_json::Value) {
        let object: HelmRelease = serde_json::from_value(json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": name}, "spec": spec,
        }))
        .unwrap();
        self.releases()
            .create(&PostParams::default(), &object)
            .await
            .unwrap();
    }

    /// Waits for Ready=`status` at the latest generation with a message containing `text`.
    pub async fn wait_ready(&self, name: &str, status: ConditionStatus, text: &str) -> HelmRelease {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        let mut last = None;
        loop {
            if let Ok(object) = self.releases().get(name).await {
                let ready = object
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
                    .cloned();
                if let Some(ready) = &ready
                    && ready.status == status
                    && ready.message.contains(text)
                    && (status != ConditionStatus::True
                        || object.status.as_ref().and_then(|s| s.observed_generation)
                            == object.metadata.generation)
                {
                    return object;
                }
                last = ready;
            }
            if tokio::time::Instant::now() > deadline {
                let log = self.controller.log();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                panic!(
                    "timed out waiting for HelmRelease {name} Ready={status:?} ~{text:?}; last: {last:?}\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// `helm history` as JSON rows.
    pub fn history(&self, release: &str) -> Vec<serde_json::Value> {
        serde_json::from_str(&helm(&["history", release, "-n", self.ns(), "-o", "json"])).unwrap()
    }
}

/// The podinfo fixture chart.
pub fn podinfo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/charts/podinfo")
}
