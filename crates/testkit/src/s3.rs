//! A real S3 API on loopback for the Bucket tests: moto's server.
//!
//! [`S3Server::start`] runs `moto_server -H 127.0.0.1 -p <free port>` from the virtualenv
//! `hack/install-deps.sh` creates under `~/.cache/ferroflux/moto-venv`. moto accepts any
//! access key pair. Buckets and objects are made with path-style, SigV4-signed requests through `curl`.
//! Dropping the server stops exactly the process it started.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const INSTALL_HINT: &str =
    "run `hack/install-deps.sh` (it installs moto[server] into ~/.cache/ferroflux/moto-venv)";

/// A running moto S3 server.
pub struct S3Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

/// The `moto_server` executable.
pub fn moto_server() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
    home.join(".cache/ferroflux/moto-venv/bin/moto_server")
}

impl S3Server {
    /// Starts moto and waits until it answers. Panics with its log when it does not.
    pub fn start() -> Self {
        let mut failures = String::new();
        for attempt in 1..=3 {
            match Self::try_start() {
                Ok(server) => return server,
                Err(error) => {
                    let _ = writeln!(failures, "attempt {attempt}: {error}");
                }
            }
        }
        panic!("the loopback S3 server did not start:\n{failures}");
    }

    fn try_start() -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("ferroflux-s3-")
            .tempdir()
            .map_err(|e| format!("creating a temporary directory: {e}"))?;
        let port = crate::controller::free_port();
        let log = dir.path().join("moto.log");
        let output = std::fs::File::create(&log).map_err(|e| format!("creating the log: {e}"))?;
        let errors = output.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("starting moto_server: {e}; {INSTALL_HINT}"))?;
        let mut server = Self { child, port, dir };
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "moto_server exited with {status}:\n{}",
                    server.log()
                ));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!("moto_server not ready:\n{}", server.log()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `127.0.0.1:<port>`, a Bucket's `spec.endpoint`.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Creates a bucket.
    pub fn create_bucket(&self, bucket: &str) {
        self.curl(&["-X", "PUT"], &format!("/{bucket}"), None);
    }

    /// Writes an object.
    pub fn put_object(&self, bucket: &str, key: &str, body: &[u8]) {
        self.curl(&["-X", "PUT"], &format!("/{bucket}/{key}"), Some(body));
    }

    /// Removes an object.
    pub fn delete_object(&self, bucket: &str, key: &str) {
        self.curl(&["-X", "DELETE"], &format!("/{bucket}/{key}"), None);
    }

    fn curl(&self, args: &[&str], path: &str, body: Option<&[u8]>) {
        let mut command = Command::new("curl");
        command
            .args(["-sS", "--fail-with-body"])
            // Signed: moto refuses anonymous overwrites of existing objects.
            .args([
                "--aws-sigv4",
                "aws:amz:us-east-1:s3",
                "--user",
                "AKIATESTKIT:testkit",
            ])
            .args(args)
            .arg(format!("http://{}{path}", self.endpoint()));
        let dir = self.dir.path().join("upload");
        if let Some(body) = body {
            std::fs::write(&dir, body).expect("writing the upload body");
            // Without an explicit type curl sends a form, which moto's server parses away.
            command
                .args([
                    "-H",
                    "Content-Type: application/octet-stream",
                    "--data-binary",
                ])
                .arg(format!("@{}", dir.display()));
        }
        let output = command.output().expect("running curl");
        assert!(
            output.status.success(),
            "curl {path} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// moto's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("moto.log")).unwrap_or_default()
    }

    /// The process id of moto.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        crate::registry::stop(&mut self.child);
    }
}
