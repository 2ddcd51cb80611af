//! `cargo xtask bench kustomizations --count N`: N Kustomizations, each applying the podinfo
//! manifests (shared/fixtures/podinfo-kustomize) into its own namespace from one
//! GitRepository, on the real control plane with the release source- and
//! kustomize-controller. Reports the time from the first create call until every
//! Kustomization is Ready=True, and the peak RSS (VmHWM) of both controllers.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ferroflux_api::kustomize::v1::{
    CrossNamespaceSourceReference, Kustomization, KustomizationSpec, SourceKind,
};
use ferroflux_api::source::v1::{GitRepository, GitRepositoryRef, GitRepositorySpec};
use ferroflux_testkit::git_server::GitServer;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, PostParams};

use super::cluster::{
    Controller, api_requests, client, control_plane_cpu, create_namespace, delete_namespace,
    drop_finalizers, for_all, free_ports, kubectl, print_api_requests, print_control_plane_cpu,
    rand_suffix, wait_all_ready, wait_quiet,
};
use super::{build_release, machine, mib, process_memory_kib, today, update_doc};
use crate::generate::repo_root;

const SECTION: &str = "## kustomize-controller: N Kustomizations from one GitRepository";
const MARKER: &str = "kustomizations";
/// The goals.
const GOAL_SECONDS_1000: f64 = 60.0;
const GOAL_RSS_MIB: f64 = 150.0;
const READY_TIMEOUT: Duration = Duration::from_secs(900);
/// The kustomize-controller's client rate limits (Flux's defaults, 50/300, cap a
/// 1000-object run at the limiter rather than at the controller).
const KUBE_API_QPS: u32 = 500;
const KUBE_API_BURST: u32 = 1000;

/// One measurement.
struct Measured {
    count: usize,
    all_ready: Duration,
    source_hwm_kib: u64,
    kustomize_hwm_kib: u64,
}

/// Runs the benchmark for each of `counts`.
pub fn run(counts: &[usize], concurrent: u16, write_doc: bool) -> Result<()> {
    let started = crate::testenv::up()?;
    let result = bench(counts, concurrent, write_doc);
    if started {
        crate::testenv::down();
    }
    result
}

fn bench(counts: &[usize], concurrent: u16, write_doc: bool) -> Result<()> {
    let kubeconfig = crate::testenv::cache_dir().join("testenv/run/admin.kubeconfig");
    kubectl(
        &kubeconfig,
        &["apply", "--server-side", "-f", "config/crds/"],
    )?;
    let source = build_release("source-controller", "source-controller")?;
    let kustomize = build_release("kustomize-controller", "kustomize-controller")?;
    let work = tempfile::Builder::new()
        .prefix("ferroflux-bench-ks-")
        .tempdir()?;
    let server = GitServer::start();
    let repo = server.create_repo("podinfo");
    let files = podinfo_files()?;
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    repo.commit(&refs, "podinfo");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let client = runtime.block_on(client(&kubeconfig))?;
    let mut results = Vec::new();
    for &count in counts {
        let setup = Setup {
            client: &client,
            kubeconfig: &kubeconfig,
            work: work.path(),
            url: server.public_url(&repo),
            concurrent,
        };
        let measured = runtime.block_on(setup.measure(count, &source, &kustomize))?;
        eprintln!(
            "bench: {count} Kustomizations Ready in {:.1} s; peak RSS source-controller {:.1} MiB, kustomize-controller {:.1} MiB",
            measured.all_ready.as_secs_f64(),
            mib(measured.source_hwm_kib),
            mib(measured.kustomize_hwm_kib)
        );
        results.push(measured);
    }
    let block = doc_block(&results, concurrent);
    println!("\n{block}");
    if write_doc {
        let path = update_doc(SECTION, MARKER, &block)?;
        eprintln!("bench: results written to {}", path.display());
    }
    Ok(())
}

/// The podinfo fixture under `podinfo/`.
fn podinfo_files() -> Result<Vec<(String, String)>> {
    let dir = repo_root().join("../shared/fixtures/podinfo-kustomize");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        files.push((format!("podinfo/{name}"), std::fs::read_to_string(&path)?));
    }
    files.sort();
    Ok(files)
}

/// What one measurement needs.
struct Setup<'a> {
    client: &'a Client,
    kubeconfig: &'a Path,
    work: &'a Path,
    url: String,
    concurrent: u16,
}

impl Setup<'_> {
    async fn measure(&self, count: usize, source: &Path, kustomize: &Path) -> Result<Measured> {
        let namespace = format!("bench-ks-{:08x}", rand_suffix());
        wait_quiet(self.client).await;
        create_namespace(self.client, &namespace).await?;
        let targets: Vec<String> = (0..count).map(|i| format!("{namespace}-{i}")).collect();
        eprintln!("bench: creating {count} target namespaces");
        for_all(targets.clone(), {
            let client = self.client.clone();
            move |name| {
                let client = client.clone();
                async move { create_namespace(&client, &name).await }
            }
        })
        .await?;
        let dir = self.work.join(&namespace);
        std::fs::create_dir_all(&dir)?;
        let result = self
            .measure_in(count, &namespace, &dir, source, kustomize)
            .await;
        eprintln!("bench: deleting the namespaces");
        let _ = for_all(targets, {
            let client = self.client.clone();
            move |name| {
                let client = client.clone();
                async move {
                    delete_namespace(&client, &name).await;
                    Ok(())
                }
            }
        })
        .await;
        delete_namespace(self.client, &namespace).await;
        // The controllers are stopped: their finalizers would keep the namespace
        // Terminating (and the namespace controller busy) for good.
        drop_finalizers::<Kustomization>(Api::namespaced(self.client.clone(), &namespace)).await;
        drop_finalizers::<GitRepository>(Api::namespaced(self.client.clone(), &namespace)).await;
        result
    }

    async fn measure_in(
        &self,
        count: usize,
        namespace: &str,
        dir: &Path,
        source: &Path,
        kustomize: &Path,
    ) -> Result<Measured> {
        let [storage_port] = free_ports()?;
        let source_controller = Controller::start(
            source,
            self.kubeconfig,
            namespace,
            &dir.join("source-controller.log"),
            &[
                format!("--storage-path={}", dir.join("data").display()),
                format!("--storage-addr=127.0.0.1:{storage_port}"),
                format!("--storage-adv-addr=127.0.0.1:{storage_port}"),
            ],
        )?;
        let kustomize_controller = Controller::start(
            kustomize,
            self.kubeconfig,
            namespace,
            &dir.join("kustomize-controller.log"),
            &[
                format!("--concurrent={}", self.concurrent),
                format!("--kube-api-qps={KUBE_API_QPS}"),
                format!("--kube-api-burst={KUBE_API_BURST}"),
            ],
        )?;
        self.create_source(namespace).await?;
        let kustomizations: Api<Kustomization> = Api::namespaced(self.client.clone(), namespace);
        eprintln!("bench: creating {count} Kustomizations");
        let requests_before = api_requests(self.client).await;
        let cpu_before = control_plane_cpu();
        let started = Instant::now();
        let names: Vec<usize> = (0..count).collect();
        for_all(names, {
            let api = kustomizations.clone();
            let namespace = namespace.to_owned();
            move |i| {
                let api = api.clone();
                let object = Kustomization::new(&format!("podinfo-{i}"), spec(&namespace, i));
                async move {
                    api.create(&PostParams::default(), &object).await?;
                    Ok(())
                }
            }
        })
        .await?;
        let all_ready = wait_all_ready(&kustomizations, count, started, READY_TIMEOUT)
            .await
            .with_context(|| format!("controller logs in {}", dir.display()))?;
        print_control_plane_cpu(&cpu_before, &control_plane_cpu(), started.elapsed());
        print_api_requests(&requests_before, &api_requests(self.client).await, count);
        source_controller.report("source-controller", count);
        kustomize_controller.report("kustomize-controller", count);
        let (source_hwm_kib, _) = process_memory_kib(source_controller.pid())?;
        let (kustomize_hwm_kib, _) = process_memory_kib(kustomize_controller.pid())?;
        // The controller must still run to remove its finalizers (prune is off: the
        // namespaces go as a whole).
        let _ = kustomizations
            .delete_collection(&DeleteParams::background(), &ListParams::default())
            .await;
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline
            && kustomizations
                .list_metadata(&ListParams::default().limit(1))
                .await
                .is_ok_and(|l| !l.items.is_empty())
        {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Ok(Measured {
            count,
            all_ready,
            source_hwm_kib,
            kustomize_hwm_kib,
        })
    }

    async fn create_source(&self, namespace: &str) -> Result<()> {
        let api: Api<GitRepository> = Api::namespaced(self.client.clone(), namespace);
        let spec = GitRepositorySpec {
            url: self.url.clone(),
            interval: "1h".to_owned(),
            reference: Some(GitRepositoryRef {
                branch: Some("main".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        };
        api.create(&PostParams::default(), &GitRepository::new("podinfo", spec))
            .await?;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let object = api.get("podinfo").await?;
            if object
                .status
                .as_ref()
                .and_then(|s| s.artifact.as_ref())
                .is_some()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the GitRepository did not get an artifact in 2 minutes");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Kustomization `i`: podinfo into namespace `<namespace>-<i>`.
fn spec(namespace: &str, i: usize) -> KustomizationSpec {
    KustomizationSpec {
        source_ref: CrossNamespaceSourceReference {
            kind: SourceKind::GitRepository,
            name: "podinfo".into(),
            ..Default::default()
        },
        path: Some("./podinfo".into()),
        interval: "1h".into(),
        prune: false,
        target_namespace: Some(format!("{namespace}-{i}")),
        ..Default::default()
    }
}

fn doc_block(results: &[Measured], concurrent: u16) -> String {
    let command: Vec<String> = std::iter::once("cargo xtask".to_owned())
        .chain(std::env::args().skip(1))
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Measured {} on {} with `{}` (release build, kustomize-controller `--concurrent={concurrent} \
         --kube-api-qps={KUBE_API_QPS} --kube-api-burst={KUBE_API_BURST}`). Each \
         Kustomization applies shared/fixtures/podinfo-kustomize (Deployment, Service, HPA) \
         into its own namespace from one GitRepository; the time runs from the first create \
         call until every Kustomization is Ready=True. Peak RSS is each controller's VmHWM. Control plane: {}.\n",
        today(),
        machine(),
        command.join(" "),
        super::controller_manager_profile()
    );
    let _ = writeln!(
        out,
        "| Kustomizations | all Ready | per Kustomization | source-controller peak RSS | kustomize-controller peak RSS | together |"
    );
    let _ = writeln!(out, "|--:|--:|--:|--:|--:|--:|");
    for r in results {
        let seconds = r.all_ready.as_secs_f64();
        let per = seconds * 1000.0 / f64::from(u32::try_from(r.count).unwrap_or(u32::MAX));
        let _ = writeln!(
            out,
            "| {} | {seconds:.1} s | {per:.1} ms | {:.1} MiB | {:.1} MiB | {:.1} MiB |",
            r.count,
            mib(r.source_hwm_kib),
            mib(r.kustomize_hwm_kib),
            mib(r.source_hwm_kib + r.kustomize_hwm_kib)
        );
    }
    let _ = writeln!(
        out,
        "\nGoal (issue #5): 1000 Ready in under {GOAL_SECONDS_1000:.0} s, controllers under \
         {GOAL_RSS_MIB:.0} MiB together."
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_targets_its_own_namespace() {
        let spec = spec("bench-ks-1", 7);
        assert_eq!(spec.target_namespace.as_deref(), Some("bench-ks-1-7"));
        assert_eq!(spec.path.as_deref(), Some("./podinfo"));
    }
}
