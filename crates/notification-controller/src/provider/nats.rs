//! NATS: the event JSON published to the `channel` subject, over NATS's text protocol
//! (`INFO` ← , `CONNECT` →, `PUB` →, `PING` → until `PONG` ←).

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use ferroflux_runtime::events::FluxEvent;

use super::{PayloadError, ProviderConfig};

/// The client name Flux's NATS provider announces.
const CLIENT_NAME: &str = "NATS Provider Publisher";
/// The longest server line we read.
const MAX_LINE: usize = 64 * 1024;

/// One message to publish.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Publish {
    /// `host:port` of the server.
    pub server: String,
    /// The subject.
    pub subject: String,
    /// The message (the event JSON).
    #[serde(serialize_with = "super::body_as_text")]
    pub payload: Vec<u8>,
    /// User name, when user/password authentication is configured.
    pub user: String,
    /// Password.
    #[serde(skip)]
    pub password: String,
}

/// Builds the message: `address` is the server URL (`nats://host[:port]`, the first of a
/// comma-separated list), `channel` the subject, `username` + `password` the credentials.
pub fn publish_plan(event: &FluxEvent, config: &ProviderConfig) -> Result<Publish, PayloadError> {
    let address = config.address.trim();
    if address.is_empty() {
        return Err(PayloadError::Invalid(
            "NATS server (address) cannot be empty".to_owned(),
        ));
    }
    if config.channel.is_empty() {
        return Err(PayloadError::Invalid(
            "NATS subject (channel) cannot be empty".to_owned(),
        ));
    }
    if config
        .secret_keys
        .iter()
        .any(|k| k == "creds" || k == "nkey")
    {
        return Err(PayloadError::Invalid(
            "NATS 'creds' and 'nkey' authentication is not supported by this notification-controller".to_owned(),
        ));
    }
    let first = address.split(',').next().unwrap_or_default().trim();
    let rest = first.split_once("://").map_or(first, |(_, rest)| rest);
    let host_port = rest
        .rsplit('@')
        .next()
        .unwrap_or(rest)
        .trim_end_matches('/');
    let server = if host_port
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        host_port.to_owned()
    } else {
        format!("{host_port}:4222")
    };
    let (user, password) = if !config.username.is_empty() && !config.password.is_empty() {
        (config.username.clone(), config.password.clone())
    } else {
        (String::new(), String::new())
    };
    Ok(Publish {
        server,
        subject: config.channel.clone(),
        payload: serde_json::to_vec(event).expect("events always serialize"),
        user,
        password,
    })
}

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    /// Connecting, reading or writing failed.
    #[error("error connecting to server: {0}")]
    Io(#[from] std::io::Error),
    /// The server answered `-ERR`.
    #[error("error publishing message to server: {0}")]
    Server(String),
    /// The server spoke something else than NATS, or wants TLS.
    #[error("error connecting to server: {0}")]
    Protocol(String),
}

async fn read_line(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> Result<String, NatsError> {
    let mut line = String::new();
    let read = reader.read_line(&mut line).await?;
    if read == 0 {
        return Err(NatsError::Protocol(
            "connection closed by the server".to_owned(),
        ));
    }
    if line.len() > MAX_LINE {
        return Err(NatsError::Protocol("server line too long".to_owned()));
    }
    Ok(line.trim_end().to_owned())
}

/// Connects, authenticates, publishes and waits for the server to confirm (PING/PONG).
pub async fn publish(message: &Publish, timeout: Duration) -> Result<(), NatsError> {
    tokio::time::timeout(timeout, publish_inner(message))
        .await
        .map_err(|_| NatsError::Protocol(format!("timed out after {timeout:?}")))?
}

async fn publish_inner(message: &Publish) -> Result<(), NatsError> {
    let stream = TcpStream::connect(&message.server).await?;
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let info = read_line(&mut reader).await?;
    let Some(info) = info.strip_prefix("INFO ") else {
        return Err(NatsError::Protocol(
            "the server did not send INFO".to_owned(),
        ));
    };
    let info: serde_json::Value = serde_json::from_str(info)
        .map_err(|_| NatsError::Protocol("invalid INFO from the server".to_owned()))?;
    if info
        .get("tls_required")
        .and_then(serde_json::Value::as_bool)
        == Some(true)
    {
        return Err(NatsError::Protocol(
            "the server requires TLS, which is not supported".to_owned(),
        ));
    }
    let mut connect = serde_json::json!({
        "verbose": false, "pedantic": false, "tls_required": false,
        "name": CLIENT_NAME, "lang": "rust", "version": env!("CARGO_PKG_VERSION"),
        "protocol": 1, "echo": true, "headers": false, "no_responders": false,
    });
    if !message.user.is_empty() {
        connect["user"] = message.user.clone().into();
        connect["pass"] = message.password.clone().into();
    }
    let mut out = format!(
        "CONNECT {connect}\r\nPUB {} {}\r\n",
        message.subject,
        message.payload.len()
    )
    .into_bytes();
    out.extend_from_slice(&message.payload);
    out.extend_from_slice(b"\r\nPING\r\n");
    write.write_all(&out).await?;
    write.flush().await?;
    loop {
        let line = read_line(&mut reader).await?;
        match line.split_whitespace().next().unwrap_or_default() {
            "PONG" => break,
            "-ERR" => {
                let reason = line.trim_start_matches("-ERR").trim().trim_matches('\'');
                return Err(NatsError::Server(reason.to_lowercase()));
            }
            "PING" => write.write_all(b"PONG\r\n").await?,
            _ => {}
        }
    }
    let _ = write.shutdown().await;
    Ok(())
}
