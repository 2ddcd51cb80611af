//! What the controller benchmarks share: a client for the test control plane, release
//! controller processes, namespaces, and bounded-parallel API calls.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};

use crate::generate::repo_root;

/// Creates and deletes in flight at once.
const PARALLEL_CALLS: usize = 32;

/// A client for the control plane of `kubeconfig`, with a read timeout long enough for
/// lists of thousands of objects.
pub async fn client(kubeconfig: &Path) -> Result<Client> {
    let config = kube::config::Kubeconfig::read_from(kubeconfig)
        .with_context(|| format!("reading {}", kubeconfig.display()))?;
    let mut config =
        kube::Config::from_custom_kubeconfig(config, &kube::config::KubeConfigOptions::default())
            .await?;
    config.read_timeout = Some(Duration::from_secs(120));
    Ok(Client::try_from(config)?)
}

/// `kubectl <args>` against `kubeconfig`, run in the repository root; fails when kubectl does.
pub fn kubectl(kubeconfig: &Path, args: &[&str]) -> Result<()> {
    let status = Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .current_dir(repo_root())
        .stdout(Stdio::null())
        .status()
        .context("running kubectl")?;
    if !status.success() {
        bail!("kubectl {} failed", args.join(" "));
    }
    Ok(())
}

/// A number that differs between runs, for unique namespace names.
pub fn rand_suffix() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    nanos ^ std::process::id().rotate_left(16)
}

/// `N` distinct free ports on 127.0.0.1.
pub fn free_ports<const N: usize>() -> Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

/// Creates namespace `name`, labelled as a benchmark's.
pub async fn create_namespace(client: &Client, name: &str) -> Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"ferroflux.dev/bench": "true"}}
    }))?;
    api.create(&PostParams::default(), &namespace)
        .await
        .with_context(|| format!("creating namespace {name}"))?;
    Ok(())
}

/// Starts deleting namespace `name` (does not wait).
pub async fn delete_namespace(client: &Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let _ = api.delete(name, &DeleteParams::background()).await;
}

/// Waits (up to ten minutes) until no namespace is Terminating: deleting the thousands of
/// objects of an earlier run keeps the control plane busy for minutes, which would be
/// measured as part of the next run.
pub async fn wait_quiet(client: &Client) {
    let api: Api<Namespace> = Api::all(client.clone());
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut said = false;
    loop {
        let terminating = api.list(&ListParams::default()).await.map_or(0, |list| {
            list.items
                .iter()
                .filter(|ns| ns.metadata.deletion_timestamp.is_some())
                .count()
        });
        if terminating == 0 || Instant::now() > deadline {
            return;
        }
        if !said {
            eprintln!("bench: waiting for {terminating} namespace(s) being deleted");
            said = true;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Runs `call` for every item, [`PARALLEL_CALLS`] at a time; the first error wins.
pub async fn for_all<T, F, Fut>(items: Vec<T>, call: F) -> Result<()>
where
    T: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for item in items {
        if set.len() >= PARALLEL_CALLS
            && let Some(done) = set.join_next().await
        {
            done??;
        }
        set.spawn(call(item));
    }
    while let Some(done) = set.join_next().await {
        done??;
    }
    Ok(())
}

/// A release controller watching one namespace; killed when dropped.
pub struct Controller {
    child: Child,
    log: PathBuf,
    metrics_port: u16,
}

impl Controller {
    /// Starts `binary` (its own metrics and health ports, `--watch-all-namespaces=false`,
    /// `RUNTIME_NAMESPACE=namespace`) with the extra `args`, logging to `log`, and waits
    /// until it logs that its controllers started.
    pub fn start(
        binary: &Path,
        kubeconfig: &Path,
        namespace: &str,
        log: &Path,
        args: &[String],
    ) -> Result<Self> {
        let [metrics_port, health_port] = free_ports()?;
        let child = Command::new(binary)
            .args([
                "--watch-all-namespaces=false".to_owned(),
                format!("--metrics-addr=127.0.0.1:{metrics_port}"),
                format!("--health-addr=127.0.0.1:{health_port}"),
                "--log-level=info".to_owned(),
            ])
            .args(args)
            .env("RUNTIME_NAMESPACE", namespace)
            .env("KUBECONFIG", kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(log)?)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut controller = Self {
            child,
            log: log.to_owned(),
            metrics_port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = controller.child.try_wait()? {
                bail!(
                    "{} exited with {status}:\n{}",
                    binary.display(),
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            if std::fs::read_to_string(log)
                .unwrap_or_default()
                .contains("starting controllers")
            {
                return Ok(controller);
            }
            if Instant::now() > deadline {
                bail!("{} did not start in 30 s", binary.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// `(reconciliations, their total seconds)` from the controller's
    /// `gotk_reconcile_duration_seconds` histogram, summed over objects.
    pub fn reconciles(&self) -> (f64, f64) {
        let text = self.metrics().unwrap_or_default();
        let sum = |prefix: &str| -> f64 {
            text.lines()
                .filter(|line| line.starts_with(prefix))
                .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
                .sum()
        };
        (
            sum("gotk_reconcile_duration_seconds_count{"),
            sum("gotk_reconcile_duration_seconds_sum{"),
        )
    }

    /// CPU seconds (user + system) the process has used so far.
    pub fn cpu_seconds(&self) -> f64 {
        process_cpu_seconds(self.pid())
    }

    /// The text of the controller's `/metrics`.
    fn metrics(&self) -> Result<String> {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.metrics_port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut text = String::new();
        stream.read_to_string(&mut text)?;
        Ok(text)
    }

    /// Prints the reconciliations per object, their mean duration and the CPU time used.
    pub fn report(&self, name: &str, objects: usize) {
        let (count, seconds) = self.reconciles();
        let objects = f64::from(u32::try_from(objects.max(1)).unwrap_or(u32::MAX));
        eprintln!(
            "bench: {name}: {:.1} reconciliations per object, {:.0} ms mean, {:.1} s CPU",
            count / objects,
            if count > 0.0 {
                seconds * 1000.0 / count
            } else {
                0.0
            },
            self.cpu_seconds()
        );
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds (user + system) process `pid` has used so far (0 when it is gone).
pub fn process_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let ticks: u64 = stat.rsplit_once(')').map_or(0, |(_, rest)| {
        rest.split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|v| v.parse::<u64>().ok())
            .sum()
    });
    #[expect(
        clippy::cast_precision_loss,
        reason = "clock ticks of a benchmark run are far below 2^52"
    )]
    let seconds = ticks as f64 / 100.0;
    seconds
}

/// CPU seconds used so far by each running component of the test control plane.
pub fn control_plane_cpu() -> Vec<(&'static str, f64)> {
    crate::testenv::component_pids()
        .into_iter()
        .map(|(name, pid)| (name, process_cpu_seconds(pid)))
        .collect()
}

/// Prints the CPU time each control-plane component used between two [`control_plane_cpu`]
/// snapshots, and what share of the machine's CPUs the run had.
pub fn print_control_plane_cpu(before: &[(&str, f64)], after: &[(&str, f64)], wall: Duration) {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let available = wall.as_secs_f64() * f64::from(u32::try_from(cpus).unwrap_or(1));
    let mut total = 0.0;
    for (name, seconds) in after {
        let used = seconds
            - before
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0.0, |(_, s)| *s);
        total += used;
        eprintln!("bench:   {name:<24} {used:>7.1} s CPU");
    }
    eprintln!(
        "bench: control plane: {total:.1} s CPU of {available:.0} s available ({cpus} CPUs x {:.1} s)",
        wall.as_secs_f64()
    );
}

/// The API server's request counters (`apiserver_request_total`), keyed by
/// `verb resource[/subresource]`, summed over codes and scopes.
pub async fn api_requests(client: &Client) -> std::collections::BTreeMap<String, u64> {
    let mut counts = std::collections::BTreeMap::new();
    let request = http::Request::get("/metrics").body(Vec::new());
    let Ok(text) = (match request {
        Ok(request) => client
            .request_text(request)
            .await
            .map_err(anyhow::Error::from),
        Err(error) => Err(anyhow::Error::from(error)),
    }) else {
        return counts;
    };
    for line in text
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
    {
        let label = |name: &str| {
            line.split(&format!(",{name}=\""))
                .nth(1)
                .or_else(|| line.split(&format!("{{{name}=\"")).nth(1))
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_default()
                .to_owned()
        };
        let Some(value) = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) else {
            continue;
        };
        let (resource, subresource) = (label("resource"), label("subresource"));
        if resource.is_empty() {
            continue;
        }
        let key = if subresource.is_empty() {
            format!("{} {resource}", label("verb"))
        } else {
            format!("{} {resource}/{subresource}", label("verb"))
        };
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "request counters are small non-negative integers"
        )]
        let value = value as u64;
        *counts.entry(key).or_default() += value;
    }
    counts
}

/// Prints the API requests made between two [`api_requests`] snapshots, per object of a
/// run of `count`, busiest first.
pub fn print_api_requests(
    before: &std::collections::BTreeMap<String, u64>,
    after: &std::collections::BTreeMap<String, u64>,
    count: usize,
) {
    let mut rows: Vec<(u64, &String)> = after
        .iter()
        .map(|(key, value)| {
            (
                value - before.get(key).copied().unwrap_or(0).min(*value),
                key,
            )
        })
        .filter(|(delta, _)| *delta > 0)
        .collect();
    rows.sort_by(|a, b| b.cmp(a));
    let total: u64 = rows.iter().map(|(delta, _)| delta).sum();
    let per = |n: u64| {
        f64::from(u32::try_from(n).unwrap_or(u32::MAX))
            / f64::from(u32::try_from(count.max(1)).unwrap_or(u32::MAX))
    };
    eprintln!(
        "bench: API requests during the run: {total} ({:.1} per object)",
        per(total)
    );
    for (delta, key) in rows.iter().take(30) {
        eprintln!("bench:   {delta:>7} {:>6.1}/object  {key}", per(*delta));
    }
}

/// Removes the finalizers of every object of `api`.
pub async fn drop_finalizers<K>(api: Api<K>)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let Ok(list) = api.list_metadata(&ListParams::default()).await else {
        return;
    };
    let names: Vec<String> = list.items.iter().map(ResourceExt::name_any).collect();
    let _ = for_all(names, {
        move |name| {
            let api = api.clone();
            async move {
                let patch = serde_json::json!({"metadata": {"finalizers": null}});
                let _ = api
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await;
                Ok(())
            }
        }
    })
    .await;
}

/// Waits until `count` objects of `api` are Ready=True; returns the time since `started`.
pub async fn wait_all_ready<K>(
    api: &Api<K>,
    count: usize,
    started: Instant,
    timeout: Duration,
) -> Result<Duration>
where
    K: ferroflux_runtime::FluxObject,
{
    let Err(ready) = watch_until(api, count, started, timeout, "Ready", is_ready).await? else {
        return Ok(started.elapsed());
    };
    let stuck = api
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .find(|o| !is_ready(*o))
        .map(|o| format!("{}: {:?}", o.name_any(), o.status()))
        .unwrap_or_default();
    bail!(
        "only {ready}/{count} {} Ready after {timeout:?}; e.g. {stuck}",
        K::kind(&())
    )
}

/// Watches the objects of `api` until `count` of them are `done`, printing progress every
/// five seconds; `Ok(Err(n))` with the number done when `timeout` (from `started`) passes.
///
/// A watch, not repeated lists: listing a thousand objects with their status several
/// times a second would load the API server the benchmark measures.
pub async fn watch_until<K>(
    api: &Api<K>,
    count: usize,
    started: Instant,
    timeout: Duration,
    state: &str,
    done: impl Fn(&K) -> bool,
) -> Result<std::result::Result<(), usize>>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    use futures::StreamExt as _;
    use kube::runtime::watcher;

    let mut events = std::pin::pin!(watcher(api.clone(), watcher::Config::default()));
    let mut seen = std::collections::HashMap::<String, bool>::new();
    let mut report = tokio::time::interval(Duration::from_secs(5));
    report.tick().await;
    loop {
        let finished = seen.values().filter(|d| **d).count();
        if finished >= count {
            return Ok(Ok(()));
        }
        let remaining = timeout.saturating_sub(started.elapsed());
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object))) => {
                    seen.insert(object.name_any(), done(&object));
                }
                Some(Ok(watcher::Event::Delete(object))) => {
                    seen.remove(&object.name_any());
                }
                Some(Ok(watcher::Event::Init | watcher::Event::InitDone)) => {}
                Some(Err(error)) => eprintln!("bench: watch: {error}"),
                None => bail!("the watch ended"),
            },
            _ = report.tick() => eprintln!(
                "bench: {finished}/{count} {state} after {:.1} s",
                started.elapsed().as_secs_f64()
            ),
            () = tokio::time::sleep(remaining) => return Ok(Err(finished)),
        }
    }
}

/// Whether the object's Ready condition is True.
fn is_ready<K: ferroflux_runtime::FluxObject>(object: &K) -> bool {
    use ferroflux_runtime::FluxStatus as _;
    object
        .status()
        .and_then(|s| s.conditions().iter().find(|c| c.type_ == "Ready"))
        .is_some_and(|c| c.status == ferroflux_api::meta::ConditionStatus::True)
}
