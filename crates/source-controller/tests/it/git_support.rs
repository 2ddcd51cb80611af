//! Small loopback servers for the Git tests: an event sink standing in for the
//! notification-controller, and an HTTP proxy (CONNECT and absolute-form forwarding).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The longest request head the servers accept.
const MAX_HEAD: usize = 64 * 1024;

/// Collects the JSON events POSTed to it.
pub struct EventSink {
    /// `http://127.0.0.1:P/`, for `--events-addr`.
    pub url: String,
    events: Arc<Mutex<Vec<serde_json::Value>>>,
    task: JoinHandle<()>,
}

impl EventSink {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let events = Arc::new(Mutex::new(Vec::new()));
        let received = events.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(receive_event(stream, received.clone()));
            }
        });
        Self { url, events, task }
    }

    /// The events received so far.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.events.lock().unwrap().clone()
    }
}

impl Drop for EventSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one POST with a `Content-Length` body, stores the JSON, answers 202.
async fn receive_event(mut stream: TcpStream, events: Arc<Mutex<Vec<serde_json::Value>>>) {
    let Some((head, mut body)) = read_head(&mut stream).await else {
        return;
    };
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    while body.len() < length {
        let mut buffer = [0_u8; 8192];
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&buffer[..n]),
        }
    }
    if let Ok(event) = serde_json::from_slice(&body) {
        events.lock().unwrap().push(event);
    }
    let _ = stream
        .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .await;
}

/// Reads up to the end of the request head; returns the head and any bytes after it.
async fn read_head(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            return Some((head, buffer[end + 4..].to_vec()));
        }
        if buffer.len() > MAX_HEAD {
            return None;
        }
        let mut chunk = [0_u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// An HTTP proxy that tunnels `CONNECT` and forwards absolute-form requests, recording the
/// first request line of every connection.
pub struct Proxy {
    /// `http://127.0.0.1:P`, for a proxy Secret's `address`.
    pub address: String,
    requests: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(relay(stream, seen.clone()));
            }
        });
        Self {
            address,
            requests,
            task,
        }
    }

    /// The first request line of each connection so far (`CONNECT host:port HTTP/1.1`,
    /// `GET http://host/path HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Connects to the request's target and copies bytes both ways. Forwarded requests keep
/// their absolute form, which HTTP/1.1 servers accept.
async fn relay(mut client: TcpStream, requests: Arc<Mutex<Vec<String>>>) {
    let Some((head, rest)) = read_head(&mut client).await else {
        return;
    };
    let first = head.lines().next().unwrap_or_default().to_owned();
    requests.lock().unwrap().push(first.clone());
    let mut parts = first.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let authority = if method == "CONNECT" {
        target.to_owned()
    } else {
        let without_scheme = target.split_once("://").map_or(target, |(_, rest)| rest);
        without_scheme
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let Ok(mut upstream) = TcpStream::connect(&authority).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    if method == "CONNECT" {
        if client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
    } else {
        let mut request = format!("{head}\r\n\r\n").into_bytes();
        request.extend_from_slice(&rest);
        if upstream.write_all(&request).await.is_err() {
            return;
        }
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// A real SOCKS5 proxy (Debian's `microsocks`) on a free loopback port, with username and
/// password authentication. It logs `client[N] <ip>: connected to <host>:<port>` per
/// connection on stderr.
pub struct Socks5Proxy {
    /// `socks5://127.0.0.1:P`, for a proxy Secret's `address`.
    pub address: String,
    log: std::path::PathBuf,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Socks5Proxy {
    /// Starts microsocks accepting `user`/`password`; waits until it listens.
    pub async fn start(user: &str, password: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("microsocks.log");
        let port = ferroflux_testkit::controller::free_port();
        let child = std::process::Command::new("microsocks")
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-u", user, "-P", password])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("microsocks (hack/install-deps.sh installs it)");
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Self {
            address: format!("socks5://127.0.0.1:{port}"),
            log,
            child,
            _dir: dir,
        }
    }

    /// The targets (`host:port`) the proxy connected to so far.
    pub fn connections(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_once("connected to ").map(|(_, t)| t.to_owned()))
            .collect()
    }
}

impl Drop for Socks5Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
