//! Webhooks in, reconcile requests out.

use std::time::Duration;

use ferroflux_api::notification::v1::Receiver;
use ferroflux_api::source::v1::GitRepository;
use ferroflux_testkit::wait_for_value;
use hmac::{Hmac, KeyInit, Mac};
use kube::Api;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::harness::Harness;

const TOKEN: &str = "webhook-token-0001";
const ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";

async fn git_repository(harness: &Harness, name: &str) {
    let _: GitRepository = harness
        .apply_yaml(json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name},
            "spec": {"url": "https://github.com/stefanprodan/podinfo", "interval": "1h", "ref": {"branch": "master"}},
        }))
        .await;
}

async fn receiver(harness: &Harness, name: &str, spec: Value) {
    let _: Receiver = harness
        .apply_yaml(json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1",
            "kind": "Receiver",
            "metadata": {"name": name},
            "spec": spec,
        }))
        .await;
}

/// Waits until the Receiver's Ready condition has `status`; returns (reason, message, path).
async fn wait_ready(
    harness: &Harness,
    name: &str,
    status: &str,
) -> (String, String, Option<String>) {
    let api: Api<Receiver> = Api::namespaced(harness.client.clone(), harness.ns());
    let what = format!("Receiver {name} Ready={status}; log: {}", harness.log());
    wait_for_value(Duration::from_secs(60), &what, || {
        let api = api.clone();
        async move {
            let receiver = api.get(name).await.ok()?;
            let receiver_status = receiver.status?;
            let ready = receiver_status
                .conditions?
                .into_iter()
                .find(|c| c.type_ == "Ready")?;
            (serde_json::to_value(ready.status).ok()? == status).then_some((
                ready.reason,
                ready.message,
                receiver_status.webhook_path,
            ))
        }
    })
    .await
}

async fn requested_at(harness: &Harness, name: &str) -> Option<String> {
    let api: Api<GitRepository> = Api::namespaced(harness.client.clone(), harness.ns());
    api.get(name)
        .await
        .unwrap()
        .metadata
        .annotations?
        .get(ANNOTATION)
        .cloned()
}

fn signature(body: &[u8], key: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn post_github(url: &str, event: &str, signature: &str, body: &'static [u8]) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-GitHub-Event", event)
        .header("X-Hub-Signature-256", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn github_push_annotates_and_bad_signatures_do_not() {
    let mut harness = Harness::new("nc-github").await;
    git_repository(&harness, "podinfo").await;
    harness.secret("webhook-token", &[("token", TOKEN)]).await;
    receiver(
        &harness,
        "github",
        json!({
            "type": "github",
            "events": ["push"],
            "secretRef": {"name": "webhook-token"},
            "resources": [{"kind": "GitRepository", "name": "podinfo"}],
        }),
    )
    .await;
    harness.start(&[]).await;

    let (reason, message, path) = wait_ready(&harness, "github", "True").await;
    let path = path.expect("status.webhookPath is set");
    let expected = ferroflux_expected_path(TOKEN, "github", harness.ns());
    assert_eq!(path, expected);
    assert_eq!(reason, "Succeeded");
    assert_eq!(message, format!("Receiver initialized for path: {path}"));
    let url = format!("{}{path}", harness.receiver_url);
    let body: &'static [u8] = br#"{"ref":"refs/heads/master","after":"4c0ffee"}"#;

    assert_eq!(
        post_github(&url, "push", &signature(body, "wrong-token"), body).await,
        400
    );
    assert_eq!(post_github(&url, "push", "", body).await, 400);
    assert_eq!(
        post_github(&url, "ping", &signature(body, TOKEN), body).await,
        200
    );
    assert_eq!(
        post_github(&url, "issues", &signature(body, TOKEN), body).await,
        400
    );
    assert_eq!(
        requested_at(&harness, "podinfo").await,
        None,
        "nothing was triggered"
    );

    assert_eq!(
        post_github(&url, "push", &signature(body, TOKEN), body).await,
        200
    );
    let token = requested_at(&harness, "podinfo")
        .await
        .expect("requestedAt is set");
    assert!(token.ends_with(" +0000 UTC"), "{token}");
}

fn ferroflux_expected_path(token: &str, name: &str, namespace: &str) -> String {
    use sha2::Digest as _;
    format!(
        "/hook/{}",
        hex::encode(Sha256::digest(
            format!("{token}{name}{namespace}").as_bytes()
        ))
    )
}

#[tokio::test]
async fn gitlab_token_and_label_selected_resources() {
    let mut harness = Harness::new("nc-gitlab").await;
    for (name, team) in [("a", "web"), ("b", "web"), ("c", "db")] {
        let _: GitRepository = harness
            .apply_yaml(json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": name, "labels": {"team": team}},
                "spec": {"url": "https://example.com/repo.git", "interval": "1h"},
            }))
            .await;
    }
    harness.secret("webhook-token", &[("token", TOKEN)]).await;
    receiver(
        &harness,
        "gitlab",
        json!({
            "type": "gitlab",
            "events": ["Push Hook"],
            "secretRef": {"name": "webhook-token"},
            "resources": [{"kind": "GitRepository", "name": "*", "matchLabels": {"team": "web"}}],
        }),
    )
    .await;
    harness.start(&[]).await;
    let (_, _, path) = wait_ready(&harness, "gitlab", "True").await;
    let url = format!("{}{}", harness.receiver_url, path.unwrap());
    let post = |token: &'static str| {
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .header("X-Gitlab-Token", token)
                .header("X-Gitlab-Event", "Push Hook")
                .body("{}")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post("nope").await, 400);
    assert_eq!(post(TOKEN).await, 200);
    assert!(requested_at(&harness, "a").await.is_some());
    assert!(requested_at(&harness, "b").await.is_some());
    assert!(requested_at(&harness, "c").await.is_none());
}

#[tokio::test]
async fn missing_token_secret_is_token_not_found() {
    let mut harness = Harness::new("nc-token").await;
    receiver(
        &harness,
        "orphan",
        json!({
            "type": "generic",
            "secretRef": {"name": "does-not-exist"},
            "resources": [{"kind": "GitRepository", "name": "podinfo"}],
        }),
    )
    .await;
    harness.start(&[]).await;
    let (reason, message, path) = wait_ready(&harness, "orphan", "False").await;
    assert_eq!(reason, "TokenNotFound");
    assert!(message.contains("does-not-exist"), "{message}");
    assert_eq!(path, None);
}

async fn labelled_repositories(harness: &Harness, repositories: &[(&str, &str)]) {
    for (name, team) in repositories {
        let _: GitRepository = harness
            .apply_yaml(json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": name, "labels": {"team": team, "app": "x"}},
                "spec": {"url": "https://example.com/repo.git", "interval": "1h"},
            }))
            .await;
    }
}

async fn post_json(url: &str, authorization: Option<&str>, body: &Value) -> u16 {
    let mut request = reqwest::Client::new().post(url).json(body);
    if let Some(authorization) = authorization {
        request = request.header("Authorization", authorization);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn cel_filters_select_resources_from_the_request() {
    let mut harness = Harness::new("nc-cel").await;
    labelled_repositories(
        &harness,
        &[("web-a", "web"), ("web-b", "web"), ("db", "db")],
    )
    .await;
    harness.secret("webhook-token", &[("token", TOKEN)]).await;
    receiver(
        &harness,
        "filtered",
        json!({
            "type": "generic",
            "secretRef": {"name": "webhook-token"},
            "resourceFilter": "res.metadata.labels.team == req.team",
            "resources": [{
                "kind": "GitRepository", "name": "*", "matchLabels": {"app": "x"},
                "filter": "res.metadata.name != 'web-b'",
            }],
        }),
    )
    .await;
    harness.start(&[]).await;
    let (_, _, path) = wait_ready(&harness, "filtered", "True").await;
    let url = format!("{}{}", harness.receiver_url, path.unwrap());
    assert_eq!(post_json(&url, None, &json!({"team": "web"})).await, 200);
    assert!(requested_at(&harness, "web-a").await.is_some());
    assert!(
        requested_at(&harness, "web-b").await.is_none(),
        "the per-resource filter"
    );
    assert!(
        requested_at(&harness, "db").await.is_none(),
        "resourceFilter"
    );
    // A body that is not JSON while the header says so: the filters cannot run, 500.
    let status = reqwest::Client::new()
        .post(&url)
        .header("Content-Type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 500);
}

#[tokio::test]
async fn invalid_cel_filter_stalls() {
    let mut harness = Harness::new("nc-cel-bad").await;
    harness.secret("webhook-token", &[("token", TOKEN)]).await;
    receiver(
        &harness,
        "filtered",
        json!({
            "type": "generic",
            "secretRef": {"name": "webhook-token"},
            "resourceFilter": "res.metadata.name ==",
            "resources": [{"kind": "GitRepository", "name": "*", "matchLabels": {"a": "b"}}],
        }),
    )
    .await;
    harness.start(&[]).await;
    let (reason, message, _) = wait_ready(&harness, "filtered", "False").await;
    assert_eq!(reason, "InvalidCELExpression");
    assert!(
        message.contains("invalid resourceFilter expression"),
        "{message}"
    );
    let api: Api<Receiver> = Api::namespaced(harness.client.clone(), harness.ns());
    let receiver = api.get("filtered").await.unwrap();
    let stalled = receiver
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Stalled")
        .expect("Stalled is set");
    assert_eq!(stalled.reason, "InvalidCELExpression");
}

mod tokens {
    //! Keys made up by the test, and JWTs signed with them.

    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
    use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::{Value, json};

    fn b64(data: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(data)
    }

    fn jwt(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = sign(input.as_bytes());
        format!("{input}.{}", b64(&signature))
    }

    pub struct Rsa(RsaKeyPair);

    impl Rsa {
        pub fn new() -> Self {
            Self(RsaKeyPair::generate(KeySize::Rsa2048).unwrap())
        }
        pub fn jwks(&self) -> Value {
            let c = PublicKeyComponents::<Vec<u8>>::from(self.0.public_key());
            json!({"keys": [{"kty": "RSA", "alg": "RS256", "kid": "g1", "n": b64(&c.n), "e": b64(&c.e)}]})
        }
        pub fn sign(&self, claims: &Value) -> String {
            jwt(
                &json!({"alg": "RS256", "kid": "g1", "typ": "JWT"}),
                claims,
                |input| {
                    let mut out = vec![0; self.0.public_modulus_len()];
                    self.0
                        .sign(
                            &signature::RSA_PKCS1_SHA256,
                            &SystemRandom::new(),
                            input,
                            &mut out,
                        )
                        .unwrap();
                    out
                },
            )
        }
    }

    pub struct Ec(EcdsaKeyPair);

    impl Ec {
        pub fn new() -> Self {
            Self(EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap())
        }
        pub fn jwks(&self) -> Value {
            let point = self.0.public_key().as_ref();
            json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "e1", "x": b64(&point[1..33]), "y": b64(&point[33..65])}]})
        }
        pub fn sign(&self, claims: &Value) -> String {
            jwt(
                &json!({"alg": "ES256", "kid": "e1", "typ": "JWT"}),
                claims,
                |input| {
                    self.0
                        .sign(&SystemRandom::new(), input)
                        .unwrap()
                        .as_ref()
                        .to_vec()
                },
            )
        }
    }

    pub fn now() -> i64 {
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap()
    }
}

/// Serves `documents` (path → JSON) on loopback; returns the base URL.
async fn serve_json(documents: Vec<(String, Value)>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let documents: std::collections::HashMap<String, Value> = documents
        .into_iter()
        .map(|(path, value)| {
            (
                path,
                serde_json::from_str(&value.to_string().replace("{BASE}", &base)).unwrap(),
            )
        })
        .collect();
    let documents = std::sync::Arc::new(documents);
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let documents = documents.clone();
        async move {
            match documents.get(uri.path()) {
                Some(value) => (axum::http::StatusCode::OK, axum::Json(value.clone())),
                None => (axum::http::StatusCode::NOT_FOUND, axum::Json(json!({}))),
            }
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::test]
async fn gcr_push_with_a_google_id_token() {
    use base64::Engine as _;
    let google = tokens::Rsa::new();
    let certs = serve_json(vec![("/oauth2/v3/certs".to_owned(), google.jwks())]).await;
    let mut harness = Harness::new("nc-gcr").await;
    labelled_repositories(&harness, &[("images", "web")]).await;
    harness
        .secret(
            "gcr",
            &[
                ("token", TOKEN),
                ("email", "push@proj.iam.gserviceaccount.com"),
                ("audience", "https://flux.example/hook"),
            ],
        )
        .await;
    receiver(
        &harness,
        "gcr",
        json!({
            "type": "gcr",
            "secretRef": {"name": "gcr"},
            "resourceFilter": "req.action == 'INSERT' && req.tag.endsWith(':v2')",
            "resources": [{"kind": "GitRepository", "name": "images"}],
        }),
    )
    .await;
    harness
        .start(&[&format!("--gcr-certs-url={certs}/oauth2/v3/certs")])
        .await;
    let (_, _, path) = wait_ready(&harness, "gcr", "True").await;
    let url = format!("{}{}", harness.receiver_url, path.unwrap());
    let push = |tag: &str| {
        let data = json!({"action": "INSERT", "digest": "gcr.io/proj/app@sha256:abc", "tag": tag});
        json!({"message": {"data": base64::engine::general_purpose::STANDARD.encode(data.to_string()), "messageId": "1"}, "subscription": "projects/proj/subscriptions/flux"})
    };
    let claims = |iss: &str, aud: &str, email: &str, verified: bool| json!({"iss": iss, "aud": aud, "email": email, "email_verified": verified, "exp": tokens::now() + 300, "iat": tokens::now()});
    let bearer = |token: String| format!("Bearer {token}");
    let good = google.sign(&claims(
        "https://accounts.google.com",
        "https://flux.example/hook",
        "push@proj.iam.gserviceaccount.com",
        true,
    ));

    let other_key = tokens::Rsa::new().sign(&claims(
        "https://accounts.google.com",
        "https://flux.example/hook",
        "push@proj.iam.gserviceaccount.com",
        true,
    ));
    for (authorization, why) in [
        (None, "no token"),
        (Some(bearer(other_key)), "signed by another key"),
        (
            Some(bearer(google.sign(&claims(
                "accounts.google.com",
                "https://other",
                "push@proj.iam.gserviceaccount.com",
                true,
            )))),
            "wrong audience",
        ),
        (
            Some(bearer(google.sign(&claims(
                "https://evil.example",
                "https://flux.example/hook",
                "push@proj.iam.gserviceaccount.com",
                true,
            )))),
            "wrong issuer",
        ),
        (
            Some(bearer(google.sign(&claims(
                "https://accounts.google.com",
                "https://flux.example/hook",
                "other@proj.iam.gserviceaccount.com",
                true,
            )))),
            "wrong email",
        ),
        (
            Some(bearer(google.sign(&claims(
                "https://accounts.google.com",
                "https://flux.example/hook",
                "push@proj.iam.gserviceaccount.com",
                false,
            )))),
            "email not verified",
        ),
    ] {
        assert_eq!(
            post_json(&url, authorization.as_deref(), &push("gcr.io/proj/app:v2")).await,
            400,
            "{why}"
        );
    }
    assert_eq!(requested_at(&harness, "images").await, None);
    assert_eq!(
        post_json(
            &url,
            Some(&bearer(good.clone())),
            &push("gcr.io/proj/app:v1")
        )
        .await,
        200
    );
    assert_eq!(
        requested_at(&harness, "images").await,
        None,
        "the filter sees the unwrapped tag"
    );
    assert_eq!(
        post_json(&url, Some(&bearer(good)), &push("gcr.io/proj/app:v2")).await,
        200
    );
    assert!(requested_at(&harness, "images").await.is_some());
    assert!(harness.log().contains("cannot authenticate GCR request"));
}

#[tokio::test]
async fn generic_oidc_verifies_issuer_signature_and_claims() {
    let issuer_key = tokens::Ec::new();
    let issuer = serve_json(vec![
        (
            "/.well-known/openid-configuration".to_owned(),
            json!({"issuer": "{BASE}", "jwks_uri": "{BASE}/keys"}),
        ),
        ("/keys".to_owned(), issuer_key.jwks()),
    ])
    .await;
    let mut harness = Harness::new("nc-oidc").await;
    labelled_repositories(&harness, &[("app", "web"), ("other", "web")]).await;
    receiver(
        &harness,
        "ci",
        json!({
            "type": "generic-oidc",
            "oidcProviders": [{
                "issuerURL": issuer,
                "variables": [{"name": "repo", "expression": "claims.repository"}],
                "validations": [{"expression": "vars.repo == 'org/app'", "message": "only org/app may trigger"}],
            }],
            "resourceFilter": "res.metadata.name == claims.repository.split('/')[1]",
            "resources": [{"kind": "GitRepository", "name": "*", "matchLabels": {"app": "x"}}],
        }),
    )
    .await;
    harness.start(&[]).await;
    let (_, _, path) = wait_ready(&harness, "ci", "True").await;
    let path = path.unwrap();
    assert_eq!(
        path,
        ferroflux_expected_path("", "ci", harness.ns()),
        "no token in the path"
    );
    let url = format!("{}{path}", harness.receiver_url);
    let claims = |aud: &str, repository: &str| json!({"iss": issuer, "aud": aud, "sub": "repo:org/app", "repository": repository, "exp": tokens::now() + 300});
    let bearer = |token: String| format!("Bearer {token}");
    for (authorization, why) in [
        (None, "no token"),
        (
            Some(bearer(issuer_key.sign(&claims("someone-else", "org/app")))),
            "wrong audience",
        ),
        (
            Some(bearer(
                tokens::Ec::new().sign(&claims("notification-controller", "org/app")),
            )),
            "another key",
        ),
        (
            Some(bearer(
                issuer_key.sign(&claims("notification-controller", "org/evil")),
            )),
            "the validation fails",
        ),
    ] {
        assert_eq!(
            post_json(&url, authorization.as_deref(), &json!({})).await,
            400,
            "{why}"
        );
    }
    assert_eq!(requested_at(&harness, "app").await, None);
    let good = issuer_key.sign(&claims("notification-controller", "org/app"));
    assert_eq!(post_json(&url, Some(&bearer(good)), &json!({})).await, 200);
    assert!(requested_at(&harness, "app").await.is_some());
    assert!(
        requested_at(&harness, "other").await.is_none(),
        "claims in resourceFilter"
    );
    assert!(harness.log().contains("only org/app may trigger"));
}
