//! Benchmark: load a large Helm repository index the way the HelmRepository reconciler
//! does (parse, validate, sort, write Go-style JSON) and report time and peak memory.
//!
//! `cargo run --release -p source-controller --example bench_helm_index [MiB]` generates a
//! Bitnami-like `index.yaml` (many charts × many versions, default 26 MiB), then re-runs
//! itself on that file in a fresh process so the peak RSS (`VmHWM`) covers the load only.

#[path = "../src/helm/fast_yaml.rs"]
mod fast_yaml;
#[path = "../src/helm/index.rs"]
#[expect(dead_code, reason = "the benchmark uses part of the module")]
mod index;

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--load") {
        return load(&args[2]);
    }
    let mib: usize = args.get(1).map_or(Ok(26), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("index.yaml");
    let size = generate(&path, mib << 20)?;
    println!("generated {} ({} MiB)", path.display(), size >> 20);
    let status = std::process::Command::new(std::env::current_exe()?)
        .arg("--load")
        .arg(&path)
        .status()?;
    anyhow::ensure!(status.success(), "load run failed: {status}");
    Ok(())
}

/// Writes charts of 60 versions each until the file reaches `target` bytes.
fn generate(path: &std::path::Path, target: usize) -> anyhow::Result<usize> {
    let mut out = String::with_capacity(target + 4096);
    out.push_str("apiVersion: v1\nentries:\n");
    let mut chart = 0;
    while out.len() < target {
        // Generators write map keys sorted, as go-yaml does.
        let _ = writeln!(out, "  chart-{chart:04}:");
        for version in 0..60 {
            if out.len() >= target {
                break;
            }
            write_version(&mut out, chart, version);
        }
        chart += 1;
    }
    out.push_str("generated: \"2024-05-01T10:00:00.123456789Z\"\n");
    std::fs::File::create(path)?.write_all(out.as_bytes())?;
    Ok(out.len())
}

fn write_version(out: &mut String, chart: usize, version: usize) {
    let chart = format!("{chart:04}");
    let seed = chart.parse::<usize>().unwrap_or_default();
    let (major, minor, patch) = (version / 20 + 1, (version / 5) % 4, version % 5);
    let _ = write!(
        out,
        "  - annotations:
      category: Infrastructure
      images: |
        - name: chart-{chart}
          image: docker.io/bitnami/chart-{chart}:{major}.{minor}.{patch}-debian-12-r{version}
        - name: os-shell
          image: docker.io/bitnami/os-shell:12-debian-12-r{version}
      licenses: Apache-2.0
    apiVersion: v2
    appVersion: {major}.{minor}.{patch}
    created: \"2024-0{m}-1{d}T0{d}:12:34.56789{d}+00:00\"
    dependencies:
    - name: common
      repository: oci://registry-1.docker.io/bitnamicharts
      tags:
      - bitnami-common
      version: 2.x.x
    description: Chart {chart} is a widely used piece of infrastructure software, packaged by Bitnami for Kubernetes with sensible defaults.
    digest: {digest:064x}
    home: https://bitnami.com
    icon: https://bitnami.com/assets/stacks/chart-{chart}/img/chart-{chart}-stack-220x234.png
    keywords:
    - chart-{chart}
    - infrastructure
    maintainers:
    - name: Broadcom, Inc. All Rights Reserved.
      url: https://github.com/bitnami/charts
    name: chart-{chart}
    sources:
    - https://github.com/bitnami/charts/tree/main/bitnami/chart-{chart}
    urls:
    - https://charts.bitnami.com/bitnami/chart-{chart}-{major}.{minor}.{patch}.tgz
    version: {major}.{minor}.{patch}
",
        m = version % 9 + 1,
        d = version % 10,
        digest = (seed * 1000 + version) as u128 * 0x9e37_79b9_7f4a_7c15,
    );
}

fn load(path: &str) -> anyhow::Result<()> {
    if std::env::var_os("BENCH_PHASES").is_some() {
        phases(path)?;
    }
    let started = Instant::now();
    let bytes = std::fs::read(path)?;
    let read = started.elapsed();
    let mut out = std::io::BufWriter::new(tempfile::tempfile()?);
    let versions = index::convert_to_json(bytes, &mut out)?;
    out.flush()?;
    let converted = started.elapsed();
    println!(
        "{versions} chart versions: read {read:.2?}, parsed+validated+sorted+JSON written {:.2?} (total {converted:.2?}); peak RSS {} MiB",
        converted.saturating_sub(read),
        peak_rss_kib() / 1024
    );
    Ok(())
}

/// The process's peak resident set size (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or_default()
}

/// Times the fast YAML-to-JSON pass and the typed read separately (diagnostics).
fn phases(path: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let started = Instant::now();
    let json = fast_yaml::to_json(&text);
    let converted = started.elapsed();
    let Some(json) = json else {
        println!("fast path refused the document");
        return Ok(());
    };
    println!(
        "fast path: {converted:.2?}, JSON {} MiB, RSS now {} MiB",
        json.len() >> 20,
        rss_kib("VmRSS:") / 1024
    );
    drop(text);
    let typed: Result<index::IndexFile, _> = serde_json::from_str(&json);
    println!(
        "typed read: {:.2?} ({}), RSS now {} MiB",
        started.elapsed().saturating_sub(converted),
        typed.is_ok(),
        rss_kib("VmRSS:") / 1024
    );
    Ok(())
}

fn rss_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or_default()
}
