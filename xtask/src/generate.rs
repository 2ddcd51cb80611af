//! `cargo xtask gen [--check]`: generated files, written or checked.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The repository root (xtask lives one level below it).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
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
    Ok(files)
}

fn to_yaml<T: serde::Serialize>(value: &T) -> Result<String> {
    let text = serde_saphyr::to_string(value).context("serializing to YAML")?;
    Ok(format!("---\n{text}"))
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
