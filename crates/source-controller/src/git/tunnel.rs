//! A loopback TCP tunnel for SSH remotes behind a proxy (`spec.proxySecretRef`): libgit2's
//! SSH transport cannot use a proxy at all, while Flux (go-git) dials SSH servers through a
//! SOCKS5 proxy.
//!
//! While one reconciliation runs, the tunnel listens on `127.0.0.1:<ephemeral>`; libgit2
//! connects there instead of the SSH server, and every connection is carried through the
//! proxy to the real host and port (SOCKS5 `CONNECT`, RFC 1928, with RFC 1929
//! username/password; or HTTP `CONNECT`). The SSH session itself runs end to end between
//! libgit2 and the server, so the host key is still checked against `known_hosts` for the
//! real host name (see [`Remote::host_and_port`]). When the proxy refuses or cannot be
//! reached, the tunnel keeps the error so the condition message says why.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::bridge::Bridge;
use super::remote::{BridgeEndpoint, Remote};
use crate::error::SourceError;

/// The largest HTTP `CONNECT` answer head the tunnel reads.
const MAX_CONNECT_HEAD: usize = 16 * 1024;

/// Whether `remote` needs the tunnel: an `ssh://` URL with a proxy.
pub fn needed(remote: &Remote) -> bool {
    remote.url.starts_with("ssh://") && remote.proxy.is_some()
}

/// The proxy a tunnel dials, parsed from the proxy URL.
#[derive(Debug, Clone)]
struct ProxyServer {
    socks: bool,
    /// `host:port` of the proxy.
    address: String,
    credentials: Option<(String, String)>,
}

impl ProxyServer {
    fn parse(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let socks = match scheme {
            "socks5" | "socks5h" => true,
            "http" => false,
            _ => return None,
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => (Some(userinfo), host),
            None => (None, authority),
        };
        let default_port = if socks { 1080 } else { 80 };
        let address = if host.contains(':') && !host.ends_with(']') {
            host.to_owned()
        } else {
            format!("{host}:{default_port}")
        };
        let credentials = userinfo.map(|userinfo| {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            (percent_decode(user), percent_decode(password))
        });
        Some(Self {
            socks,
            address,
            credentials,
        })
    }
}

/// Starts a tunnel for `remote` (see [`needed`]) and returns the remote rewired through it.
pub async fn attach(mut remote: Remote) -> Result<(Remote, Bridge), SourceError> {
    let proxy_url = remote.proxy.clone().unwrap_or_default();
    let redacted = super::proxy::redacted(&proxy_url);
    let proxy = ProxyServer::parse(&proxy_url).ok_or_else(|| {
        SourceError::Authentication(format!(
            "failed to configure proxy options: proxy '{redacted}' cannot carry SSH: use a socks5:// or http:// proxy"
        ))
    })?;
    let (host, port) = remote.host_and_port();
    let start_error = |e: std::io::Error| {
        SourceError::Fetch(format!("failed to start the SSH proxy tunnel: {e}"))
    };
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(start_error)?;
    let local = listener.local_addr().map_err(start_error)?;
    let error = Arc::new(Mutex::new(None));
    let target = Target {
        host,
        port,
        proxy,
        redacted,
        timeout: remote.timeout,
        error: error.clone(),
    };
    let task = tokio::spawn(async move {
        let target = Arc::new(target);
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(carry(client, target.clone()));
        }
    });
    let url = local_url(&remote.url, &local.to_string());
    remote.bridge = Some(BridgeEndpoint { url, error });
    Ok((remote, Bridge::new(task)))
}

/// `ssh://[user@]host[:port]/path` with the authority's host and port replaced by `local`.
fn local_url(url: &str, local: &str) -> String {
    let rest = url.strip_prefix("ssh://").unwrap_or(url);
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let user = authority
        .rsplit_once('@')
        .map(|(user, _)| format!("{user}@"))
        .unwrap_or_default();
    format!("ssh://{user}{local}{path}")
}

/// Where the tunnel's connections go.
struct Target {
    host: String,
    port: u16,
    proxy: ProxyServer,
    /// The proxy URL without credentials, for messages.
    redacted: String,
    timeout: Duration,
    error: Arc<Mutex<Option<String>>>,
}

impl Target {
    fn record(&self, message: Option<String>) {
        *self
            .error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = message;
    }
}

/// Carries one connection from libgit2 through the proxy to the SSH server.
async fn carry(mut client: TcpStream, target: Arc<Target>) {
    let dialled = tokio::time::timeout(target.timeout, dial(&target)).await;
    let mut upstream = match dialled {
        Ok(Ok(stream)) => {
            target.record(None);
            stream
        }
        Ok(Err(why)) => {
            target.record(Some(format!(
                "proxy '{}' could not connect to {}:{}: {why}",
                target.redacted, target.host, target.port
            )));
            return;
        }
        Err(_) => {
            target.record(Some(format!(
                "proxy '{}' did not connect to {}:{} within {:?}",
                target.redacted, target.host, target.port, target.timeout
            )));
            return;
        }
    };
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// Opens a connection to the proxy and asks it for the target.
async fn dial(target: &Target) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(&target.proxy.address)
        .await
        .map_err(|e| format!("dial {}: {e}", target.proxy.address))?;
    if target.proxy.socks {
        socks5_connect(&mut stream, target).await?;
    } else {
        http_connect(&mut stream, target).await?;
    }
    Ok(stream)
}

/// RFC 1928 `CONNECT`, with RFC 1929 username/password when the proxy URL has them.
async fn socks5_connect(stream: &mut TcpStream, target: &Target) -> Result<(), String> {
    let io = |e: std::io::Error| format!("socks5: {e}");
    let credentials = target.proxy.credentials.as_ref();
    let greeting: &[u8] = if credentials.is_some() {
        &[5, 2, 0, 2]
    } else {
        &[5, 1, 0]
    };
    stream.write_all(greeting).await.map_err(io)?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).await.map_err(io)?;
    match (choice, credentials) {
        ([5, 0], _) => {}
        ([5, 2], Some((user, password))) => {
            let (user, password) = (user.as_bytes(), password.as_bytes());
            let too_long = |_| "socks5: username or password longer than 255 bytes".to_owned();
            let mut request = vec![1, u8::try_from(user.len()).map_err(too_long)?];
            request.extend_from_slice(user);
            request.push(u8::try_from(password.len()).map_err(too_long)?);
            request.extend_from_slice(password);
            stream.write_all(&request).await.map_err(io)?;
            let mut answer = [0u8; 2];
            stream.read_exact(&mut answer).await.map_err(io)?;
            if answer[1] != 0 {
                return Err("socks5: username/password authentication failed".to_owned());
            }
        }
        ([5, 0xFF], _) | ([5, 2], None) => {
            return Err("socks5: no acceptable authentication methods".to_owned());
        }
        _ => return Err("socks5: unexpected answer (not a SOCKS5 proxy?)".to_owned()),
    }
    stream
        .write_all(&socks5_request(&target.host, target.port)?)
        .await
        .map_err(io)?;
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).await.map_err(io)?;
    if head[1] != 0 {
        return Err(format!("socks5: {}", socks5_reply(head[1])));
    }
    let bound = match head[3] {
        1 => 4,
        4 => 16,
        3 => usize::from(stream.read_u8().await.map_err(io)?),
        _ => return Err("socks5: unexpected address type in the answer".to_owned()),
    };
    let mut rest = vec![0u8; bound + 2];
    stream.read_exact(&mut rest).await.map_err(io)?;
    Ok(())
}

/// The `CONNECT` request for `host:port`: an IP address as such, a name as a domain name
/// (resolved by the proxy, as go-git's dialer asks).
fn socks5_request(host: &str, port: u16) -> Result<Vec<u8>, String> {
    let mut request = vec![5, 1, 0];
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            request.push(1);
            request.extend_from_slice(&ip.octets());
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            request.push(4);
            request.extend_from_slice(&ip.octets());
        }
        Err(_) => {
            let name = host.as_bytes();
            let length = u8::try_from(name.len())
                .map_err(|_| format!("socks5: host name '{host}' is too long"))?;
            request.push(3);
            request.push(length);
            request.extend_from_slice(name);
        }
    }
    request.extend_from_slice(&port.to_be_bytes());
    Ok(request)
}

/// RFC 1928's text for a reply code.
fn socks5_reply(code: u8) -> &'static str {
    match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown error",
    }
}

/// HTTP `CONNECT host:port`, with basic proxy credentials when the proxy URL has them.
async fn http_connect(stream: &mut TcpStream, target: &Target) -> Result<(), String> {
    use base64::Engine as _;
    let io = |e: std::io::Error| format!("proxy CONNECT: {e}");
    let authority = if target.host.contains(':') {
        format!("[{}]:{}", target.host, target.port)
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let authorization = target
        .proxy
        .credentials
        .as_ref()
        .map(|(user, password)| {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            format!("Proxy-Authorization: Basic {token}\r\n")
        })
        .unwrap_or_default();
    let request =
        format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{authorization}\r\n");
    stream.write_all(request.as_bytes()).await.map_err(io)?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > MAX_CONNECT_HEAD {
            return Err("proxy CONNECT: answer head too long".to_owned());
        }
        head.push(stream.read_u8().await.map_err(io)?);
    }
    let status_line = String::from_utf8_lossy(&head);
    let status_line = status_line.lines().next().unwrap_or_default();
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        _ => Err(format!("proxy CONNECT answered '{status_line}'")),
    }
}

/// Decodes `%XX` escapes (of credentials embedded in a proxy or repository URL).
pub(super) fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| value.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        if let Some(byte) = escaped {
            out.push(byte);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_percent_decoded() {
        assert_eq!(percent_decode("p%40ss%3Aword"), "p@ss:word");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn proxy_urls_are_parsed() {
        let socks = ProxyServer::parse("socks5://me:p%40ss@127.0.0.1:1081").unwrap();
        assert!(socks.socks);
        assert_eq!(socks.address, "127.0.0.1:1081");
        assert_eq!(socks.credentials, Some(("me".into(), "p@ss".into())));
        let http = ProxyServer::parse("http://proxy.example").unwrap();
        assert!(!http.socks);
        assert_eq!(http.address, "proxy.example:80");
        assert!(http.credentials.is_none());
        assert_eq!(
            ProxyServer::parse("socks5://[::1]").unwrap().address,
            "[::1]:1080"
        );
        assert!(ProxyServer::parse("https://proxy").is_none());
    }

    #[test]
    fn the_url_points_at_the_tunnel() {
        assert_eq!(
            local_url("ssh://git@example.com:2222/org/repo.git", "127.0.0.1:5000"),
            "ssh://git@127.0.0.1:5000/org/repo.git"
        );
        assert_eq!(
            local_url("ssh://example.com/repo", "127.0.0.1:5000"),
            "ssh://127.0.0.1:5000/repo"
        );
    }

    #[test]
    fn connect_requests() {
        assert_eq!(
            socks5_request("10.0.0.1", 22).unwrap(),
            vec![5, 1, 0, 1, 10, 0, 0, 1, 0, 22]
        );
        assert_eq!(
            socks5_request("git.example", 2222).unwrap(),
            [&[5, 1, 0, 3, 11][..], b"git.example", &[8, 174]].concat()
        );
        assert!(socks5_request(&"x".repeat(300), 22).is_err());
    }
}
