//! A Helm chart repository on loopback for the source-controller tests.
//!
//! [`HelmRepoServer::start`] issues a test CA and a server certificate (SANs `127.0.0.1`,
//! `localhost`) and an htpasswd file, then runs `nginx` serving one directory of static
//! files over HTTP and HTTPS, twice: at `/public/` without auth and at `/auth/` with basic
//! auth. [`HelmRepoServer::add_chart`] drops a packaged chart in and rewrites `index.yaml`
//! (relative chart URLs, like `helm repo index`). Dropping the server stops nginx (its
//! process group, TERM then KILL) and removes the directory. Packages come from
//! `hack/install-deps.sh` (nginx-light, apache2-utils, openssl).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const USERNAME: &str = "helm";
const PASSWORD: &str = "chart-s3cret";
const INSTALL_HINT: &str = "run `hack/install-deps.sh` (nginx-light apache2-utils openssl)";

const NGINX: &str = r#"# Written by ferroflux-testkit's HelmRepoServer.
@USER@
worker_processes 1;
pid @ROOT@/nginx.pid;
error_log @ROOT@/nginx-error.log;
daemon off;
events { worker_connections 256; }
http {
  access_log @ROOT@/nginx-access.log;
  client_body_temp_path @ROOT@/tmp;
  proxy_temp_path @ROOT@/tmp;
  fastcgi_temp_path @ROOT@/tmp;
  uwsgi_temp_path @ROOT@/tmp;
  scgi_temp_path @ROOT@/tmp;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:@HTTP_PORT@;
    listen 127.0.0.1:@HTTPS_PORT@ ssl;
    ssl_certificate @ROOT@/pki/server.crt;
    ssl_certificate_key @ROOT@/pki/server.key;
    location /public/ {
      alias @ROOT@/www/;
    }
    location /auth/ {
      auth_basic "charts";
      auth_basic_user_file @ROOT@/htpasswd;
      alias @ROOT@/www/;
    }
  }
}
"#;

/// Static Helm repository over HTTP(S) on loopback.
pub struct HelmRepoServer {
    dir: tempfile::TempDir,
    http_port: u16,
    https_port: u16,
    nginx: Child,
    charts: Mutex<BTreeMap<(String, String), String>>,
}

impl HelmRepoServer {
    /// Starts nginx and waits until both ports answer. Panics with nginx's log on failure.
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
        panic!("the loopback Helm repository did not start:\n{failures}");
    }

    fn try_start() -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("ferroflux-helm-")
            .tempdir()
            .map_err(|e| format!("creating a temporary directory: {e}"))?;
        let root = dir.path().to_path_buf();
        for sub in ["www", "pki", "tmp"] {
            fs::create_dir_all(root.join(sub)).map_err(|e| format!("mkdir {sub}: {e}"))?;
        }
        crate::git_server::generate_pki(&root.join("pki"))?;
        run(Command::new("htpasswd")
            .arg("-bcB")
            .arg(root.join("htpasswd"))
            .args([USERNAME, PASSWORD]))?;
        let [http_port, https_port] = free_ports();
        let as_root = fs::metadata(&root).map_err(|e| e.to_string())?.uid() == 0;
        let config = NGINX
            .replace("@USER@", if as_root { "user root;" } else { "" })
            .replace("@ROOT@", &root.display().to_string())
            .replace("@HTTP_PORT@", &http_port.to_string())
            .replace("@HTTPS_PORT@", &https_port.to_string());
        fs::write(root.join("nginx.conf"), config).map_err(|e| e.to_string())?;
        let log = fs::File::create(root.join("nginx.log")).map_err(|e| e.to_string())?;
        let nginx = Command::new("nginx")
            .arg("-c")
            .arg(root.join("nginx.conf"))
            .arg("-e")
            .arg(root.join("nginx-error.log"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("starting nginx: {e}; {INSTALL_HINT}"))?;
        let mut server = Self {
            dir,
            http_port,
            https_port,
            nginx,
            charts: Mutex::new(BTreeMap::new()),
        };
        server.wait_ready()?;
        server.write_index()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let pid = self.nginx.id().to_string();
        let pid_file = self.root().join("nginx.pid");
        loop {
            if let Ok(Some(status)) = self.nginx.try_wait() {
                let log =
                    fs::read_to_string(self.root().join("nginx-error.log")).unwrap_or_default();
                return Err(format!("nginx exited with {status}:\n{log}"));
            }
            let ports_up = [self.http_port, self.https_port].iter().all(|port| {
                TcpStream::connect_timeout(
                    &SocketAddr::from((Ipv4Addr::LOCALHOST, *port)),
                    Duration::from_millis(200),
                )
                .is_ok()
            });
            let ours = fs::read_to_string(&pid_file).is_ok_and(|p| p.trim() == pid);
            if ports_up && ours {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err("nginx did not become ready".to_owned());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Adds (or replaces) `<name>-<version>.tgz` and rewrites `index.yaml`.
    pub fn add_chart(&self, name: &str, version: &str, package: &[u8]) {
        let file = format!("{name}-{version}.tgz");
        fs::write(self.root().join("www").join(&file), package).expect("writing the chart");
        self.charts
            .lock()
            .expect("the chart list lock")
            .insert((name.to_owned(), version.to_owned()), file);
        self.write_index().expect("writing index.yaml");
    }

    /// Replaces `index.yaml` with `content` (for broken-index tests).
    pub fn set_raw_index(&self, content: &[u8]) {
        fs::write(self.root().join("www/index.yaml"), content).expect("writing index.yaml");
    }

    /// Writes a file next to the index (for example an oversized chart).
    pub fn put_file(&self, name: &str, content: &[u8]) {
        fs::write(self.root().join("www").join(name), content).expect("writing a file");
    }

    fn write_index(&self) -> Result<(), String> {
        let charts = self.charts.lock().expect("the chart list lock").clone();
        let mut by_name: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for ((name, version), file) in &charts {
            by_name.entry(name).or_default().push((version, file));
        }
        let mut index = String::from("apiVersion: v1\nentries:\n");
        if by_name.is_empty() {
            index = String::from("apiVersion: v1\nentries: {}\n");
        }
        for (name, versions) in by_name {
            let _ = writeln!(index, "  {name}:");
            for (version, file) in versions {
                let _ = write!(
                    index,
                    "  - apiVersion: v2\n    name: {name}\n    version: {version}\n    \
                     created: \"2024-01-01T00:00:00Z\"\n    urls:\n    - {file}\n"
                );
            }
        }
        index.push_str("generated: \"2024-01-01T00:00:00Z\"\n");
        fs::write(self.root().join("www/index.yaml"), index).map_err(|e| e.to_string())
    }

    /// `http://127.0.0.1:<port>/public` (no auth) or `/auth` (basic auth).
    pub fn http_url(&self, auth: bool) -> String {
        format!(
            "http://127.0.0.1:{}/{}",
            self.http_port,
            if auth { "auth" } else { "public" }
        )
    }

    /// The same over HTTPS (certificate signed by [`Self::ca_pem`]).
    pub fn https_url(&self, auth: bool) -> String {
        format!(
            "https://127.0.0.1:{}/{}",
            self.https_port,
            if auth { "auth" } else { "public" }
        )
    }

    /// The basic-auth user.
    pub fn username(&self) -> &'static str {
        USERNAME
    }

    /// The basic-auth password.
    pub fn password(&self) -> &'static str {
        PASSWORD
    }

    /// The test CA certificate (PEM).
    pub fn ca_pem(&self) -> String {
        fs::read_to_string(self.root().join("pki/ca.crt")).expect("the CA was generated")
    }

    /// The directory served.
    pub fn www(&self) -> PathBuf {
        self.root().join("www")
    }
}

impl Drop for HelmRepoServer {
    fn drop(&mut self) {
        if matches!(self.nginx.try_wait(), Ok(None)) {
            signal_group("TERM", self.nginx.id());
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.nginx.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if matches!(self.nginx.try_wait(), Ok(None)) {
                signal_group("KILL", self.nginx.id());
                let _ = self.nginx.kill();
                let _ = self.nginx.wait();
            }
        }
    }
}

fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free loopback port"))
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().expect("an address").port())
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
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {command:?}: {e}; {INSTALL_HINT}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{command:?} failed with {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
