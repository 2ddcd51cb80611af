//! Delivery: the requests of one notification, sent with the Provider's proxy and TLS
//! settings, retried like Flux's retryablehttp client, within the Provider's timeout.

use std::time::Duration;

use reqwest::StatusCode;
use tracing::debug;

use super::{Delivery, Method, OutgoingRequest, ProviderConfig, ResponseCheck};

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

/// Delivers a [`Delivery`] within `config.timeout`.
pub async fn deliver_plan(
    delivery: &Delivery,
    config: &ProviderConfig,
    backoff: Backoff,
) -> Result<(), DeliveryError> {
    match delivery {
        Delivery::Http(requests) => deliver(requests, config, backoff).await,
        Delivery::Nats(message) => {
            super::nats::publish(message, config.timeout)
                .await
                .map_err(|e| {
                    DeliveryError::Failed(format!(
                        "error publishing event to subject {}: {e}",
                        message.subject
                    ))
                })
        }
        Delivery::CommitStatus(plan) => {
            let client = client(config)?;
            within(config, async {
                let listed = fetch(&client, &plan.list, backoff).await.map_err(|e| {
                    DeliveryError::Failed(format!("could not list commit statuses: {e}"))
                })?;
                let body = listed.and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok());
                if plan.is_duplicate(body.as_ref()) {
                    debug!("commit status already set, not posting it again");
                    return Ok(());
                }
                fetch(&client, &plan.create, backoff)
                    .await
                    .map(drop)
                    .map_err(|e| {
                        DeliveryError::Failed(format!("could not create commit status: {e}"))
                    })
            })
            .await
        }
        Delivery::Comment(plan) => {
            let client = client(config)?;
            within(config, comment(&client, plan, backoff)).await
        }
        Delivery::GoogleToken { token, then } => {
            let client = client(config)?;
            within(config, async {
                let answer = fetch(&client, token, backoff).await.map_err(|e| {
                    DeliveryError::Failed(format!("failed to get a Google access token: {e}"))
                })?;
                let access = answer
                    .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
                    .and_then(|v| {
                        v.get("access_token")
                            .and_then(|t| t.as_str())
                            .map(str::to_owned)
                    })
                    .ok_or_else(|| {
                        DeliveryError::Failed(
                            "the token endpoint returned no access_token".to_owned(),
                        )
                    })?;
                let publish = then
                    .clone()
                    .header("Authorization", format!("Bearer {access}"));
                fetch(&client, &publish, backoff)
                    .await
                    .map(drop)
                    .map_err(|e| {
                        DeliveryError::Failed(format!("error publishing to GCP Pub/Sub topic: {e}"))
                    })
            })
            .await
        }
    }
}

fn json_body(body: Option<String>) -> serde_json::Value {
    body.and_then(|b| serde_json::from_str(&b).ok())
        .unwrap_or_default()
}

async fn comment(
    client: &reqwest::Client,
    plan: &super::change_request::Plan,
    backoff: Backoff,
) -> Result<(), DeliveryError> {
    let failed = |what: &str, e: String| DeliveryError::Failed(format!("{what}: {e}"));
    let user = fetch(client, &plan.whoami, backoff)
        .await
        .map_err(|e| failed("failed to get authenticated user info", e))?;
    let login = json_body(user)
        .get(plan.login_field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    let comments = fetch(client, &plan.list, backoff)
        .await
        .map_err(|e| failed("failed to list change request comments", e))?;
    match plan.find(&login, &json_body(comments)) {
        Some(id) => {
            let mut update = plan.update.clone();
            update.url = update.url.replace("{id}", &id);
            fetch(client, &update, backoff)
                .await
                .map(drop)
                .map_err(|e| failed("failed to update change request comment", e))
        }
        None => fetch(client, &plan.create, backoff)
            .await
            .map(drop)
            .map_err(|e| failed("failed to create change request comment", e)),
    }
}

async fn within(
    config: &ProviderConfig,
    work: impl Future<Output = Result<(), DeliveryError>>,
) -> Result<(), DeliveryError> {
    tokio::time::timeout(config.timeout, work)
        .await
        .unwrap_or_else(|_| Err(DeliveryError::Timeout(config.timeout, String::new())))
}

/// Sends one request with retries; the body of the successful answer (`None` on an
/// accepted 404).
async fn fetch(
    client: &reqwest::Client,
    request: &OutgoingRequest,
    backoff: Backoff,
) -> Result<Option<String>, String> {
    let mut attempt = 0;
    loop {
        match attempt_once(client, request).await {
            Attempt::Done(body) => return Ok(body),
            Attempt::Fail(message) => return Err(message),
            Attempt::Retry(message, retry_after) => {
                if attempt >= backoff.retries {
                    return Err(format!(
                        "giving up after {} attempt(s): {message}",
                        attempt + 1
                    ));
                }
                tokio::time::sleep(retry_after.unwrap_or_else(|| backoff.wait(attempt))).await;
                attempt += 1;
            }
        }
    }
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
    Done(Option<String>),
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
            Attempt::Done(_) => return Ok(()),
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
        Method::Get => reqwest::Method::GET,
        Method::Patch => reqwest::Method::PATCH,
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
    if status == StatusCode::NOT_FOUND && check == ResponseCheck::NotFoundOk {
        return Attempt::Done(None);
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
            Ok(response) if response.ok => Attempt::Done(Some(body.to_owned())),
            Ok(response) => {
                Attempt::Fail(format!("Slack responded with error: {}", response.error))
            }
            Err(e) => Attempt::Fail(format!("unable to unmarshal response body: {e}")),
        };
    }
    Attempt::Done(Some(body.to_owned()))
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
            Attempt::Done(_)
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

    /// A loopback service answering `routes` (method + path → JSON) and recording calls.
    async fn fake(
        routes: Vec<(&'static str, &'static str, serde_json::Value)>,
    ) -> (
        String,
        std::sync::Arc<std::sync::Mutex<Vec<(String, String, String)>>>,
    ) {
        use axum::http::{Method as HttpMethod, Uri};
        let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorded = calls.clone();
        let app =
            axum::Router::new().fallback(move |method: HttpMethod, uri: Uri, body: String| {
                let recorded = recorded.clone();
                let routes = routes.clone();
                async move {
                    recorded.lock().unwrap().push((
                        method.to_string(),
                        uri.path().to_owned(),
                        body,
                    ));
                    routes
                        .iter()
                        .find(|(m, p, _)| *m == method.as_str() && *p == uri.path())
                        .map_or(
                            (
                                axum::http::StatusCode::NOT_FOUND,
                                axum::Json(serde_json::json!({})),
                            ),
                            |(_, _, v)| (axum::http::StatusCode::OK, axum::Json(v.clone())),
                        )
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, calls)
    }

    fn quick() -> Backoff {
        Backoff {
            min: Duration::from_millis(10),
            max: Duration::from_millis(10),
            retries: 1,
        }
    }

    #[tokio::test]
    async fn pull_request_comment_is_edited_when_found() {
        use ferroflux_api::notification::v1beta3::ProviderType;
        let marker = "<!-- flux-pr-comment-key:uid-1/Kustomization/apps/webapp -->";
        let (url, calls) = fake(vec![
            (
                "GET",
                "/api/v3/user",
                serde_json::json!({"login": "flux-bot"}),
            ),
            (
                "GET",
                "/api/v3/repos/org/app/issues/7/comments",
                serde_json::json!([{"id": 99, "user": {"login": "flux-bot"}, "body": marker}]),
            ),
            (
                "PATCH",
                "/api/v3/repos/org/app/issues/comments/99",
                serde_json::json!({}),
            ),
        ])
        .await;
        let config = ProviderConfig {
            type_: ProviderType::Githubpullrequestcomment,
            uid: "uid-1".to_owned(),
            address: format!("{url}/org/app"),
            token: "t".to_owned(),
            timeout: Duration::from_secs(10),
            ..ProviderConfig::default()
        };
        let event = crate::event::test_event("info", &[("change_request", "7")]);
        let delivery = super::super::plan(&event, &config).unwrap();
        deliver_plan(&delivery, &config, quick()).await.unwrap();
        let calls = calls.lock().unwrap().clone();
        let methods: Vec<&str> = calls.iter().map(|(m, _, _)| m.as_str()).collect();
        assert_eq!(methods, ["GET", "GET", "PATCH"]);
        assert!(calls[2].2.contains(marker));
    }

    #[tokio::test]
    async fn google_pubsub_trades_the_key_for_a_token() {
        use ferroflux_api::notification::v1beta3::ProviderType;
        let (url, calls) = fake(vec![
            (
                "POST",
                "/token",
                serde_json::json!({"access_token": "ya29.test", "expires_in": 3600}),
            ),
            (
                "POST",
                "/v1/projects/proj/topics/flux:publish",
                serde_json::json!({"messageIds": ["1"]}),
            ),
        ])
        .await;
        let (pem, _) = crate::jwt::testing::rsa_pem("k");
        let credentials = serde_json::json!({
            "type": "service_account", "client_email": "flux@proj.iam.gserviceaccount.com",
            "private_key": pem, "token_uri": format!("{url}/token"),
        });
        let config = ProviderConfig {
            type_: ProviderType::Googlepubsub,
            address: "proj".to_owned(),
            channel: "flux".to_owned(),
            token: credentials.to_string(),
            timeout: Duration::from_secs(10),
            ..ProviderConfig::default()
        };
        let event = crate::event::test_event("info", &[]);
        let Delivery::GoogleToken { token, then } = super::super::plan(&event, &config).unwrap()
        else {
            panic!("a token exchange first");
        };
        let mut then = then;
        then.url = format!("{url}/v1/projects/proj/topics/flux:publish");
        deliver_plan(&Delivery::GoogleToken { token, then }, &config, quick())
            .await
            .unwrap();
        let calls = calls.lock().unwrap().clone();
        assert!(calls[0].2.starts_with(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
        ));
        let publish: serde_json::Value = serde_json::from_str(&calls[1].2).unwrap();
        assert!(publish["messages"][0]["data"].as_str().is_some());
    }
}
