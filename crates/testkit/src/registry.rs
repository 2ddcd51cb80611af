//! A real OCI registry on loopback for the OCIRepository (and OCI HelmRepository) tests.
//!
//! [`Registry::start`] runs Debian's `docker-registry` (the CNCF distribution registry, from
//! `hack/install-deps.sh`) on a free 127.0.0.1 port with a generated config: filesystem
//! storage in a temporary directory, htpasswd basic auth (user [`Registry::username`]) unless
//! [`RegistryOptions::anonymous`], and TLS with a fresh test CA when
//! [`RegistryOptions::tls`]. Dropping it stops exactly the process it started and removes
//! the directory.

use std::fmt::Write as _;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const USERNAME: &str = "flux";
const PASSWORD: &str = "oci-s3cret";
const BINARY: &str = "/usr/bin/docker-registry";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
const INSTALL_HINT: &str = "run `hack/install-deps.sh` (docker-registry apache2-utils openssl)";

/// How to run the registry.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegistryOptions {
    /// No authentication at all.
    pub anonymous: bool,
    /// Serve HTTPS with a certificate for 127.0.0.1/localhost from a test CA.
    pub tls: bool,
}

/// A running `docker-registry`.
pub struct Registry {
    child: Child,
    port: u16,
    options: RegistryOptions,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry and waits until it answers. Panics with its log when it does not.
    pub fn start(options: RegistryOptions) -> Self {
        let mut failures = String::new();
        for attempt in 1..=3 {
            match Self::try_start(options) {
                Ok(registry) => return registry,
                Err(error) => {
                    let _ = writeln!(failures, "attempt {attempt}: {error}");
                }
            }
        }
        panic!("the loopback OCI registry did not start:\n{failures}");
    }

    fn try_start(options: RegistryOptions) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("ferroflux-registry-")
            .tempdir()
            .map_err(|e| format!("creating a temporary directory: {e}"))?;
        let root = dir.path();
        let port = crate::controller::free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: {:032x}\n",
            root.join("data").display(),
            rand::random::<u128>()
        );
        if options.tls {
            crate::git_server::generate_pki(root)?;
            let _ = write!(
                config,
                "  tls:\n    certificate: {}\n    key: {}\n",
                root.join("server.crt").display(),
                root.join("server.key").display()
            );
        }
        if !options.anonymous {
            run(Command::new("htpasswd")
                .arg("-bcB")
                .arg(root.join("htpasswd"))
                .args([USERNAME, PASSWORD]))?;
            let _ = write!(
                config,
                "auth:\n  htpasswd:\n    realm: ferroflux-registry\n    path: {}\n",
                root.join("htpasswd").display()
            );
        }
        let config_path = root.join("config.yml");
        fs::write(&config_path, config).map_err(|e| format!("writing config.yml: {e}"))?;
        let log = root.join("registry.log");
        let output = fs::File::create(&log).map_err(|e| format!("creating the log: {e}"))?;
        let errors = output.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("starting {BINARY}: {e}; {INSTALL_HINT}"))?;
        let mut registry = Self {
            child,
            port,
            options,
            dir,
        };
        registry.wait_ready(&log)?;
        Ok(registry)
    }

    fn wait_ready(&mut self, log: &Path) -> Result<(), String> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = fs::read_to_string(log).unwrap_or_default();
                return Err(format!("docker-registry exited with {status}:\n{log}"));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let log = fs::read_to_string(log).unwrap_or_default();
                return Err(format!("docker-registry not ready:\n{log}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `oci://127.0.0.1:<port>/<repository>`.
    pub fn url(&self, repository: &str) -> String {
        format!("oci://{}/{repository}", self.host())
    }

    /// The htpasswd user.
    pub fn username(&self) -> &'static str {
        USERNAME
    }

    /// The htpasswd password.
    pub fn password(&self) -> &'static str {
        PASSWORD
    }

    /// Whether the registry serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.options.tls
    }

    /// The test CA (PEM) that issued the server certificate; empty without TLS.
    pub fn ca_pem(&self) -> String {
        fs::read_to_string(self.dir.path().join("ca.crt")).unwrap_or_default()
    }

    /// A `.dockerconfigjson` document with this registry's credentials (or `password`
    /// instead of the right one).
    pub fn docker_config_json(&self, password: &str) -> String {
        let auth = base64_encode(format!("{USERNAME}:{password}").as_bytes());
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, self.host())
    }

    /// The registry's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// The process id of the registry.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The temporary directory holding config, data and keys.
    pub fn root(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Stops a child started in its own process group: TERM, then KILL after 5 s.
pub(crate) fn stop(child: &mut Child) {
    if matches!(child.try_wait(), Ok(None)) {
        signal_group("TERM", child.id());
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if matches!(child.try_wait(), Ok(None)) {
            signal_group("KILL", child.id());
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal_group(signal: &str, leader: u32) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{leader}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn run(command: &mut Command) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|e| format!("running {command:?}: {e}; {INSTALL_HINT}"))?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Standard base64 with padding (the testkit has no base64 dependency).
fn base64_encode(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(super::base64_encode(b"flux:hunter2"), "Zmx1eDpodW50ZXIy");
        assert_eq!(super::base64_encode(b"a"), "YQ==");
        assert_eq!(super::base64_encode(b"ab"), "YWI=");
    }
}
