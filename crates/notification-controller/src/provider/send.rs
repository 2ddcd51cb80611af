//! Delivery: the requests of one notification, sent with the Provider's proxy and TLS
//! settings, retried like Flux's retryablehttp client, within the Provider's timeout.

use std::time::Duration;

use reqwest::StatusCode;
use tracing::debug;

use super::{Method, OutgoingRequest, ProviderConfig, ResponseCheck};

/// Retry schedule: `min · 2^attempt`, capped at `max`, at most `retries` retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub min: Duration,
    /// The longest wait.
    pub max: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
}

impl Default for Backoff {
    /// Flux's notifier client: 4 retries, waits from 2s to 30s.
    fn default() -> Self {
        Self {
            min: Duration::from_secs(2),
            max: Duration::from_secs(30),
            retries: 4,
        }
    }
}

impl Backoff {
    /// The wait before retry number `attempt` (0-based).
    pub fn wait(&self, attempt: u32) -> Duration {
        self.min
            .saturating_mul(2u32.saturating_pow(attempt))
            .min(self.max)
    }
}

/// Why a delivery failed. Messages never contain the URL (it may embed a secret); the
/// caller still masks the token in them.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The HTTP client could not be configured (bad proxy, CA or client certificate).
    #[error("invalid client configuration: {0}")]
    Client(String),
    /// The service answered with an error or could not be reached, after retries.
    #[error("{0}")]
    Failed(String),
    /// The Provider's timeout passed.
    #[error("timed out after {0:?}: {1}")]
    Timeout(Duration, String),
}

fn client(config: &ProviderConfig) -> Result<reqwest::Client, DeliveryError> {
    let invalid = |what: &str, e: reqwest::Error| {
        DeliveryError::Client(format!("{what}: {}", e.without_url()))
    };
    let mut builder = reqwest::Client::builder();
    if let Some(proxy) = config.proxy.as_deref().filter(|p| !p.is_empty()) {
        builder = builder.proxy(reqwest::Proxy::all(proxy).map_err(|e| invalid("proxy", e))?);
    }
    if let Some(ca) = &config.ca_pem {
        for certificate in
            reqwest::Certificate::from_pem_bundle(ca).map_err(|e| invalid("ca.crt", e))?
        {
            builder = builder.add_root_certificate(certificate);
        }
    }
    if let Some(identity) = &config.client_identity_pem {
        builder = builder.identity(
            reqwest::Identity::from_pem(identity).map_err(|e| invalid("tls.crt/tls.key", e))?,
        );
    }
    builder.build().map_err(|e| invalid("client", e))
}

/// Sends every request in order, each with retries; the whole within `config.timeout`.
pub async fn deliver(
    requests: &[OutgoingRequest],
    config: &ProviderConfig,
    backoff: Backoff,
) -> Result<(), DeliveryError> {
    let client = client(config)?;
    let last_error = std::sync::Mutex::new(String::new());
    let work = async {
        for request in requests {
            send_one(&client, request, backoff, &last_error).await?;
        }
        Ok(())
    };
    match tokio::time::timeout(config.timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(DeliveryError::Timeout(
            config.timeout,
            last_error.into_inner().unwrap_or_default(),
        )),
    }
}

enum Attempt {
    Done,
    Retry(String, Option<Duration>),
    Fail(String),
}

async fn send_one(
    client: &reqwest::Client,
    request: &OutgoingRequest,
    backoff: Backoff,
    last_error: &std::sync::Mutex<String>,
) -> Result<(), DeliveryError> {
    for attempt in 0..=backoff.retries {
        let message = match attempt_once(client, request).await {
            Attempt::Done => return Ok(()),
            Attempt::Fail(message) => return Err(DeliveryError::Failed(message)),
            Attempt::Retry(message, retry_after) => {
                if attempt < backoff.retries {
                    let wait = retry_after.unwrap_or_else(|| backoff.wait(attempt));
                    debug!(attempt, error = %message, ?wait, "notification delivery failed, retrying");
                    *last_error.lock().expect("error lock is never poisoned") = message;
                    tokio::time::sleep(wait).await;
                    continue;
                }
                message
            }
        };
        return Err(DeliveryError::Failed(format!(
            "giving up after {} attempt(s): {message}",
            backoff.retries + 1
        )));
    }
    Ok(())
}

async fn attempt_once(client: &reqwest::Client, request: &OutgoingRequest) -> Attempt {
    let method = match request.method {
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
    };
    let mut builder = client
        .request(method, &request.url)
        .body(request.body.clone());
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let response = match builder.send().await {
        Ok(response) => response,
        Err(e) => {
            return Attempt::Retry(
                format!(
                    "failed to execute request: {}",
                    error_chain(&e.without_url())
                ),
                None,
            );
        }
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response.text().await.unwrap_or_default();
    judge(status, &body, request.check, retry_after)
}

fn judge(
    status: StatusCode,
    body: &str,
    check: ResponseCheck,
    retry_after: Option<Duration>,
) -> Attempt {
    if status == StatusCode::TOO_MANY_REQUESTS
        || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED)
    {
        let wait = matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        )
        .then_some(retry_after)
        .flatten();
        return Attempt::Retry(
            format!("request failed with status code {}", status.as_u16()),
            wait,
        );
    }
    if !status.is_success() {
        let excerpt: String = body.chars().take(512).collect();
        return Attempt::Fail(format!(
            "request failed with status code {}: {excerpt}",
            status.as_u16()
        ));
    }
    if check == ResponseCheck::SlackOk {
        #[derive(serde::Deserialize)]
        struct SlackResponse {
            ok: bool,
            #[serde(default)]
            error: String,
        }
        return match serde_json::from_str::<SlackResponse>(body) {
            Ok(response) if response.ok => Attempt::Done,
            Ok(response) => {
                Attempt::Fail(format!("Slack responded with error: {}", response.error))
            }
            Err(e) => Attempt::Fail(format!("unable to unmarshal response body: {e}")),
        };
    }
    Attempt::Done
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let backoff = Backoff::default();
        let waits: Vec<u64> = (0..5).map(|a| backoff.wait(a).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 30]);
    }

    #[test]
    fn retries_server_errors_and_429_only() {
        let retry = |status: u16| {
            matches!(
                judge(
                    StatusCode::from_u16(status).unwrap(),
                    "",
                    ResponseCheck::Success,
                    None
                ),
                Attempt::Retry(..)
            )
        };
        assert!(retry(500));
        assert!(retry(503));
        assert!(retry(429));
        assert!(!retry(501));
        assert!(!retry(400));
        assert!(!retry(404));
        assert!(!retry(200));
    }

    #[test]
    fn slack_api_errors_fail_without_retry() {
        assert!(matches!(
            judge(
                StatusCode::OK,
                r#"{"ok":true}"#,
                ResponseCheck::SlackOk,
                None
            ),
            Attempt::Done
        ));
        let Attempt::Fail(message) = judge(
            StatusCode::OK,
            r#"{"ok":false,"error":"channel_not_found"}"#,
            ResponseCheck::SlackOk,
            None,
        ) else {
            panic!("chat.postMessage errors fail");
        };
        assert_eq!(message, "Slack responded with error: channel_not_found");
    }
}
