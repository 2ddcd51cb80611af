//! `cargo xtask testenv up|down|status`: a real Kubernetes control plane on 127.0.0.1.
//!
//! etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (fake kubelets,
//! so Deployments become Available) are built once from their Go modules by
//! `hack/build-testenv.sh` into a cache outside the checkout, then started here as
//! background processes. Every PID is recorded, and `down` stops exactly those processes.
//! State (PKI, kubeconfig, logs, etcd data) lives in `$FERROFLUX_CACHE/testenv/run`.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::generate::repo_root;

const ETCD_PORT: u16 = 23790;
const ETCD_PEER_PORT: u16 = 23791;
const API_PORT: u16 = 16443;
const KCM_PORT: u16 = 20257;
const SCHEDULER_PORT: u16 = 20259;
const KWOK_PORT: u16 = 20247;
/// Components in start order; `down` stops them in reverse.
const COMPONENTS: [&str; 5] = [
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
];
const NODE_NAME: &str = "kwok-node-0";

/// Paths of one test environment.
pub struct Env {
    pub bin: PathBuf,
    pub stages: PathBuf,
    pub run: PathBuf,
}

impl Env {
    /// The paths of the running (or last) control plane, for commands that only look at it.
    fn current() -> Self {
        Env {
            bin: PathBuf::new(),
            stages: PathBuf::new(),
            run: cache_dir().join("testenv/run"),
        }
    }
    fn pki(&self) -> PathBuf {
        self.run.join("pki")
    }
    fn pid_file(&self, component: &str) -> PathBuf {
        self.run.join("pids").join(component)
    }
    fn log_file(&self, component: &str) -> PathBuf {
        self.run.join("logs").join(format!("{component}.log"))
    }
    pub fn kubeconfig(&self) -> PathBuf {
        self.run.join("admin.kubeconfig")
    }
    fn env_file(&self) -> PathBuf {
        self.run.join("env.sh")
    }
}

pub fn cache_dir() -> PathBuf {
    std::env::var_os("FERROFLUX_CACHE").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".cache/ferroflux")
        },
        PathBuf::from,
    )
}

/// Builds (or finds in the cache) the control plane binaries.
pub fn build() -> Result<Env> {
    let script = repo_root().join("hack/build-testenv.sh");
    let output = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !output.status.success() {
        bail!("building the test control plane failed (see the messages above)");
    }
    let bin = PathBuf::from(String::from_utf8(output.stdout)?.trim());
    let stages = bin
        .parent()
        .context("bin directory has a parent")?
        .join("kwok-stages.yaml");
    Ok(Env {
        bin,
        stages,
        run: cache_dir().join("testenv/run"),
    })
}

/// Starts the control plane unless it already runs; returns whether this call started it.
pub fn up() -> Result<bool> {
    let env = build()?;
    if running(&env).len() == COMPONENTS.len() && api_ready(&env) {
        eprintln!("testenv: already running");
        print_env(&env);
        return Ok(false);
    }
    // A partial environment from an earlier run is stopped and started afresh.
    stop(&env);
    let result = start(&env);
    if let Err(error) = result {
        eprintln!("testenv: start failed, stopping what was started");
        tail_logs(&env);
        stop(&env);
        return Err(error);
    }
    print_env(&env);
    Ok(true)
}

pub fn down() {
    let env = Env::current();
    let stopped = stop(&env);
    eprintln!("testenv: stopped {stopped} process(es)");
}

pub fn status() {
    let env = Env::current();
    let alive = running(&env);
    for component in COMPONENTS {
        let state = if alive.contains(&component) {
            "running"
        } else {
            "stopped"
        };
        println!("{component:<24} {state}");
    }
    if alive.len() == COMPONENTS.len() {
        print_env(&env);
    }
}

/// The running components and their process ids.
pub fn component_pids() -> Vec<(&'static str, u32)> {
    let env = Env::current();
    COMPONENTS
        .into_iter()
        .filter_map(|c| {
            let pid = recorded_pid(&env, c).filter(|pid| alive(*pid))?;
            Some((c, u32::try_from(pid).ok()?))
        })
        .collect()
}

fn print_env(env: &Env) {
    let text = std::fs::read_to_string(env.env_file()).unwrap_or_default();
    print!("{text}");
}

fn start(env: &Env) -> Result<()> {
    for (port, what) in [
        (ETCD_PORT, "etcd"),
        (ETCD_PEER_PORT, "etcd peer"),
        (API_PORT, "kube-apiserver"),
        (KCM_PORT, "kube-controller-manager"),
        (SCHEDULER_PORT, "kube-scheduler"),
        (KWOK_PORT, "kwok"),
    ] {
        if TcpListener::bind(("127.0.0.1", port)).is_err() {
            bail!("port 127.0.0.1:{port} (for {what}) is already in use by another process");
        }
    }
    let _ = std::fs::remove_dir_all(&env.run);
    for dir in [
        "pki",
        "pids",
        "logs",
        "etcd",
        "kcm-certs",
        "scheduler-certs",
    ] {
        std::fs::create_dir_all(env.run.join(dir))?;
    }
    make_pki(&env.pki())?;
    write_kubeconfig(env)?;
    std::fs::write(
        env.run.join("kwok.yaml"),
        kwok_config(&std::fs::read_to_string(&env.stages)?),
    )?;
    let started = Instant::now();

    spawn(env, "etcd", &etcd_args(env))?;
    wait_until(env, "etcd", Duration::from_secs(60), || {
        http_ok(env, &format!("http://127.0.0.1:{ETCD_PORT}/health"), false)
    })?;

    spawn(env, "kube-apiserver", &apiserver_args(env))?;
    wait_until(env, "kube-apiserver", Duration::from_secs(120), || {
        api_ready(env)
    })?;

    spawn(
        env,
        "kube-controller-manager",
        &controller_manager_args(env),
    )?;
    spawn(env, "kube-scheduler", &scheduler_args(env))?;
    wait_until(
        env,
        "kube-controller-manager",
        Duration::from_secs(60),
        || http_ok(env, &format!("https://127.0.0.1:{KCM_PORT}/healthz"), false),
    )?;
    wait_until(env, "kube-scheduler", Duration::from_secs(60), || {
        http_ok(
            env,
            &format!("https://127.0.0.1:{SCHEDULER_PORT}/healthz"),
            false,
        )
    })?;

    spawn(env, "kwok", &kwok_args(env))?;
    kubectl(env, &["apply", "-f", "-"], Some(&node_manifest()))?;
    wait_until(
        env,
        "the fake node to be Ready",
        Duration::from_secs(60),
        || {
            kubectl(
                env,
                &[
                    "wait",
                    "--for=condition=Ready",
                    &format!("node/{NODE_NAME}"),
                    "--timeout=2s",
                ],
                None,
            )
            .is_ok()
        },
    )?;
    wait_until(
        env,
        "the default ServiceAccount",
        Duration::from_secs(60),
        || {
            kubectl(
                env,
                &["get", "serviceaccount", "default", "-n", "default"],
                None,
            )
            .is_ok()
        },
    )?;

    let mut exports = String::new();
    writeln!(exports, "export KUBECONFIG={}", env.kubeconfig().display())?;
    writeln!(exports, "export FERROFLUX_TESTENV={}", env.run.display())?;
    std::fs::write(env.env_file(), exports)?;
    eprintln!(
        "testenv: control plane ready in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn etcd_args(env: &Env) -> Vec<String> {
    let peer = format!("http://127.0.0.1:{ETCD_PEER_PORT}");
    let client = format!("http://127.0.0.1:{ETCD_PORT}");
    vec![
        "--name=node0".into(),
        format!("--data-dir={}", env.run.join("etcd").display()),
        format!("--listen-client-urls={client}"),
        format!("--advertise-client-urls={client}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=node0={peer}"),
        "--unsafe-no-fsync=true".into(),
        "--auto-compaction-retention=1".into(),
        "--quota-backend-bytes=4294967296".into(),
        "--log-level=warn".into(),
    ]
}

fn apiserver_args(env: &Env) -> Vec<String> {
    let pki = env.pki();
    let p = |file: &str| pki.join(file).display().to_string();
    vec![
        format!("--etcd-servers=http://127.0.0.1:{ETCD_PORT}"),
        "--bind-address=127.0.0.1".into(),
        format!("--secure-port={API_PORT}"),
        format!("--cert-dir={}", pki.display()),
        format!("--tls-cert-file={}", p("apiserver.crt")),
        format!("--tls-private-key-file={}", p("apiserver.key")),
        format!("--client-ca-file={}", p("ca.crt")),
        format!("--token-auth-file={}", p("tokens.csv")),
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
        format!("--service-account-key-file={}", p("sa.pub")),
        format!("--service-account-signing-key-file={}", p("sa.key")),
        // /16: the 1000-Kustomization benchmark creates a Service per Kustomization.
        "--service-cluster-ip-range=10.0.0.0/16".into(),
        "--authorization-mode=Node,RBAC".into(),
        "--allow-privileged=true".into(),
        // FERROFLUX_TESTENV_PROFILING=1 serves /debug/pprof (for `go tool pprof` on benchmarks).
        format!(
            "--profiling={}",
            std::env::var_os("FERROFLUX_TESTENV_PROFILING").is_some()
        ),
        "--v=1".into(),
    ]
}

fn controller_manager_args(env: &Env) -> Vec<String> {
    let kubeconfig = env.kubeconfig().display().to_string();
    let mut args: Vec<String> = vec![
        format!("--kubeconfig={kubeconfig}"),
        format!("--authentication-kubeconfig={kubeconfig}"),
        format!("--authorization-kubeconfig={kubeconfig}"),
        "--bind-address=127.0.0.1".into(),
        format!("--secure-port={KCM_PORT}"),
        format!("--cert-dir={}", env.run.join("kcm-certs").display()),
        "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics".into(),
        "--leader-elect=false".into(),
        format!("--root-ca-file={}", env.pki().join("ca.crt").display()),
        format!(
            "--service-account-private-key-file={}",
            env.pki().join("sa.key").display()
        ),
        "--use-service-account-credentials=false".into(),
        "--node-monitor-period=5s".into(),
        "--node-monitor-grace-period=40s".into(),
        "--v=1".into(),
    ];
    // The defaults (20 requests/s, 5 workers per kind) make the control plane, not the
    // controllers under test, the limit once hundreds of Deployments roll out at once.
    // FERROFLUX_TESTENV_KCM_DEFAULTS=1 keeps Kubernetes' defaults (for comparisons).
    if std::env::var_os("FERROFLUX_TESTENV_KCM_DEFAULTS").is_none() {
        args.extend([
            "--kube-api-qps=500".into(),
            "--kube-api-burst=1000".into(),
            "--concurrent-deployment-syncs=20".into(),
            "--concurrent-replicaset-syncs=20".into(),
        ]);
    }
    args
}

fn scheduler_args(env: &Env) -> Vec<String> {
    let kubeconfig = env.kubeconfig().display().to_string();
    vec![
        format!("--kubeconfig={kubeconfig}"),
        format!("--authentication-kubeconfig={kubeconfig}"),
        format!("--authorization-kubeconfig={kubeconfig}"),
        "--bind-address=127.0.0.1".into(),
        format!("--secure-port={SCHEDULER_PORT}"),
        format!("--cert-dir={}", env.run.join("scheduler-certs").display()),
        "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics".into(),
        "--leader-elect=false".into(),
        "--kube-api-qps=500".into(),
        "--kube-api-burst=1000".into(),
        "--v=1".into(),
    ]
}

fn kwok_args(env: &Env) -> Vec<String> {
    vec![
        format!("--kubeconfig={}", env.kubeconfig().display()),
        format!("--config={}", env.run.join("kwok.yaml").display()),
        "--manage-all-nodes=true".into(),
        "--node-lease-duration-seconds=40".into(),
        // Room for thousands of fake pods (a /24 runs out of pod IPs at 254).
        "--cidr=10.128.0.0/12".into(),
        "--node-ip=10.0.0.1".into(),
        format!("--server-address=127.0.0.1:{KWOK_PORT}"),
        format!("--node-port={KWOK_PORT}"),
        format!(
            "--tls-cert-file={}",
            env.pki().join("apiserver.crt").display()
        ),
        format!(
            "--tls-private-key-file={}",
            env.pki().join("apiserver.key").display()
        ),
    ]
}

/// Standalone kwok applies no defaults to a configuration file (only kwokctl does), and
/// refuses to start with a parallelism of 0, so every option it needs is spelled out.
fn kwok_config(stages: &str) -> String {
    format!(
        "apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions:\n  manageAllNodes: true\n  nodeLeaseDurationSeconds: 40\n  nodeLeaseParallelism: 4\n  podPlayStageParallelism: 16\n  nodePlayStageParallelism: 4\n  podsOnNodeSyncParallelism: 1\n{stages}"
    )
}

fn node_manifest() -> String {
    format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {NODE_NAME}\n  annotations:\n    node.alpha.kubernetes.io/ttl: \"0\"\n    kwok.x-k8s.io/node: fake\n  labels:\n    kubernetes.io/hostname: {NODE_NAME}\n    kubernetes.io/os: linux\n    kubernetes.io/arch: amd64\n    type: kwok\nspec:\n  providerID: kwok://{NODE_NAME}\n"
    )
}

/// Starts a component in its own process group (so a terminal's signals do not reach it)
/// with its output in a log file, and records its PID.
fn spawn(env: &Env, component: &str, args: &[String]) -> Result<()> {
    let log = std::fs::File::create(env.log_file(component))?;
    let child = Command::new(env.bin.join(component))
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {component}"))?;
    std::fs::write(env.pid_file(component), child.id().to_string())?;
    eprintln!("testenv: started {component} (pid {})", child.id());
    Ok(())
}

fn recorded_pid(env: &Env, component: &str) -> Option<i32> {
    std::fs::read_to_string(env.pid_file(component))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn alive(pid: i32) -> bool {
    // A zombie still has a /proc entry; treat it as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

fn running(env: &Env) -> Vec<&'static str> {
    COMPONENTS
        .into_iter()
        .filter(|c| recorded_pid(env, c).is_some_and(alive))
        .collect()
}

/// Stops the recorded processes, newest first: TERM, then KILL after a grace period.
fn stop(env: &Env) -> usize {
    let mut stopped = 0;
    for component in COMPONENTS.iter().rev() {
        let Some(pid) = recorded_pid(env, component) else {
            continue;
        };
        if alive(pid) {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            if alive(pid) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
            stopped += 1;
        }
        let _ = std::fs::remove_file(env.pid_file(component));
    }
    stopped
}

fn wait_until(
    env: &Env,
    what: &str,
    timeout: Duration,
    mut ready: impl FnMut() -> bool,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return Ok(());
        }
        if let Some(dead) = COMPONENTS
            .iter()
            .find(|c| recorded_pid(env, c).is_some_and(|pid| !alive(pid)))
        {
            bail!(
                "{dead} exited while waiting for {what}; see {}",
                env.log_file(dead).display()
            );
        }
        if Instant::now() > deadline {
            bail!("timed out after {}s waiting for {what}", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn tail_logs(env: &Env) {
    for component in COMPONENTS {
        if let Ok(text) = std::fs::read_to_string(env.log_file(component)) {
            let lines: Vec<&str> = text.lines().collect();
            eprintln!("--- last lines of {component}.log");
            for line in &lines[lines.len().saturating_sub(15)..] {
                eprintln!("{line}");
            }
        }
    }
}

fn http_ok(env: &Env, url: &str, client_cert: bool) -> bool {
    let pki = env.pki();
    let mut command = Command::new("curl");
    command.args(["-fsS", "-o", "/dev/null", "--max-time", "2", "-k"]);
    if client_cert {
        command
            .arg("--cacert")
            .arg(pki.join("ca.crt"))
            .arg("--cert")
            .arg(pki.join("admin.crt"))
            .arg("--key")
            .arg(pki.join("admin.key"));
    }
    command
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The running control plane's OpenAPI v2 document, or `None` when it is not running.
pub fn openapi_v2() -> Result<Option<String>> {
    let env = Env::current();
    if !env.kubeconfig().is_file() || !api_ready(&env) {
        return Ok(None);
    }
    kubectl(&env, &["get", "--raw", "/openapi/v2"], None).map(Some)
}

fn api_ready(env: &Env) -> bool {
    http_ok(env, &format!("https://127.0.0.1:{API_PORT}/readyz"), true)
}

fn kubectl(env: &Env, args: &[&str], stdin: Option<&str>) -> Result<String> {
    use std::io::Write as _;
    let mut child = Command::new("kubectl")
        .env("KUBECONFIG", env.kubeconfig())
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running kubectl")?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "kubectl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// A CA, an apiserver serving certificate (SANs for loopback and the in-cluster names),
/// an admin client certificate in `system:masters`, a service-account key pair, and a
/// static token for tests that need a second, unprivileged identity.
fn make_pki(dir: &Path) -> Result<()> {
    let openssl = |args: &[&str]| -> Result<()> {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .context("running openssl")?;
        if !output.status.success() {
            bail!(
                "openssl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    };
    openssl(&[
        "req",
        "-x509",
        "-new",
        "-nodes",
        "-newkey",
        "rsa:2048",
        "-sha256",
        "-days",
        "3650",
        "-subj",
        "/CN=ferroflux-test-ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ])?;
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n",
    )?;
    std::fs::write(
        dir.join("client.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
    )?;
    for (name, subject, ext) in [
        ("apiserver", "/CN=kube-apiserver", "server.ext"),
        (
            "admin",
            "/O=system:masters/CN=ferroflux-admin",
            "client.ext",
        ),
    ] {
        let (key, csr, crt) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
        );
        openssl(&[
            "req", "-new", "-nodes", "-newkey", "rsa:2048", "-subj", subject, "-keyout", &key,
            "-out", &csr,
        ])?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-sha256",
            "-days",
            "3650",
            "-extfile",
            ext,
            "-out",
            &crt,
        ])?;
    }
    openssl(&["genrsa", "-out", "sa.key", "2048"])?;
    openssl(&["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"])?;
    std::fs::write(
        dir.join("tokens.csv"),
        "ferroflux-test-user-token,test-user,test-user-uid,\"test-group\"\n",
    )?;
    Ok(())
}

fn write_kubeconfig(env: &Env) -> Result<()> {
    let pki = env.pki();
    let b64 = |file: &str| -> Result<String> {
        let output = Command::new("base64")
            .arg("-w0")
            .arg(pki.join(file))
            .output()?;
        Ok(String::from_utf8(output.stdout)?)
    };
    let config = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: ferroflux-test\n  cluster:\n    server: https://127.0.0.1:{API_PORT}\n    certificate-authority-data: {}\nusers:\n- name: admin\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\ncontexts:\n- name: ferroflux-test\n  context:\n    cluster: ferroflux-test\n    user: admin\ncurrent-context: ferroflux-test\n",
        b64("ca.crt")?,
        b64("admin.crt")?,
        b64("admin.key")?
    );
    std::fs::write(env.kubeconfig(), config)?;
    Ok(())
}
