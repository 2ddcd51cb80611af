//! Reference tools built from their Go modules by the scripts in `hack/` and cached
//! outside the checkout (`hack/install-deps.sh` builds them; `cargo xtask ci` runs it).

use std::path::PathBuf;

/// The version `hack/build-helm.sh` builds by default.
const HELM_VERSION: &str = "v3.19.0";

/// The cache the `hack/` scripts write to: `$FERROFLUX_CACHE`, else `~/.cache/ferroflux`.
fn cache_dir() -> PathBuf {
    std::env::var_os("FERROFLUX_CACHE").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".cache/ferroflux")
        },
        PathBuf::from,
    )
}

/// The reference helm CLI: `$FERROFLUX_HELM`, else the binary `hack/build-helm.sh` cached.
/// `None` when neither exists.
pub fn find_helm() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FERROFLUX_HELM") {
        return Some(PathBuf::from(path));
    }
    let path = cache_dir().join(format!("tools/helm-{HELM_VERSION}-release/helm"));
    path.exists().then_some(path)
}

/// [`find_helm`], or a panic telling how to build it (tests never skip silently).
pub fn helm() -> PathBuf {
    find_helm().unwrap_or_else(|| {
        panic!(
            "the reference helm is not built: run `hack/build-helm.sh` (or `hack/install-deps.sh`), \
             or point FERROFLUX_HELM at a helm {HELM_VERSION} binary"
        )
    })
}

/// The reference cosign: `$FERROFLUX_COSIGN`, else the one built (once, then cached) by
/// `hack/build-cosign.sh`; the source-controller tests sign artifacts and charts with it.
/// Panics with the script's output when it cannot be built (tests never skip silently).
pub fn cosign() -> PathBuf {
    if let Some(path) = std::env::var_os("FERROFLUX_COSIGN") {
        return PathBuf::from(path);
    }
    let script = crate::repo_root().join("hack/build-cosign.sh");
    let output = std::process::Command::new("bash")
        .arg(&script)
        .output()
        .expect("running hack/build-cosign.sh");
    assert!(
        output.status.success(),
        "hack/build-cosign.sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}
