//! `cargo xtask gen [--check]`: generated files, written or checked.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The repository root (xtask lives one level below it).
///
/// Read at run time first: `cargo run` sets `CARGO_MANIFEST_DIR`, and a binary reused from a
/// shared target directory may have been compiled in another checkout.
pub fn repo_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    Path::new(&manifest_dir)
        .parent()
        .expect("xtask lives inside the repository")
        .to_path_buf()
}

/// Every generated file: path relative to the repository root, and its contents.
pub fn generated_files() -> Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    for crd in ferroflux_api::crds() {
        let yaml = to_yaml(&crd.crd)?;
        files.push((PathBuf::from("config/crds").join(&crd.file_name), yaml));
    }
    files.extend(crate::install::generated_files()?);
    files.extend(merge_key_table()?);
    Ok(files)
}

/// Where the kustomize engine's strategic-merge table lives.
const MERGE_KEY_TABLE: &str = "crates/kustomize/src/smp/merge_keys.json";

/// The kustomize engine's patch-merge table, generated from the real API server's OpenAPI
/// document. It needs the control plane (`cargo xtask testenv up`); without it the committed
/// table is left alone, with a note. `cargo xtask ci` checks it after starting the plane.
fn merge_key_table() -> Result<Option<(PathBuf, String)>> {
    let Some(openapi) = crate::testenv::openapi_v2()? else {
        eprintln!(
            "gen: {MERGE_KEY_TABLE} not regenerated: the control plane is not running (cargo xtask testenv up)"
        );
        return Ok(None);
    };
    Ok(Some((
        PathBuf::from(MERGE_KEY_TABLE),
        ferroflux_kustomize::generate_merge_key_table(&openapi),
    )))
}

pub fn to_yaml<T: serde::Serialize>(value: &T) -> Result<String> {
    let mut json = serde_json::to_value(value).context("serializing to JSON")?;
    integral_bounds(&mut json);
    let text = serde_saphyr::to_string(&json).context("serializing to YAML")?;
    Ok(format!("---\n{text}"))
}

/// The schema type stores numeric bounds as floats; whole numbers are written as integers
/// (`minimum: 0`, as Flux's CRDs have them) rather than `0.0`.
fn integral_bounds(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if matches!(key.as_str(), "minimum" | "maximum" | "multipleOf")
                    && let Some(number) = child.as_f64()
                    && number.fract() == 0.0
                    && number.abs() < 9.0e15
                {
                    #[expect(clippy::cast_possible_truncation, reason = "whole number below 2^53")]
                    let integer = number as i64;
                    *child = serde_json::Value::from(integer);
                } else {
                    integral_bounds(child);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_bounds),
        _ => {}
    }
}

pub fn run(check: bool) -> Result<()> {
    let root = repo_root();
    let mut stale = Vec::new();
    for (path, contents) in generated_files()? {
        let full = root.join(&path);
        let current = std::fs::read_to_string(&full).unwrap_or_default();
        if current == contents {
            continue;
        }
        if check {
            let diff = similar::TextDiff::from_lines(&current, &contents);
            eprintln!(
                "--- {} (committed)\n+++ {} (generated)",
                path.display(),
                path.display()
            );
            eprint!("{}", diff.unified_diff().context_radius(3));
            stale.push(path);
        } else {
            if let Some(dir) = full.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&full, contents)
                .with_context(|| format!("writing {}", full.display()))?;
            println!("wrote {}", path.display());
        }
    }
    if !stale.is_empty() {
        bail!(
            "{} generated file(s) are out of date; run `cargo xtask gen` and commit: {}",
            stale.len(),
            stale
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}
