//! Archive benchmark: a generated tree (default 10,000 files, ~100 MB of YAML-like text)
//! archived by `Storage::archive` and by `tar czf` (the reference), each in its own child
//! process so wall time and peak RSS are measured the same way for both.
//!
//! Run: `cargo run --release -p ferroflux-artifact --example bench_archive [-- FILES TOTAL_MB]`

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use ferroflux_artifact::{NoFilter, Storage};
use nix::sys::resource::{UsageWho, getrusage};

const WORDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "labels",
    "spec",
    "replicas",
    "selector",
    "template",
    "containers",
    "image",
    "ports",
    "containerPort",
    "resources",
    "limits",
    "cpu",
    "memory",
    "env",
    "value",
    "podinfo",
    "flux-system",
    "Deployment",
    "Service",
    "ConfigMap",
    "true",
    "false",
    "app.kubernetes.io/name",
    "ghcr.io/stefanprodan",
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("measure") => measure(&args[1..]),
        Some("archive") => archive(Path::new(&args[1]), Path::new(&args[2])),
        _ => {
            let files = args
                .first()
                .map_or(Ok(10_000), |a| a.parse())
                .context("FILES")?;
            let total_mb = args
                .get(1)
                .map_or(Ok(100), |a| a.parse())
                .context("TOTAL_MB")?;
            run(files, total_mb)
        }
    }
}

/// Child mode: archive `source` into a storage rooted at `store`.
fn archive(source: &Path, store: &Path) -> Result<()> {
    let storage = Storage::new(store.to_path_buf(), "localhost:9090".into());
    let mut artifact = storage.artifact_for("GitRepository", "bench", "tree", "r", "bench.tar.gz");
    storage.archive(&mut artifact, source, &NoFilter)?;
    println!("{}", artifact.digest);
    Ok(())
}

/// Supervisor mode: runs one command and prints its wall time (s) and peak RSS (KiB). Being
/// a fresh process, its `RUSAGE_CHILDREN` covers exactly that command and its children
/// (gzip, for `tar czf`).
fn measure(command: &[String]) -> Result<()> {
    let start = Instant::now();
    let status = Command::new(&command[0])
        .args(&command[1..])
        .stdout(Stdio::null())
        .status()?;
    let elapsed = start.elapsed();
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN)?;
    println!("{} {}", elapsed.as_secs_f64(), usage.max_rss());
    Ok(())
}

fn run(files: usize, total_mb: usize) -> Result<()> {
    let work = tempfile::tempdir()?;
    let source = work.path().join("tree");
    let started = Instant::now();
    let bytes = generate(&source, files, total_mb << 20)?;
    println!(
        "tree: {files} files, {:.1} MB, generated in {:.1}s",
        megabytes(bytes as u64),
        started.elapsed().as_secs_f64()
    );
    let me = std::env::current_exe()?;
    let store = work.path().join("store");
    let reference = work.path().join("reference.tar.gz");
    let ours = supervise(
        &me,
        &[me.clone(), "archive".into(), source.clone(), store.clone()],
    )?;
    let tar = supervise(
        &me,
        &[
            "tar".into(),
            "czf".into(),
            reference.clone(),
            "-C".into(),
            source.clone(),
            ".".into(),
        ],
    )?;
    let ours_size = fs::metadata(store.join("gitrepository/bench/tree/bench.tar.gz"))?.len();
    let tar_size = fs::metadata(&reference)?.len();
    println!(
        "{:<28} {:>9} {:>13} {:>12}",
        "tool", "time (s)", "peak RSS (MB)", "output (MB)"
    );
    for (name, (secs, rss), size) in [
        ("ferroflux Storage::archive", ours, ours_size),
        ("tar czf", tar, tar_size),
    ] {
        println!(
            "{name:<28} {secs:>9.2} {:>13.1} {:>12.1}",
            rss / 1024.0,
            megabytes(size)
        );
    }
    println!(
        "ratio ferroflux/tar: time {:.2}x, peak RSS {:.2}x, size {:.3}x",
        ours.0 / tar.0,
        ours.1 / tar.1,
        megabytes(ours_size) / megabytes(tar_size)
    );
    Ok(())
}

#[expect(
    clippy::cast_precision_loss,
    reason = "byte counts of a benchmark are far below 2^52"
)]
fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn supervise(me: &Path, command: &[PathBuf]) -> Result<(f64, f64)> {
    let output = Command::new(me).arg("measure").args(command).output()?;
    if !output.status.success() {
        bail!("{}", String::from_utf8_lossy(&output.stderr));
    }
    let text = String::from_utf8(output.stdout)?;
    let mut parts = text.split_whitespace();
    let secs = parts.next().context("time")?.parse()?;
    let rss = parts.next().context("rss")?.parse()?;
    Ok((secs, rss))
}

/// Writes `files` files of YAML-like text totalling about `total` bytes, 100 per directory
/// in a two-level layout, and returns the bytes written.
fn generate(root: &Path, files: usize, total: usize) -> Result<usize> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64: deterministic, dependency-free pseudo-random numbers.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let average = total / files.max(1);
    let mut written = 0;
    for index in 0..files {
        let dir = root.join(format!("d{:02}/s{:02}", index / 1000, (index / 100) % 10));
        fs::create_dir_all(&dir)?;
        let target = average / 2 + usize::try_from(next() % average.max(1) as u64)?;
        let mut text = String::with_capacity(target + 64);
        while text.len() < target {
            let word = WORDS[usize::try_from(next() % WORDS.len() as u64)?];
            let indent = "  ".repeat(usize::try_from(next() % 4)?);
            writeln!(text, "{indent}{word}: {word}-{}", next() % 100_000)?;
        }
        fs::write(dir.join(format!("f{index:05}.yaml")), &text)?;
        written += text.len();
    }
    Ok(written)
}
