//! Builds and runs the Go reference program (conformance/gorender) with the machine's Go
//! toolchain. The binary is cached under /root/.cache/ferroflux/gorender/, keyed by a hash
//! of its sources, so it is rebuilt only when main.go or go.mod change.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cases::{Case, Outcome};

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/gorender")
}

/// Whether a Go toolchain is on PATH.
pub fn available() -> bool {
    Command::new("go")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Path of the built reference binary, building it when its sources changed.
pub fn binary() -> PathBuf {
    let dir = source_dir();
    let mut hasher = DefaultHasher::new();
    for file in ["main.go", "go.mod"] {
        std::fs::read(dir.join(file))
            .expect("gorender sources are readable")
            .hash(&mut hasher);
    }
    let cache = PathBuf::from("/root/.cache/ferroflux/gorender");
    let binary = cache.join(format!("gorender-{:016x}", hasher.finish()));
    if binary.exists() {
        return binary;
    }
    std::fs::create_dir_all(&cache).expect("cache directory can be created");
    // Build to a unique name and rename, so concurrent test binaries never see half a file.
    let temporary = cache.join(format!("gorender-tmp-{}", std::process::id()));
    let status = Command::new("go")
        .args(["build", "-o"])
        .arg(&temporary)
        .arg(".")
        .current_dir(&dir)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .status()
        .expect("go build can start");
    assert!(status.success(), "go build of gorender failed");
    std::fs::rename(&temporary, &binary).expect("built binary can be moved into the cache");
    binary
}

/// Runs every case through Go's text/template.
pub fn run(cases: &[Case]) -> Vec<Outcome> {
    let mut child = Command::new(binary())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gorender can start");
    let mut input = String::new();
    for case in cases {
        input.push_str(&case.to_go_json());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || {
        stdin
            .write_all(input.as_bytes())
            .expect("gorender reads its input");
    });
    let output = child.wait_with_output().expect("gorender runs");
    writer.join().expect("writer thread finishes");
    assert!(output.status.success(), "gorender failed");
    let text = String::from_utf8(output.stdout).expect("gorender writes UTF-8");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("gorender writes JSON lines"))
        .collect()
}
