//! `cargo xtask bench source`: the release source-controller turning a GitRepository into a
//! tar.gz artifact, side by side with `git clone --depth 1` + `tar czf` of the checkout.
//!
//! Both read the same repositories from the same loopback Git server (nginx + git
//! http-backend). ferroflux's time runs from the GitRepository's creation to Ready=True with
//! the artifact (so it includes the API round trips a controller needs); its peak memory is
//! the controller's VmHWM after the runs. The reference's time is the sum of the two steps
//! and its peak memory the larger of the two steps' maximum RSS (`/usr/bin/time -v`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ferroflux_api::meta::ConditionStatus;
use ferroflux_api::source::v1::{GitRepository, GitRepositoryRef, GitRepositorySpec};
use ferroflux_testkit::git_server::GitServer;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::wait::await_condition;
use kube::{Client, ResourceExt};

use super::cluster::{
    Controller, client, create_namespace, delete_namespace, free_ports, rand_suffix,
};
use super::repos::{self, Generated};
use super::{build_release, machine, mib, mib_bytes, process_memory_kib, today, update_doc};
use crate::generate::repo_root;

const SECTION: &str = "## source-controller: GitRepository to artifact";
const MARKER: &str = "source";
/// The goals.
const MAX_TIME_RATIO: f64 = 1.5;
const MAX_RSS_MIB: f64 = 100.0;
const READY_TIMEOUT: Duration = Duration::from_secs(600);

/// One repository to measure.
struct Case {
    name: &'static str,
    description: String,
    url: String,
    /// For an `ssh://` URL: the credentials (a Secret in the bench namespace for the
    /// controller, `GIT_SSH_COMMAND` for the reference).
    ssh: Option<SshAccess>,
}

/// How both sides reach the loopback sshd.
struct SshAccess {
    identity: String,
    known_hosts: String,
    command: String,
}

/// The Secret an SSH case's GitRepositories name.
const SSH_SECRET: &str = "bench-ssh";

/// The measurements of one repository.
struct Measured {
    description: String,
    ferroflux: Vec<Duration>,
    reference: Vec<Duration>,
    ferroflux_hwm_kib: u64,
    ferroflux_idle_kib: u64,
    reference_rss_kib: u64,
    ferroflux_artifact: u64,
    reference_artifact: u64,
}

impl Measured {
    fn ratio(&self) -> f64 {
        median(&self.ferroflux).as_secs_f64() / median(&self.reference).as_secs_f64()
    }
}

pub fn run(runs: usize, write_doc: bool) -> Result<()> {
    let started = crate::testenv::up()?;
    let result = bench(runs, write_doc);
    if started {
        crate::testenv::down();
    }
    result
}

fn bench(runs: usize, write_doc: bool) -> Result<()> {
    let kubeconfig = crate::testenv::Env {
        bin: PathBuf::new(),
        stages: PathBuf::new(),
        run: crate::testenv::cache_dir().join("testenv/run"),
    }
    .kubeconfig();
    install_crds(&kubeconfig)?;
    let binary = build_release("source-controller", "source-controller")?;
    if !Path::new("/usr/bin/time").is_file() {
        bail!("/usr/bin/time is missing: run hack/install-deps.sh");
    }

    let work = tempfile::Builder::new()
        .prefix("ferroflux-bench-")
        .tempdir()?;
    eprintln!("bench: starting the loopback Git server");
    let server = GitServer::start();
    let mut cases = Vec::new();
    let large = server.create_repo("large-tree");
    let generated = generate("large tree", || {
        repos::large_tree(large.path(), 10_000, 100 << 20)
    })?;
    cases.push(Case {
        name: "large-tree",
        description: describe("large tree", &generated),
        url: server.public_url(&large),
        ssh: None,
    });
    // The same repository over SSH (upload-pack through libssh2 instead of smart HTTP).
    cases.push(Case {
        name: "large-tree-ssh",
        description: describe("large tree over SSH", &generated),
        url: server.ssh_url(&large),
        ssh: Some(SshAccess {
            identity: server.ssh_identity_pem(),
            known_hosts: server.known_hosts(),
            command: server.git_ssh_command(),
        }),
    });
    // FERROFLUX_BENCH_SOURCE_LARGE_ONLY=1 measures only the large tree (memory work).
    if std::env::var_os("FERROFLUX_BENCH_SOURCE_LARGE_ONLY").is_none() {
        push_long_history(&server, &mut cases)?;
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = runtime.block_on(client(&kubeconfig))?;
    let mut results = Vec::new();
    for case in &cases {
        let controller = ControllerRun {
            runtime: &runtime,
            client: &client,
            binary: &binary,
            kubeconfig: &kubeconfig,
            work: work.path(),
        };
        results.push(controller.measure(case, runs)?);
    }
    drop(server);

    let table = table(&results);
    println!("\n{table}");
    println!("{}", verdict(&results));
    if write_doc {
        let path = update_doc(SECTION, MARKER, &doc_block(&results, runs))?;
        eprintln!("bench: results written to {}", path.display());
    }
    Ok(())
}

/// Adds the long-history case: 5,000 commits of small changes.
fn push_long_history(server: &GitServer, cases: &mut Vec<Case>) -> Result<()> {
    let history = server.create_repo("long-history");
    let generated = generate("long history", || {
        repos::long_history(history.path(), 5_000, 300)
    })?;
    cases.push(Case {
        name: "long-history",
        description: describe("long history", &generated),
        url: server.public_url(&history),
        ssh: None,
    });
    Ok(())
}

fn install_crds(kubeconfig: &Path) -> Result<()> {
    for args in [
        &["apply", "--server-side", "-f", "config/crds/"][..],
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/gitrepositories.source.toolkit.fluxcd.io",
        ][..],
    ] {
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
    }
    Ok(())
}

fn generate(what: &str, make: impl FnOnce() -> Result<Generated>) -> Result<Generated> {
    let started = Instant::now();
    let generated = make().with_context(|| format!("generating the {what} repository"))?;
    eprintln!(
        "bench: generated the {what} repository in {:.1} s ({})",
        started.elapsed().as_secs_f64(),
        describe(what, &generated)
    );
    Ok(generated)
}

fn describe(what: &str, generated: &Generated) -> String {
    format!(
        "{what}: {} files, {:.1} MiB, {} commit{}",
        thousands(generated.files),
        mib_bytes(generated.bytes),
        thousands(generated.commits),
        if generated.commits == 1 { "" } else { "s" }
    )
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// What one controller process needs.
struct ControllerRun<'a> {
    runtime: &'a tokio::runtime::Runtime,
    client: &'a Client,
    binary: &'a Path,
    kubeconfig: &'a Path,
    work: &'a Path,
}

impl ControllerRun<'_> {
    /// Starts a controller in a fresh namespace, measures `runs` GitRepositories (each
    /// followed by a reference run), then cleans up.
    fn measure(&self, case: &Case, runs: usize) -> Result<Measured> {
        let namespace = format!("bench-{}-{:08x}", case.name, rand_suffix());
        self.runtime
            .block_on(create_namespace(self.client, &namespace))?;
        let storage = self.work.join(case.name);
        let result = std::fs::create_dir_all(&storage)
            .map_err(anyhow::Error::from)
            .and_then(|()| start_controller(self.binary, self.kubeconfig, &namespace, &storage))
            .and_then(|controller| {
                let result = self.measure_in(&controller, case, runs, &namespace);
                // The controller must still run here to remove its finalizers.
                self.runtime.block_on(delete_all(self.client, &namespace));
                eprintln!("bench: controller log: {}", controller.log().display());
                result
            });
        self.runtime
            .block_on(delete_namespace(self.client, &namespace));
        result
    }

    fn measure_in(
        &self,
        controller: &Controller,
        case: &Case,
        runs: usize,
        namespace: &str,
    ) -> Result<Measured> {
        let (_, ferroflux_idle_kib) = process_memory_kib(controller.pid())?;
        let api: Api<GitRepository> = Api::namespaced(self.client.clone(), namespace);
        let mut measured = Measured {
            description: case.description.clone(),
            ferroflux: Vec::new(),
            reference: Vec::new(),
            ferroflux_hwm_kib: 0,
            ferroflux_idle_kib,
            reference_rss_kib: 0,
            ferroflux_artifact: 0,
            reference_artifact: 0,
        };
        let secret = match &case.ssh {
            Some(ssh) => {
                self.runtime
                    .block_on(create_ssh_secret(self.client, namespace, ssh))?;
                Some(SSH_SECRET)
            }
            None => None,
        };
        for run in 0..runs {
            let (elapsed, size) = self
                .runtime
                .block_on(time_ready(&api, &format!("run-{run}"), &case.url, secret))
                .with_context(|| format!("controller log: {}", controller.log().display()))?;
            eprintln!(
                "bench: {} run {run}: ferroflux {:.2} s",
                case.name,
                elapsed.as_secs_f64()
            );
            measured.ferroflux.push(elapsed);
            measured.ferroflux_artifact = size;

            let ssh_command = case.ssh.as_ref().map(|ssh| ssh.command.as_str());
            let reference = reference_run(&case.url, ssh_command, self.work)?;
            eprintln!(
                "bench: {} run {run}: reference {:.2} s (clone {:.2} s, tar {:.2} s)",
                case.name,
                reference.total().as_secs_f64(),
                reference.clone.as_secs_f64(),
                reference.tar.as_secs_f64()
            );
            measured.reference.push(reference.total());
            measured.reference_rss_kib = measured.reference_rss_kib.max(reference.rss_kib);
            measured.reference_artifact = reference.artifact_bytes;
        }
        let (hwm, _) = process_memory_kib(controller.pid())?;
        measured.ferroflux_hwm_kib = hwm;
        Ok(measured)
    }
}

/// A release source-controller watching `namespace`, storing artifacts under `dir`, given a
/// second to start its watches so that the measurement does not include process start-up.
fn start_controller(
    binary: &Path,
    kubeconfig: &Path,
    namespace: &str,
    dir: &Path,
) -> Result<Controller> {
    let [storage_port] = free_ports()?;
    let controller = Controller::start(
        binary,
        kubeconfig,
        namespace,
        &dir.join("controller.log"),
        &[
            format!("--storage-path={}", dir.join("data").display()),
            format!("--storage-addr=127.0.0.1:{storage_port}"),
            format!("--storage-adv-addr=127.0.0.1:{storage_port}"),
        ],
    )?;
    std::thread::sleep(Duration::from_secs(1));
    Ok(controller)
}

/// Deletes the GitRepositories while the controller runs (it removes its finalizers); any
/// left after a minute lose their finalizers so the namespace can go.
async fn delete_all(client: &Client, namespace: &str) {
    let api: Api<GitRepository> = Api::namespaced(client.clone(), namespace);
    let _ = api
        .delete_collection(&DeleteParams::default(), &ListParams::default())
        .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match api.list(&ListParams::default()).await {
            Ok(list) if list.items.is_empty() => return,
            Err(_) => return,
            Ok(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    if let Ok(list) = api.list(&ListParams::default()).await {
        for object in list.items {
            let patch = serde_json::json!({"metadata": {"finalizers": null}});
            let _ = api
                .patch(
                    &object.name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await;
        }
    }
}

/// Creates a GitRepository and waits for Ready=True with its artifact; returns the time
/// from the create call to the observed Ready and the artifact's size.
/// The Secret with the SSH identity and known_hosts an SSH case's GitRepositories use.
async fn create_ssh_secret(client: &Client, namespace: &str, ssh: &SshAccess) -> Result<()> {
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(client.clone(), namespace);
    let secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": SSH_SECRET},
        "stringData": {"identity": ssh.identity, "known_hosts": ssh.known_hosts},
    }))?;
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .context("creating the SSH Secret")?;
    Ok(())
}

async fn time_ready(
    api: &Api<GitRepository>,
    name: &str,
    url: &str,
    secret: Option<&str>,
) -> Result<(Duration, u64)> {
    let spec = GitRepositorySpec {
        url: url.to_owned(),
        secret_ref: secret.map(|name| ferroflux_api::meta::LocalObjectReference {
            name: name.to_owned(),
        }),
        interval: "1h".to_owned(),
        timeout: Some("10m".to_owned()),
        reference: Some(GitRepositoryRef {
            branch: Some("main".to_owned()),
            ..GitRepositoryRef::default()
        }),
        ..GitRepositorySpec::default()
    };
    let started = Instant::now();
    api.create(&PostParams::default(), &GitRepository::new(name, spec))
        .await
        .with_context(|| format!("creating GitRepository {name}"))?;
    let settled = |object: Option<&GitRepository>| {
        object.is_some_and(|object| {
            ready(object).is_some_and(|(status, reason, _)| {
                (status == ConditionStatus::True && object_current(object))
                    || (status == ConditionStatus::False && !reason.starts_with("Progressing"))
            })
        })
    };
    let object = tokio::time::timeout(READY_TIMEOUT, await_condition(api.clone(), name, settled))
        .await
        .with_context(|| format!("GitRepository {name} not Ready after {READY_TIMEOUT:?}"))??
        .with_context(|| format!("GitRepository {name} was deleted"))?;
    let elapsed = started.elapsed();
    let (status, reason, message) = ready(&object).context("a Ready condition")?;
    if status != ConditionStatus::True {
        bail!("GitRepository {name} failed: {reason}: {message}");
    }
    let size = object
        .status
        .as_ref()
        .and_then(|s| s.artifact.as_ref())
        .and_then(|a| a.size)
        .and_then(|size| u64::try_from(size).ok())
        .unwrap_or(0);
    Ok((elapsed, size))
}

fn ready(object: &GitRepository) -> Option<(ConditionStatus, String, String)> {
    let condition = object
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?;
    Some((
        condition.status,
        condition.reason.clone(),
        condition.message.clone(),
    ))
}

fn object_current(object: &GitRepository) -> bool {
    object.status.as_ref().is_some_and(|status| {
        status.artifact.is_some() && status.observed_generation == object.metadata.generation
    })
}

/// One reference run.
struct Reference {
    clone: Duration,
    tar: Duration,
    rss_kib: u64,
    artifact_bytes: u64,
}

impl Reference {
    fn total(&self) -> Duration {
        self.clone + self.tar
    }
}

/// `git clone --depth 1` then `tar czf` of the checkout without `.git`, each under
/// `/usr/bin/time -v`.
fn reference_run(url: &str, ssh_command: Option<&str>, work: &Path) -> Result<Reference> {
    let dir = tempfile::tempdir_in(work)?;
    let checkout = dir.path().join("checkout");
    let tarball = dir.path().join("artifact.tar.gz");
    let mut git = Command::new("git");
    git.args(["clone", "-q", "--depth", "1", "--branch", "main", url])
        .arg(&checkout)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0");
    if let Some(command) = ssh_command {
        git.env("GIT_SSH_COMMAND", command);
    }
    let (clone, clone_rss) = time_v(&mut git)?;
    let (tar, tar_rss) = time_v(
        Command::new("tar")
            .arg("czf")
            .arg(&tarball)
            .arg("--exclude=.git")
            .arg("-C")
            .arg(&checkout)
            .arg("."),
    )?;
    Ok(Reference {
        clone,
        tar,
        rss_kib: clone_rss.max(tar_rss),
        artifact_bytes: std::fs::metadata(&tarball)?.len(),
    })
}

/// Runs `command` under `/usr/bin/time -v`; its wall time and maximum RSS in KiB (the
/// largest of the process and the children it waited for).
fn time_v(command: &mut Command) -> Result<(Duration, u64)> {
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-v")
        .arg(command.get_program())
        .args(command.get_args())
        .envs(
            command
                .get_envs()
                .filter_map(|(key, value)| value.map(|value| (key, value))),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let output = timed.output().context("running /usr/bin/time")?;
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("{command:?} failed with {}:\n{stderr}", output.status);
    }
    let rss = stderr
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Maximum resident set size (kbytes):")
        })
        .and_then(|value| value.trim().parse().ok())
        .with_context(|| format!("no maximum RSS in /usr/bin/time's output:\n{stderr}"))?;
    Ok((elapsed, rss))
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

fn table(results: &[Measured]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<50} {:>10} {:>10} {:>7} {:>14} {:>14}",
        "repository", "ferroflux", "reference", "ratio", "ferroflux RSS", "reference RSS"
    );
    for result in results {
        let _ = writeln!(
            out,
            "{:<50} {:>8.2} s {:>8.2} s {:>6.2}x {:>10.1} MiB {:>10.1} MiB",
            result.description,
            median(&result.ferroflux).as_secs_f64(),
            median(&result.reference).as_secs_f64(),
            result.ratio(),
            mib(result.ferroflux_hwm_kib),
            mib(result.reference_rss_kib),
        );
    }
    out
}

fn verdict(results: &[Measured]) -> String {
    let worst_ratio = results.iter().map(Measured::ratio).fold(0.0, f64::max);
    let worst_rss = results
        .iter()
        .map(|r| mib(r.ferroflux_hwm_kib))
        .fold(0.0, f64::max);
    let met = |ok: bool| if ok { "met" } else { "MISSED" };
    format!(
        "Goals: time within {MAX_TIME_RATIO}x of the reference: {} (worst ratio {worst_ratio:.2}x); \
         peak RSS under {MAX_RSS_MIB} MiB: {} (highest {worst_rss:.1} MiB).",
        met(worst_ratio <= MAX_TIME_RATIO),
        met(worst_rss < MAX_RSS_MIB),
    )
}

fn doc_block(results: &[Measured], runs: usize) -> String {
    let command = std::iter::once("cargo xtask".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Measured on {} on {}, with `{command}` ({runs} run{} per repository, interleaved; \
         median time, highest peak RSS).\n",
        today(),
        machine(),
        if runs == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        out,
        "| Repository | ferroflux | reference | ratio | ferroflux peak RSS | reference peak RSS | \
         artifact size (ferroflux / reference) |"
    );
    let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|");
    for result in results {
        let _ = writeln!(
            out,
            "| {} | {:.2} s | {:.2} s | {:.2}× | {:.1} MiB (idle {:.1} MiB) | {:.1} MiB | \
             {:.1} / {:.1} MiB |",
            result.description,
            median(&result.ferroflux).as_secs_f64(),
            median(&result.reference).as_secs_f64(),
            result.ratio(),
            mib(result.ferroflux_hwm_kib),
            mib(result.ferroflux_idle_kib),
            mib(result.reference_rss_kib),
            mib_bytes(result.ferroflux_artifact),
            mib_bytes(result.reference_artifact),
        );
    }
    let _ = writeln!(out, "\n{}\n", verdict(results));
    let _ = writeln!(out, "Every run (seconds, ferroflux / reference):\n");
    for result in results {
        let runs = result
            .ferroflux
            .iter()
            .zip(&result.reference)
            .map(|(f, r)| format!("{:.2} / {:.2}", f.as_secs_f64(), r.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "- {}: {runs}", result.description);
    }
    out
}
