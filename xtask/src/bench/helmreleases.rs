//! `cargo xtask bench helmreleases --count N`: N HelmReleases of the podinfo chart
//! (shared/fixtures/charts/podinfo) from one HelmRepository (a loopback nginx), on the real
//! control plane with the release source- and helm-controller. Each HelmRelease has its own
//! generated HelmChart, as in Flux. Reports the time from the first create call until every
//! HelmRelease is Ready=True (installed and its Deployment Available through kwok), and the
//! peak RSS (VmHWM) of both controllers.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ferroflux_api::helm::v2::HelmRelease;
use ferroflux_api::source::v1::{HelmChart, HelmRepository};
use ferroflux_testkit::helm_repo::HelmRepoServer;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, PostParams};

use super::cluster::{
    Controller, api_requests, client, control_plane_cpu, create_namespace, delete_namespace,
    drop_finalizers, for_all, free_ports, kubectl, print_api_requests, print_control_plane_cpu,
    rand_suffix, wait_all_ready, wait_quiet,
};
use super::{build_release, machine, mib, process_memory_kib, today, update_doc};
use crate::generate::repo_root;

const SECTION: &str = "## helm-controller: N HelmReleases from one HelmRepository";
const MARKER: &str = "helmreleases";
/// The goal for 1000 HelmReleases.
const GOAL_SECONDS_1000: f64 = 90.0;
const READY_TIMEOUT: Duration = Duration::from_secs(1200);
/// Client rate limits of both controllers (Flux's defaults, 50/300, would cap the run at the
/// limiter rather than at the controllers).
const KUBE_API_QPS: u32 = 500;
const KUBE_API_BURST: u32 = 1000;

/// One measurement.
struct Measured {
    count: usize,
    all_ready: Duration,
    source_hwm_kib: u64,
    helm_hwm_kib: u64,
    /// The same objects created directly, until Available (`--baseline`).
    baseline: Option<Duration>,
}

/// The controllers' settings for a run.
#[derive(Clone, Copy)]
pub struct Settings {
    /// The helm-controller's `--concurrent`.
    pub helm_concurrent: u16,
    /// The source-controller's `--concurrent`.
    pub source_concurrent: u16,
    /// Also measure the rollout of the same objects without the controllers.
    pub baseline: bool,
}

/// Runs the benchmark for each of `counts`.
pub fn run(counts: &[usize], settings: Settings, write_doc: bool) -> Result<()> {
    let started = crate::testenv::up()?;
    let result = bench(counts, settings, write_doc);
    if started {
        crate::testenv::down();
    }
    result
}

fn bench(counts: &[usize], settings: Settings, write_doc: bool) -> Result<()> {
    let kubeconfig = crate::testenv::cache_dir().join("testenv/run/admin.kubeconfig");
    kubectl(
        &kubeconfig,
        &["apply", "--server-side", "-f", "config/crds/"],
    )?;
    let source = build_release("source-controller", "source-controller")?;
    let helm = build_release("helm-controller", "helm-controller")?;
    let work = tempfile::Builder::new()
        .prefix("ferroflux-bench-hr-")
        .tempdir()?;
    let repository = HelmRepoServer::start();
    let version = add_podinfo(&repository, work.path())?;
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
            url: repository.http_url(false),
            settings,
        };
        let mut measured = runtime.block_on(setup.measure(count, &source, &helm))?;
        if settings.baseline {
            measured.baseline = Some(runtime.block_on(super::rollout::run(&client, count))?);
        }
        eprintln!(
            "bench: {count} HelmReleases Ready in {:.1} s; peak RSS source-controller {:.1} MiB, helm-controller {:.1} MiB",
            measured.all_ready.as_secs_f64(),
            mib(measured.source_hwm_kib),
            mib(measured.helm_hwm_kib)
        );
        results.push(measured);
    }
    if std::env::var_os("FERROFLUX_BENCH_KEEP_LOGS").is_some() {
        let kept = work.keep();
        eprintln!("bench: controller logs kept in {}", kept.display());
    }
    let block = doc_block(&results, settings, &version);
    println!("\n{block}");
    if write_doc {
        let path = update_doc(SECTION, MARKER, &block)?;
        eprintln!("bench: results written to {}", path.display());
    }
    Ok(())
}

/// Packages the podinfo fixture with our `helm package` and serves it; returns its version.
fn add_podinfo(repository: &HelmRepoServer, work: &Path) -> Result<String> {
    let chart = repo_root().join("../shared/fixtures/charts/podinfo");
    let package = ferroflux_helm::package::package(&chart, work)
        .with_context(|| format!("packaging {}", chart.display()))?;
    let file = package
        .file_name()
        .and_then(|name| name.to_str())
        .context("the package has no file name")?;
    let version = file
        .strip_prefix("podinfo-")
        .and_then(|rest| rest.strip_suffix(".tgz"))
        .with_context(|| format!("unexpected package name {file}"))?
        .to_owned();
    repository.add_chart("podinfo", &version, &std::fs::read(&package)?);
    Ok(version)
}

/// What one measurement needs.
struct Setup<'a> {
    client: &'a Client,
    kubeconfig: &'a Path,
    work: &'a Path,
    url: String,
    settings: Settings,
}

impl Setup<'_> {
    async fn measure(&self, count: usize, source: &Path, helm: &Path) -> Result<Measured> {
        let namespace = format!("bench-hr-{:08x}", rand_suffix());
        wait_quiet(self.client).await;
        create_namespace(self.client, &namespace).await?;
        let dir = self.work.join(&namespace);
        std::fs::create_dir_all(&dir)?;
        let result = self.measure_in(count, &namespace, &dir, source, helm).await;
        delete_namespace(self.client, &namespace).await;
        result
    }

    async fn measure_in(
        &self,
        count: usize,
        namespace: &str,
        dir: &Path,
        source: &Path,
        helm: &Path,
    ) -> Result<Measured> {
        let [storage_port] = free_ports()?;
        let rate_limits = [
            format!("--kube-api-qps={KUBE_API_QPS}"),
            format!("--kube-api-burst={KUBE_API_BURST}"),
        ];
        let source_controller = Controller::start(
            source,
            self.kubeconfig,
            namespace,
            &dir.join("source-controller.log"),
            &[
                format!("--storage-path={}", dir.join("data").display()),
                format!("--storage-addr=127.0.0.1:{storage_port}"),
                format!("--storage-adv-addr=127.0.0.1:{storage_port}"),
                format!("--concurrent={}", self.settings.source_concurrent),
                rate_limits[0].clone(),
                rate_limits[1].clone(),
            ],
        )?;
        let helm_controller = Controller::start(
            helm,
            self.kubeconfig,
            namespace,
            &dir.join("helm-controller.log"),
            &[
                format!("--concurrent={}", self.settings.helm_concurrent),
                rate_limits[0].clone(),
                rate_limits[1].clone(),
            ],
        )?;
        self.create_repository(namespace).await?;
        let releases: Api<HelmRelease> = Api::namespaced(self.client.clone(), namespace);
        eprintln!("bench: creating {count} HelmReleases");
        let requests_before = api_requests(self.client).await;
        let cpu_before = control_plane_cpu();
        let started = Instant::now();
        for_all((0..count).collect(), {
            let api = releases.clone();
            move |i| {
                let api = api.clone();
                async move {
                    api.create(&PostParams::default(), &release(i)?).await?;
                    Ok(())
                }
            }
        })
        .await?;
        let all_ready = wait_all_ready(&releases, count, started, READY_TIMEOUT)
            .await
            .with_context(|| format!("controller logs in {}", dir.display()))?;
        print_control_plane_cpu(&cpu_before, &control_plane_cpu(), started.elapsed());
        print_api_requests(&requests_before, &api_requests(self.client).await, count);
        source_controller.report("source-controller", count);
        helm_controller.report("helm-controller", count);
        let (source_hwm_kib, _) = process_memory_kib(source_controller.pid())?;
        let (helm_hwm_kib, _) = process_memory_kib(helm_controller.pid())?;
        // Stopped first: a running helm-controller would start uninstalling and could
        // write its finalizer back after we dropped it, leaving the namespace Terminating.
        drop(source_controller);
        drop(helm_controller);
        release_finalizers(self.client, namespace).await;
        Ok(Measured {
            count,
            all_ready,
            source_hwm_kib,
            helm_hwm_kib,
            baseline: None,
        })
    }

    async fn create_repository(&self, namespace: &str) -> Result<()> {
        let api: Api<HelmRepository> = Api::namespaced(self.client.clone(), namespace);
        let object: HelmRepository = serde_json::from_value(serde_json::json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": "podinfo"},
            "spec": {"url": self.url, "interval": "1h"},
        }))?;
        api.create(&PostParams::default(), &object).await?;
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
                bail!("the HelmRepository did not get an artifact in 2 minutes");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// HelmRelease `i`: release `podinfo-<i>` of the repository's podinfo chart.
fn release(i: usize) -> Result<HelmRelease> {
    Ok(serde_json::from_value(serde_json::json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": format!("podinfo-{i}")},
        "spec": {
            "interval": "1h",
            "chart": {"spec": {
                "chart": "podinfo",
                "interval": "1h",
                "sourceRef": {"kind": "HelmRepository", "name": "podinfo"},
            }},
        },
    }))?)
}

/// Lets the namespace go quickly: the releases, their generated HelmCharts and the
/// repository lose their finalizers instead of being uninstalled one by one; the namespace
/// takes everything else.
async fn release_finalizers(client: &Client, namespace: &str) {
    let releases: Api<HelmRelease> = Api::namespaced(client.clone(), namespace);
    let _ = releases
        .delete_collection(&DeleteParams::background(), &ListParams::default())
        .await;
    drop_finalizers(releases).await;
    drop_finalizers::<HelmChart>(Api::namespaced(client.clone(), namespace)).await;
    drop_finalizers::<HelmRepository>(Api::namespaced(client.clone(), namespace)).await;
}

fn doc_block(results: &[Measured], settings: Settings, version: &str) -> String {
    let command: Vec<String> = std::iter::once("cargo xtask".to_owned())
        .chain(std::env::args().skip(1))
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Measured {} on {} with `{}` (release builds; helm-controller `--concurrent={}`, \
         source-controller `--concurrent={}`, both `--kube-api-qps={KUBE_API_QPS} \
         --kube-api-burst={KUBE_API_BURST}`). Each HelmRelease installs podinfo {version} \
         (shared/fixtures/charts/podinfo: Deployment and Service) from one HelmRepository \
         served by a loopback nginx, through its own generated HelmChart; the time runs from \
         the first create call until every HelmRelease is Ready=True (installed, its \
         Deployment Available through kwok). Peak RSS is each controller's VmHWM. The last \
         column (`--baseline`) is the floor: the same Deployments and Services rendered by \
         our Helm engine and created directly with plain POSTs, no controller of ours \
         running, until all are Available. Control plane: {}.\n",
        today(),
        machine(),
        command.join(" "),
        settings.helm_concurrent,
        settings.source_concurrent,
        super::controller_manager_profile(),
    );
    let _ = writeln!(
        out,
        "| HelmReleases | all Ready | per HelmRelease | source-controller peak RSS | helm-controller peak RSS | together | same objects created directly |"
    );
    let _ = writeln!(out, "|--:|--:|--:|--:|--:|--:|--:|");
    for r in results {
        let seconds = r.all_ready.as_secs_f64();
        let per = seconds * 1000.0 / f64::from(u32::try_from(r.count).unwrap_or(u32::MAX));
        let _ = writeln!(
            out,
            "| {} | {seconds:.1} s | {per:.1} ms | {:.1} MiB | {:.1} MiB | {:.1} MiB | {} |",
            r.count,
            mib(r.source_hwm_kib),
            mib(r.helm_hwm_kib),
            mib(r.source_hwm_kib + r.helm_hwm_kib),
            r.baseline
                .map_or_else(|| "—".to_owned(), |b| format!("{:.1} s", b.as_secs_f64()))
        );
    }
    let _ = writeln!(
        out,
        "\nGoal (issue #8): 1000 Ready in under {GOAL_SECONDS_1000:.0} s on this 2-core machine \
         (upstream Flux: 279 s on 16 cores, 361 MiB)."
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::ResourceExt;

    #[test]
    fn releases_name_the_repository_chart() {
        let object = release(7).unwrap();
        assert_eq!(object.name_any(), "podinfo-7");
        let value = serde_json::to_value(&object).unwrap();
        assert_eq!(value["spec"]["chart"]["spec"]["chart"], "podinfo");
        assert_eq!(
            value["spec"]["chart"]["spec"]["sourceRef"]["name"],
            "podinfo"
        );
    }
}
