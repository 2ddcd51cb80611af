//! `cargo xtask bench <suite>`: benchmarks that run ferroflux side by side with a reference
//! implementation in one run and print time ratios and peak memory.
//!
//! These are not timed tests: they never fail on numbers, they report them (and record them
//! in `docs/benchmarks.md`).

mod cluster;
mod helmreleases;
mod kustomizations;
mod receiver;
mod repos;
mod rollout;
mod source;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::generate::repo_root;

#[derive(Subcommand, Clone)]
pub enum Suite {
    /// helm-controller: N HelmReleases of podinfo from one HelmRepository, time until all
    /// are Ready and the controllers' peak memory.
    Helmreleases {
        /// How many HelmReleases (repeat for several measurements).
        #[arg(long, default_values_t = [100, 1000])]
        count: Vec<usize>,
        /// The helm-controller's `--concurrent`.
        #[arg(long, default_value_t = 10)]
        concurrent: u16,
        /// The source-controller's `--concurrent`.
        #[arg(long, default_value_t = 10)]
        source_concurrent: u16,
        /// Also create the same Deployments and Services directly, without the controllers,
        /// and time their rollout (what the control plane alone needs).
        #[arg(long)]
        baseline: bool,
        /// Do not write the results into docs/benchmarks.md.
        #[arg(long)]
        no_doc: bool,
    },
    /// kustomize-controller: N Kustomizations applying podinfo from one GitRepository,
    /// time until all are Ready and the controllers' peak memory.
    Kustomizations {
        /// How many Kustomizations (repeat for several measurements).
        #[arg(long, default_values_t = [100, 1000])]
        count: Vec<usize>,
        /// The kustomize-controller's `--concurrent`.
        #[arg(long, default_value_t = 10)]
        concurrent: u16,
        /// Do not write the results into docs/benchmarks.md.
        #[arg(long)]
        no_doc: bool,
    },
    /// notification-controller: a signed webhook to the Kustomization applying the pushed
    /// commit (Receiver → GitRepository → Kustomization), per round.
    Receiver {
        /// How many commits to push and measure.
        #[arg(long, default_value_t = 10)]
        rounds: usize,
        /// Do not write the results into docs/benchmarks.md.
        #[arg(long)]
        no_doc: bool,
    },
    /// source-controller: GitRepository to tar.gz artifact, against `git clone --depth 1`
    /// + `tar czf`.
    Source {
        /// Measurements per repository (interleaved ferroflux/reference); the median time and
        /// the highest peak RSS are reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Do not write the results into docs/benchmarks.md.
        #[arg(long)]
        no_doc: bool,
    },
}

pub fn run(suite: Suite) -> Result<()> {
    match suite {
        Suite::Helmreleases {
            count,
            concurrent,
            source_concurrent,
            baseline,
            no_doc,
        } => helmreleases::run(
            &count,
            helmreleases::Settings {
                helm_concurrent: concurrent,
                source_concurrent,
                baseline,
            },
            !no_doc,
        ),
        Suite::Kustomizations {
            count,
            concurrent,
            no_doc,
        } => kustomizations::run(&count, concurrent, !no_doc),
        Suite::Receiver { rounds, no_doc } => receiver::run(rounds.max(1), !no_doc),
        Suite::Source { runs, no_doc } => source::run(runs.max(1), !no_doc),
    }
}

/// Builds `package` in release mode (respecting `CARGO_TARGET_DIR`) and returns the path of
/// its binary `bin`.
fn build_release(package: &str, bin: &str) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("bench: cargo build --release -p {package}");
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", package])
        .current_dir(repo_root())
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p {package} failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo_root().join("target"), PathBuf::from);
    let target = if target.is_relative() {
        repo_root().join(target)
    } else {
        target
    };
    let path = target.join("release").join(bin);
    if !path.is_file() {
        bail!("{} was not built", path.display());
    }
    Ok(path)
}

/// `(VmHWM, VmRSS)` of a running process, in KiB.
fn process_memory_kib(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let field = |name: &str| -> Result<u64> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no {name} in /proc/{pid}/status"))
    };
    Ok((field("VmHWM:")?, field("VmRSS:")?))
}

/// How the running test control plane's kube-controller-manager is set up (read from its
/// command line): its client limits decide how fast Deployments roll out next to the
/// controllers under test on the same CPUs.
fn controller_manager_profile() -> String {
    let raised = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        .find(|cmdline| cmdline.contains("kube-controller-manager"))
        .map(|cmdline| cmdline.contains("--kube-api-qps=500"));
    match raised {
        Some(true) => {
            "kube-controller-manager with raised limits (500 requests/s, 20 Deployment and \
             ReplicaSet workers; `cargo xtask testenv up`)"
                .to_owned()
        }
        Some(false) => "kube-controller-manager with Kubernetes' default limits (20 requests/s, 5 \
             workers per kind; `FERROFLUX_TESTENV_KCM_DEFAULTS=1 cargo xtask testenv up`)"
            .to_owned(),
        None => "kube-controller-manager not found".to_owned(),
    }
}

/// The machine, as recorded next to the numbers: CPU count, model and memory.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let memory_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    format!(
        "{cpus} CPUs (nproc), {model}, {:.1} GiB memory",
        mib(memory_kib) / 1024.0
    )
}

/// Today's date (UTC), `YYYY-MM-DD`.
fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|date| !date.is_empty())
        .unwrap_or_else(|| "unknown date".to_owned())
}

/// KiB to MiB, for display.
fn mib(kib: u64) -> f64 {
    f64::from(u32::try_from(kib).unwrap_or(u32::MAX)) / 1024.0
}

/// Bytes to MiB, for display.
fn mib_bytes(bytes: u64) -> f64 {
    mib(bytes / 1024)
}

/// Replaces the generated block of `section` in docs/benchmarks.md (between the begin/end
/// markers), creating the file, the section or the block as needed. Text written by hand in
/// the section, outside the markers, is kept.
fn update_doc(section: &str, marker: &str, block: &str) -> Result<PathBuf> {
    let path = repo_root().join("docs/benchmarks.md");
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        "# Benchmarks\n\nferroflux side by side with reference implementations, measured by \
         `cargo xtask bench <suite>` on one machine in one run. Each suite rewrites only the \
         block between its `<!-- bench:... -->` markers.\n"
            .to_owned()
    });
    let begin = format!("<!-- bench:{marker}:begin -->");
    let end = format!("<!-- bench:{marker}:end -->");
    let generated = format!("{begin}\n{}\n{end}", block.trim_end());
    if let (Some(start), Some(stop)) = (text.find(&begin), text.find(&end))
        && start < stop
    {
        text.replace_range(start..stop + end.len(), &generated);
    } else if let Some(heading) = text.find(&format!("\n{section}\n")) {
        // The section exists without a block: put the block at the end of the section.
        let body = heading + section.len() + 2;
        let next = text[body..]
            .find("\n## ")
            .map_or(text.len(), |i| body + i + 1);
        text.insert_str(next, &format!("{generated}\n\n"));
    } else {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let _ = write!(text, "\n{section}\n\n{generated}\n");
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
