//! Running a controller binary of this workspace against the test cluster.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("binding a free loopback port")
        .local_addr()
        .expect("a bound address")
        .port()
}

/// The path of a workspace binary built next to the running test executable (cargo builds
/// every binary of the workspace before `cargo test --workspace` runs a test).
pub fn binary(name: &str) -> PathBuf {
    let executable = std::env::current_exe().expect("the test executable path");
    let profile_dir = executable
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "binary {} is missing: build it first (`cargo build -p {name}`), or run the whole suite with `cargo test --workspace`",
        path.display()
    );
    path
}

/// A controller process that is killed when dropped; its logs go to a file.
pub struct ControllerProcess {
    child: Child,
    log: PathBuf,
}

impl ControllerProcess {
    /// Starts `binary` with `args`, watching only `namespace` (its RUNTIME_NAMESPACE),
    /// with metrics and health on ephemeral loopback ports.
    pub fn start(binary: &Path, namespace: &str, args: &[String], log: PathBuf) -> Self {
        let child = Command::new(binary)
            .args([
                "--watch-all-namespaces=false",
                "--metrics-addr=127.0.0.1:0",
                "--health-addr=127.0.0.1:0",
                "--log-level=debug",
            ])
            .args(args)
            .env("RUNTIME_NAMESPACE", namespace)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("creating the controller log"))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        Self { child, log }
    }

    /// The controller's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Where the log is written.
    pub fn log_path(&self) -> &Path {
        &self.log
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
