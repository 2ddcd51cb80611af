//! Real Git servers on loopback for the source-controller tests.
//!
//! [`GitServer::start`] creates a temporary directory, issues a test CA with a server
//! certificate (SANs `127.0.0.1`, `localhost`), SSH host and client keys and an htpasswd file,
//! then starts three daemons on free loopback ports:
//!
//! - `fcgiwrap` running `git http-backend` behind `nginx`, which serves the same bare
//!   repositories over HTTP and HTTPS at `/git/` (basic auth), `/bearer/` (an
//!   `Authorization: Bearer` token), `/public/` (no auth) and `/mtls/` (HTTPS with a client
//!   certificate, [`GitServer::client_cert_pem`]);
//! - `sshd` with public-key auth only, for `ssh://` URLs with absolute repository paths.
//!
//! Dropping the server stops exactly the processes it started (their process groups, TERM then
//! KILL) and removes the directory. Ports are never fixed, so tests may run in parallel.
//! The Debian packages come from `hack/install-deps.sh`.

use std::fmt::Write as _;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod config;
mod keys;
mod repo;

pub(crate) use keys::generate_pki;
pub use repo::Repo;

const USERNAME: &str = "flux";
const PASSWORD: &str = "s3cret";
/// Startup retries cover the small chance that another process takes a port between our
/// probe and the daemon's bind.
const START_ATTEMPTS: usize = 3;
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const INSTALL_HINT: &str = "run `hack/install-deps.sh` (nginx-light fcgiwrap apache2-utils \
                            openssh-server openssl git)";

/// Git over HTTP(S) and SSH on loopback, serving the repositories made by [`Self::create_repo`].
pub struct GitServer {
    daemons: Vec<Daemon>,
    http_port: u16,
    https_port: u16,
    ssh_port: u16,
    ssh_user: String,
    bearer_token: String,
    dir: tempfile::TempDir,
}

/// A started daemon; it leads its own process group so workers stop with it.
struct Daemon {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl GitServer {
    /// Starts the servers and waits until every port accepts connections.
    ///
    /// Blocking (a second or less); panics with the daemons' logs when they do not start.
    pub fn start() -> Self {
        let mut failures = String::new();
        for attempt in 1..=START_ATTEMPTS {
            match Self::try_start() {
                Ok(server) => return server,
                Err(error) => {
                    let _ = writeln!(failures, "attempt {attempt}: {error}");
                }
            }
        }
        panic!("the loopback Git server did not start:\n{failures}");
    }

    fn try_start() -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("ferroflux-git-")
            .tempdir()
            .map_err(|e| format!("creating a temporary directory: {e}"))?;
        let [http_port, https_port, ssh_port] = free_loopback_ports();
        let mut server = Self {
            daemons: Vec::new(),
            http_port,
            https_port,
            ssh_port,
            ssh_user: run(Command::new("id").arg("-un"))?.trim().to_owned(),
            bearer_token: format!("{:032x}", rand::random::<u128>()),
            dir,
        };
        for sub in ["repos", "pki", "ssh", "http/tmp", "logs", "work"] {
            fs::create_dir_all(server.root().join(sub)).map_err(|e| format!("mkdir {sub}: {e}"))?;
        }
        keys::generate_pki(&server.root().join("pki"))?;
        keys::generate_client_cert(&server.root().join("pki"))?;
        keys::generate_ssh_keys(&server.root().join("ssh"), ssh_port)?;
        run(Command::new("htpasswd")
            .args(["-bcB"])
            .arg(server.root().join("http/htpasswd"))
            .args([USERNAME, PASSWORD]))?;
        server.start_http()?;
        server.start_ssh()?;
        Ok(server)
    }

    fn start_http(&mut self) -> Result<(), String> {
        let root = self.root().to_path_buf();
        let socket = root.join("http/fcgiwrap.sock");
        self.spawn(
            "fcgiwrap",
            Command::new("fcgiwrap")
                .args(["-c", "4", "-s"])
                .arg(format!("unix:{}", socket.display())),
        )?;
        self.wait_until("fcgiwrap", || socket.exists())?;

        // Workers of a root master would run as www-data, which cannot enter the 0700 temp dir.
        let owner_is_root = fs::metadata(&root).map_err(|e| e.to_string())?.uid() == 0;
        let nginx_conf = config::nginx(&config::Nginx {
            root: &root,
            http_port: self.http_port,
            https_port: self.https_port,
            bearer_token: &self.bearer_token,
            run_as_root: owner_is_root,
        });
        let conf_path = root.join("http/nginx.conf");
        fs::write(&conf_path, nginx_conf).map_err(|e| format!("writing nginx.conf: {e}"))?;
        self.spawn(
            "nginx",
            Command::new("nginx")
                .arg("-e")
                .arg(root.join("logs/nginx-error.log"))
                .arg("-p")
                .arg(root.join("http"))
                .arg("-c")
                .arg(&conf_path),
        )?;
        // nginx writes its pid file after binding, so a port answered by someone else is
        // not mistaken for ours.
        self.wait_for_pid_file("nginx", &root.join("http/nginx.pid"))?;
        self.wait_for_port("nginx", self.http_port)?;
        self.wait_for_port("nginx", self.https_port)
    }

    fn start_ssh(&mut self) -> Result<(), String> {
        let root = self.root().to_path_buf();
        // sshd running as root insists on its privilege-separation directory.
        let _ = fs::create_dir_all("/run/sshd");
        let conf_path = root.join("ssh/sshd_config");
        fs::write(&conf_path, config::sshd(&root, self.ssh_port))
            .map_err(|e| format!("writing sshd_config: {e}"))?;
        // sshd re-executes itself, which needs an absolute path.
        self.spawn(
            "sshd",
            Command::new("/usr/sbin/sshd")
                .args(["-D", "-e", "-f"])
                .arg(&conf_path),
        )?;
        self.wait_for_pid_file("sshd", &root.join("ssh/sshd.pid"))?;
        self.wait_for_port("sshd", self.ssh_port)
    }

    /// Creates an empty bare repository `<name>.git` (default branch `main`, pushes allowed
    /// over HTTP). `name` may contain `/` for nested paths.
    pub fn create_repo(&self, name: &str) -> Repo {
        Repo::create(self.root(), name)
    }

    /// The temporary directory holding repositories, keys, configs and logs.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `http://127.0.0.1:P/git/<name>.git`, behind basic auth ([`Self::username`],
    /// [`Self::password`]).
    pub fn http_url(&self, repo: &Repo) -> String {
        format!(
            "http://127.0.0.1:{}/git/{}.git",
            self.http_port,
            repo.name()
        )
    }

    /// `https://127.0.0.1:P/git/<name>.git`, basic auth; the certificate chains to
    /// [`Self::ca_pem`].
    pub fn https_url(&self, repo: &Repo) -> String {
        format!(
            "https://127.0.0.1:{}/git/{}.git",
            self.https_port,
            repo.name()
        )
    }

    /// `http://127.0.0.1:P/bearer/<name>.git`, which needs `Authorization: Bearer`
    /// [`Self::bearer_token`].
    pub fn bearer_url(&self, repo: &Repo) -> String {
        format!(
            "http://127.0.0.1:{}/bearer/{}.git",
            self.http_port,
            repo.name()
        )
    }

    /// The HTTPS variant of [`Self::bearer_url`].
    pub fn https_bearer_url(&self, repo: &Repo) -> String {
        format!(
            "https://127.0.0.1:{}/bearer/{}.git",
            self.https_port,
            repo.name()
        )
    }

    /// `https://127.0.0.1:P/mtls/<name>.git`, which answers 400 unless the TLS client presents
    /// [`Self::client_cert_pem`] (or another certificate issued by [`Self::ca_pem`]).
    pub fn mtls_url(&self, repo: &Repo) -> String {
        format!(
            "https://127.0.0.1:{}/mtls/{}.git",
            self.https_port,
            repo.name()
        )
    }

    /// A TLS client certificate (PEM) issued by [`Self::ca_pem`], for [`Self::mtls_url`].
    pub fn client_cert_pem(&self) -> String {
        self.read("pki/client.crt")
    }

    /// The PKCS#8 PEM private key of [`Self::client_cert_pem`].
    pub fn client_key_pem(&self) -> String {
        self.read("pki/client.key")
    }

    /// `http://127.0.0.1:P/public/<name>.git`, without authentication.
    pub fn public_url(&self, repo: &Repo) -> String {
        format!(
            "http://127.0.0.1:{}/public/{}.git",
            self.http_port,
            repo.name()
        )
    }

    /// `http://127.0.0.1:P/moved/<name>.git`: every request is redirected (301) to
    /// [`Self::public_url`], as for a repository that was renamed or moved.
    pub fn moved_url(&self, repo: &Repo) -> String {
        format!(
            "http://127.0.0.1:{}/moved/{}.git",
            self.http_port,
            repo.name()
        )
    }

    /// `ssh://<user>@127.0.0.1:P/<absolute path>/<name>.git`; the user is the one running the
    /// tests (root on CI), authenticated by [`Self::ssh_identity_pem`].
    pub fn ssh_url(&self, repo: &Repo) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.ssh_user,
            self.ssh_port,
            repo.path().display()
        )
    }

    /// The basic-auth user name.
    pub fn username(&self) -> &str {
        USERNAME
    }

    /// The basic-auth password.
    pub fn password(&self) -> &str {
        PASSWORD
    }

    /// Adds (or replaces) a basic-auth user of the `/git/` URLs; nginx reads the htpasswd
    /// file on every request, so it takes effect at once.
    pub fn add_user(&self, username: &str, password: &str) {
        run(Command::new("htpasswd")
            .args(["-bB"])
            .arg(self.root().join("http/htpasswd"))
            .args([username, password]))
        .expect("htpasswd adds a user");
    }

    /// The token accepted by the `/bearer/` URLs (random per server).
    pub fn bearer_token(&self) -> &str {
        &self.bearer_token
    }

    /// The test CA certificate (PEM) that signed the HTTPS certificate.
    pub fn ca_pem(&self) -> String {
        self.read("pki/ca.crt")
    }

    /// Path of [`Self::ca_pem`], e.g. for `GIT_SSL_CAINFO`.
    pub fn ca_path(&self) -> PathBuf {
        self.root().join("pki/ca.crt")
    }

    /// The client's OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`), ed25519.
    pub fn ssh_identity_pem(&self) -> String {
        self.read("ssh/client_ed25519")
    }

    /// The client's public key line (`ssh-ed25519 AAAA... comment`).
    pub fn ssh_identity_pub(&self) -> String {
        self.read("ssh/client_ed25519.pub")
    }

    /// Path of [`Self::ssh_identity_pem`] (mode 0600), for `ssh -i`.
    pub fn ssh_identity_path(&self) -> PathBuf {
        self.root().join("ssh/client_ed25519")
    }

    /// One line, `[127.0.0.1]:P ssh-ed25519 AAAA...`, as in Flux's `known_hosts` secret key.
    pub fn known_hosts(&self) -> String {
        self.read("ssh/known_hosts")
    }

    /// Path of [`Self::known_hosts`].
    pub fn known_hosts_path(&self) -> PathBuf {
        self.root().join("ssh/known_hosts")
    }

    /// A `GIT_SSH_COMMAND` value that authenticates with the client key and checks the host
    /// key strictly against [`Self::known_hosts`].
    pub fn git_ssh_command(&self) -> String {
        ssh_command(&self.ssh_identity_path(), &self.known_hosts_path())
    }

    /// The process ids of the daemons (fcgiwrap, nginx, sshd), each leading its process group.
    pub fn pids(&self) -> Vec<u32> {
        self.daemons.iter().map(|d| d.child.id()).collect()
    }

    fn read(&self, relative: &str) -> String {
        fs::read_to_string(self.root().join(relative))
            .unwrap_or_else(|e| panic!("{relative} is written by GitServer::start: {e}"))
    }

    fn spawn(&mut self, name: &'static str, command: &mut Command) -> Result<(), String> {
        let log = self.root().join(format!("logs/{name}.log"));
        let output = fs::File::create(&log).map_err(|e| format!("creating {name}.log: {e}"))?;
        let errors = output.try_clone().map_err(|e| e.to_string())?;
        let child = command
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("starting {name}: {e}; {INSTALL_HINT}"))?;
        self.daemons.push(Daemon { name, child, log });
        Ok(())
    }

    /// Polls `ready` while the daemon is alive; fails with its log when it exits or times out.
    fn wait_until(&mut self, name: &str, mut ready: impl FnMut() -> bool) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let daemon = self
                .daemons
                .iter_mut()
                .find(|d| d.name == name)
                .expect("a daemon is spawned before it is waited for");
            if let Ok(Some(status)) = daemon.child.try_wait() {
                let log = fs::read_to_string(&daemon.log).unwrap_or_default();
                return Err(format!("{name} exited with {status}:\n{log}"));
            }
            if ready() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let log = fs::read_to_string(&daemon.log).unwrap_or_default();
                return Err(format!(
                    "{name} not ready after {STARTUP_TIMEOUT:?}:\n{log}"
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_for_pid_file(&mut self, name: &str, pid_file: &Path) -> Result<(), String> {
        let pid = self
            .daemons
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.child.id().to_string())
            .expect("a daemon is spawned before it is waited for");
        self.wait_until(name, || {
            fs::read_to_string(pid_file).is_ok_and(|content| content.trim() == pid)
        })
    }

    fn wait_for_port(&mut self, name: &str, port: u16) -> Result<(), String> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        self.wait_until(name, || {
            TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
        })
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        // TERM every group first so the daemons shut down concurrently.
        for daemon in &mut self.daemons {
            if matches!(daemon.child.try_wait(), Ok(None)) {
                signal_group("TERM", daemon.child.id());
            }
        }
        for daemon in &mut self.daemons {
            let deadline = Instant::now() + STOP_TIMEOUT;
            while matches!(daemon.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            // Still unreaped, so the group id is still ours.
            if matches!(daemon.child.try_wait(), Ok(None)) {
                signal_group("KILL", daemon.child.id());
                let _ = daemon.child.kill();
                let _ = daemon.child.wait();
            }
        }
    }
}

/// A `GIT_SSH_COMMAND` for an identity file and a known_hosts file, non-interactive.
pub fn ssh_command(identity: &Path, known_hosts: &Path) -> String {
    format!(
        "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o UserKnownHostsFile={} \
         -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes",
        identity.display(),
        known_hosts.display()
    )
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

/// Distinct ports, all bound at once so the kernel cannot hand out one twice.
fn free_loopback_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| {
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free loopback port is available")
        })
        .collect();
    std::array::from_fn(|i| {
        listeners[i]
            .local_addr()
            .expect("a bound listener has an address")
            .port()
    })
}

/// Runs a command to completion; its stdout on success, a message with stderr otherwise.
fn run(command: &mut Command) -> Result<String, String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {command:?}: {e}; {INSTALL_HINT}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{command:?} failed with {}:\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
