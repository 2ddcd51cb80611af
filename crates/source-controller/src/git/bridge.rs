//! A loopback HTTP bridge for what libgit2's HTTP transport cannot do itself: TLS client
//! certificates (`tls.crt`/`tls.key`), HTTP proxies for `http://` remotes (libgit2 writes
//! the proxy request line but connects straight to the server) and SOCKS5 proxies (libgit2
//! speaks only HTTP `CONNECT`).
//!
//! While one reconciliation runs, the bridge listens on `127.0.0.1:<ephemeral>` under a random
//! path prefix; libgit2 talks plain HTTP to it and the bridge forwards every request to the
//! real remote with reqwest (client identity, `ca.crt`, proxy). Credentials headers pass
//! through untouched. When the upstream request itself fails (TLS handshake, proxy, DNS),
//! the bridge keeps the error so the condition message says why instead of libgit2's
//! "unexpected http status code: 502".

use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

use super::remote::{BridgeEndpoint, Remote};
use crate::error::SourceError;

/// Headers that belong to one connection, never forwarded.
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "host",
    "content-length",
];
/// The largest request body (a upload-pack negotiation) the bridge buffers.
const MAX_REQUEST_BODY: usize = 256 * 1024 * 1024;

/// A running bridge; dropping it stops the listener.
pub struct Bridge {
    task: JoinHandle<()>,
}

impl Bridge {
    /// Wraps the task serving a bridge or a [`super::tunnel`].
    pub(super) fn new(task: JoinHandle<()>) -> Self {
        Self { task }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where and how requests are forwarded.
struct Upstream {
    /// `scheme://host[:port]` of the remote.
    base: String,
    /// `/<token>`: requests without it are refused.
    prefix: String,
    client: reqwest::Client,
    error: Arc<Mutex<Option<String>>>,
}

/// Whether `remote` needs the bridge: a client certificate over HTTPS, a proxy for an
/// `http://` URL, or a SOCKS5 proxy (libgit2 speaks only HTTP `CONNECT`).
pub fn needed(remote: &Remote) -> bool {
    let scheme = remote
        .url
        .split_once("://")
        .map(|(s, _)| s)
        .unwrap_or_default();
    let socks = remote
        .proxy
        .as_deref()
        .is_some_and(|proxy| proxy.starts_with("socks5"));
    (scheme == "https" && (remote.auth.client_identity_pem().is_some() || socks))
        || (scheme == "http" && remote.proxy.is_some())
}

/// Starts a bridge when [`needed`] (or, for SSH behind a proxy, a [`super::tunnel`]) and
/// returns the remote rewired through it.
pub async fn attach(mut remote: Remote) -> Result<(Remote, Option<Bridge>), SourceError> {
    if super::tunnel::needed(&remote) {
        let (remote, tunnel) = super::tunnel::attach(remote).await?;
        return Ok((remote, Some(tunnel)));
    }
    if !needed(&remote) {
        return Ok((remote, None));
    }
    let (base, path) = split_url(&remote.url).ok_or_else(|| SourceError::InvalidSpec {
        reason: "URLInvalid",
        message: format!("failed to parse url '{}'", remote.url),
    })?;
    let client = http_client(&remote)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| SourceError::Fetch(format!("failed to start the HTTP bridge: {e}")))?;
    let address = listener
        .local_addr()
        .map_err(|e| SourceError::Fetch(format!("failed to start the HTTP bridge: {e}")))?;
    let error = Arc::new(Mutex::new(None));
    let upstream = Arc::new(Upstream {
        base,
        prefix: format!("/{}", random_token()),
        client,
        error: error.clone(),
    });
    let url = format!(
        "http://{}{address}{}{path}",
        userinfo(&remote.url),
        upstream.prefix
    );
    let router = axum::Router::new().fallback(forward).with_state(upstream);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    remote.bridge = Some(BridgeEndpoint { url, error });
    Ok((remote, Some(Bridge { task })))
}

/// The reqwest client with the remote's client identity, CA and proxy.
pub(super) fn http_client(remote: &Remote) -> Result<reqwest::Client, SourceError> {
    let tls = |what: &str, e: &dyn std::fmt::Display| {
        SourceError::Fetch(format!(
            "failed to configure TLS for '{}': {what}: {e}",
            remote.url
        ))
    };
    let mut builder = reqwest::Client::builder()
        .timeout(remote.timeout)
        .redirect(reqwest::redirect::Policy::limited(10));
    if let Some(pem) = remote.auth.client_identity_pem() {
        let identity = reqwest::Identity::from_pem(&pem)
            .map_err(|e| tls("failed to parse TLS certificate and key", &error_chain(&e)))?;
        builder = builder.identity(identity);
    }
    if let Some(ca) = &remote.auth.ca_pem {
        let certificates = reqwest::Certificate::from_pem_bundle(ca)
            .map_err(|e| tls("failed to parse CA certificate", &error_chain(&e)))?;
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder = match &remote.proxy {
        Some(proxy) => builder.proxy(reqwest::Proxy::all(proxy).map_err(|e| {
            SourceError::Authentication(format!(
                "failed to configure proxy options: invalid proxy address '{}': {e}",
                super::proxy::redacted(proxy)
            ))
        })?),
        None => builder.no_proxy(),
    };
    builder
        .build()
        .map_err(|e| tls("failed to create the HTTP client", &error_chain(&e)))
}

/// Forwards one request to the remote and streams the answer back.
async fn forward(State(upstream): State<Arc<Upstream>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Some(rest) = parts.uri.path().strip_prefix(&upstream.prefix) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let target = format!("{}{rest}{query}", upstream.base);
    let Ok(body) = axum::body::to_bytes(body, MAX_REQUEST_BODY).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let outgoing = upstream
        .client
        .request(parts.method, &target)
        .headers(end_to_end(&parts.headers))
        .body(body);
    match outgoing.send().await {
        Ok(response) => {
            // Only the failure of the latest request explains a failed Git operation.
            *upstream
                .error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
            let mut answer = Response::builder().status(response.status());
            if let Some(headers) = answer.headers_mut() {
                headers.extend(end_to_end(response.headers()));
            }
            answer
                .body(Body::from_stream(response.bytes_stream()))
                .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
        }
        Err(error) => {
            let message = error_chain(&error);
            *upstream
                .error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(message.clone());
            (StatusCode::BAD_GATEWAY, message).into_response()
        }
    }
}

/// `headers` without the hop-by-hop ones.
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    headers
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// An error and its sources, joined with `: ` (reqwest's own message is terse).
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// `scheme://host[:port]` and the path of a URL, without user information.
fn split_url(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    (!host.is_empty()).then(|| (format!("{scheme}://{host}"), path.to_owned()))
}

/// The `user[:password]@` part of a URL, kept so libgit2 still sends it.
fn userinfo(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .map(|(user, _)| format!("{user}@"))
        .unwrap_or_default()
}

/// 128 unpredictable bits from the standard library's randomly keyed hasher.
fn random_token() -> String {
    let half = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(), half())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_base_and_path() {
        assert_eq!(
            split_url("https://flux@127.0.0.1:8443/mtls/app.git"),
            Some(("https://127.0.0.1:8443".into(), "/mtls/app.git".into()))
        );
        assert_eq!(
            split_url("http://example.org"),
            Some(("http://example.org".into(), String::new()))
        );
        assert_eq!(split_url("no-scheme"), None);
        assert_eq!(userinfo("https://flux@h/x"), "flux@");
        assert_eq!(userinfo("https://h/x@y"), "");
        assert_ne!(random_token(), random_token());
    }

    #[test]
    fn only_client_certificates_and_plain_http_proxies_need_the_bridge() {
        let remote = |url: &str, proxy: Option<&str>, certificate: bool| Remote {
            url: url.into(),
            auth: super::super::auth::GitAuth {
                client_cert_pem: certificate.then(|| b"cert".to_vec()),
                client_key_pem: certificate.then(|| b"key".to_vec()),
                ..Default::default()
            },
            proxy: proxy.map(str::to_owned),
            timeout: std::time::Duration::from_secs(1),
            bridge: None,
        };
        assert!(needed(&remote("https://h/r.git", None, true)));
        assert!(needed(&remote(
            "http://h/r.git",
            Some("http://p:3128"),
            false
        )));
        assert!(!needed(&remote(
            "https://h/r.git",
            Some("http://p:3128"),
            false
        )));
        assert!(!needed(&remote("http://h/r.git", None, true)));
        assert!(!needed(&remote(
            "ssh://git@h/r.git",
            Some("http://p"),
            true
        )));
    }
}
