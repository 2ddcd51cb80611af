//! `provider: github`: clones authenticated by a GitHub App installation token. A loopback
//! stand-in for GitHub's REST API verifies the App's RS256 JWT with the App's public key and
//! issues tokens; the Git server accepts them as the password of `x-access-token`.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ferroflux_api::meta::ConditionStatus;
use ferroflux_api::source::v1::GitProvider;
use serde_json::{Value, json};

use crate::harness::{Harness, spec};

const APP_ID: &str = "1234";
const INSTALLATION: &str = "42";
const OWNER: &str = "some-user";

/// The App's key pair: PKCS#1 PEM private key (as GitHub hands it out), PKCS#1 DER public key.
fn app_key(dir: &std::path::Path) -> (String, Vec<u8>) {
    let private = dir.join("app.pem");
    let openssl = |args: &[&str]| {
        let output = std::process::Command::new("openssl")
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "openssl {args:?}");
        output.stdout
    };
    openssl(&[
        "genrsa",
        "-traditional",
        "-out",
        private.to_str().unwrap(),
        "2048",
    ]);
    let public = openssl(&[
        "rsa",
        "-in",
        private.to_str().unwrap(),
        "-RSAPublicKey_out",
        "-outform",
        "DER",
    ]);
    (std::fs::read_to_string(&private).unwrap(), public)
}

/// What the API stand-in knows and saw.
struct Api {
    public_key: Vec<u8>,
    token: String,
    /// `METHOD path` of every request.
    requests: Mutex<Vec<String>>,
}

impl Api {
    /// Whether `headers` carry a JWT signed by the App's key, issued by [`APP_ID`], unexpired.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(jwt) = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        let mut parts = jwt.rsplitn(2, '.');
        let (Some(signature), Some(signed)) = (parts.next(), parts.next()) else {
            return false;
        };
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let key = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.public_key);
        if key.verify(signed.as_bytes(), &signature).is_err() {
            return false;
        }
        let claims: Value = signed
            .split('.')
            .nth(1)
            .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
            .and_then(|c| serde_json::from_slice(&c).ok())
            .unwrap_or_default();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        claims["iss"] == APP_ID && claims["exp"].as_u64().is_some_and(|exp| exp > now)
    }
}

async fn access_token(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> (StatusCode, axum::Json<Value>) {
    api.requests
        .lock()
        .unwrap()
        .push(format!("POST /app/installations/{id}/access_tokens"));
    if !api.authorized(&headers) {
        let message = json!({"message": "A JSON web token could not be decoded"});
        return (StatusCode::UNAUTHORIZED, axum::Json(message));
    }
    if id != INSTALLATION {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "Not Found"})),
        );
    }
    let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    let answer = json!({"token": api.token, "expires_at": expires.to_string()});
    (StatusCode::CREATED, axum::Json(answer))
}

async fn installation(
    State(api): State<Arc<Api>>,
    Path((kind, owner)): Path<(String, String)>,
    headers: HeaderMap,
) -> (StatusCode, axum::Json<Value>) {
    api.requests
        .lock()
        .unwrap()
        .push(format!("GET /{kind}/{owner}/installation"));
    if api.authorized(&headers) && kind == "users" && owner == OWNER {
        return (StatusCode::OK, axum::Json(json!({"id": 42})));
    }
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"message": "Not Found"})),
    )
}

/// Serves the API stand-in under `/api/v3/` on a loopback port; returns its base URL.
async fn serve(api: Arc<Api>) -> String {
    let router = axum::Router::new()
        .route(
            "/api/v3/app/installations/{id}/access_tokens",
            post(access_token),
        )
        .route("/api/v3/{kind}/{owner}/installation", get(installation))
        .with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}/api/v3")
}

#[tokio::test]
async fn clones_with_a_github_app_installation_token() {
    let harness = Harness::start("git-github-app").await;
    let dir = tempfile::tempdir().unwrap();
    let (private_pem, public_key) = app_key(dir.path());
    let token = format!("ghs_{:032x}", rand_token());
    harness.git.add_user("x-access-token", &token);
    let api = Arc::new(Api {
        public_key,
        token,
        requests: Mutex::new(Vec::new()),
    });
    let base_url = serve(api.clone()).await;
    let repo = harness.git.create_repo("app");
    let sha = repo.commit(&[("a.yaml", "a")], "one");
    let revision = format!("main@sha1:{sha}");

    harness
        .secret(
            "by-id",
            &[
                ("githubAppID", APP_ID),
                ("githubAppInstallationID", INSTALLATION),
                ("githubAppPrivateKey", &private_pem),
                ("githubAppBaseURL", &base_url),
            ],
        )
        .await;
    for name in ["first", "second"] {
        let mut by_id = spec(&harness.git.http_url(&repo), Some("by-id"));
        by_id.provider = Some(GitProvider::Github);
        harness.create(name, by_id).await;
        let object = harness
            .wait_ready(name, ConditionStatus::True, Some(&revision))
            .await;
        assert_eq!(harness.download(&object).await["a.yaml"], "a");
    }
    // The second GitRepository reused the cached installation token.
    assert_eq!(
        *api.requests.lock().unwrap(),
        ["POST /app/installations/42/access_tokens"]
    );

    // By owner: not an organization, found as a user.
    harness
        .secret(
            "by-owner",
            &[
                ("githubAppID", APP_ID),
                ("githubAppInstallationOwner", OWNER),
                ("githubAppPrivateKey", &private_pem),
                ("githubAppBaseURL", &format!("{base_url}/")),
            ],
        )
        .await;
    let mut by_owner = spec(&harness.git.http_url(&repo), Some("by-owner"));
    by_owner.provider = Some(GitProvider::Github);
    harness.create("by-owner", by_owner).await;
    harness
        .wait_ready("by-owner", ConditionStatus::True, Some(&revision))
        .await;
    let requests = api.requests.lock().unwrap().clone();
    assert_eq!(
        requests[1..],
        [
            format!("GET /orgs/{OWNER}/installation"),
            format!("GET /users/{OWNER}/installation"),
            "POST /app/installations/42/access_tokens".to_owned(),
        ]
    );
}

/// name, provider, secretRef, expected reason, expected message.
type Case<'a> = (
    &'a str,
    Option<GitProvider>,
    Option<&'a str>,
    &'a str,
    String,
);

#[tokio::test]
async fn github_provider_misconfigurations_are_clear() {
    let harness = Harness::start("git-github-app-bad").await;
    let dir = tempfile::tempdir().unwrap();
    let (private_pem, public_key) = app_key(dir.path());
    let api = Arc::new(Api {
        public_key,
        token: "unused".into(),
        requests: Mutex::new(Vec::new()),
    });
    let base_url = serve(api).await;
    let repo = harness.git.create_repo("app");
    repo.commit(&[("a.yaml", "a")], "one");
    let namespace = harness.namespace.name().to_owned();
    harness
        .secret(
            "wrong-app",
            &[
                ("githubAppID", "999"),
                ("githubAppInstallationID", INSTALLATION),
                ("githubAppPrivateKey", &private_pem),
                ("githubAppBaseURL", &base_url),
            ],
        )
        .await;
    harness
        .secret("plain", &[("username", "u"), ("password", "p")])
        .await;
    let url = harness.git.http_url(&repo);
    let cases: [Case; 4] = [
        (
            "no-secret",
            Some(GitProvider::Github),
            None,
            "InvalidProviderConfiguration",
            "secretRef with github app data must be specified when provider is set to github"
                .to_owned(),
        ),
        (
            "no-app-data",
            Some(GitProvider::Github),
            Some("plain"),
            "InvalidProviderConfiguration",
            "secretRef with github app data must be specified when provider is set to github"
                .to_owned(),
        ),
        (
            "generic-with-app-data",
            None,
            Some("wrong-app"),
            "InvalidProviderConfiguration",
            format!(
                "secretRef '{namespace}/wrong-app' has github app data but provider is not set to github"
            ),
        ),
        (
            "rejected-jwt",
            Some(GitProvider::Github),
            Some("wrong-app"),
            "AuthenticationFailed",
            format!(
                "failed to configure authentication options: POST {base_url}/app/installations/42/access_tokens: 401 A JSON web token could not be decoded"
            ),
        ),
    ];
    for (name, provider, secret, reason, message) in cases {
        let mut object = spec(&url, secret);
        object.provider = provider;
        harness.create(name, object).await;
        let object = harness.wait_ready(name, ConditionStatus::False, None).await;
        let (got_reason, got_message) = Harness::ready_message(&object);
        assert_eq!(
            (got_reason.as_str(), got_message.as_str()),
            (reason, message.as_str()),
            "{name}"
        );
        assert!(!got_message.contains("PRIVATE KEY"), "{name}");
    }
}

fn rand_token() -> u128 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    nanos ^ u128::from(std::process::id()) << 64
}
