//! Payload snapshots: one per provider type and severity, compared with the JSON each
//! service documents (and Flux's notifiers produce).

use std::collections::BTreeMap;

use ferroflux_api::notification::v1beta3::ProviderType;
use ferroflux_runtime::events::FluxEvent;
use rstest::rstest;

use super::*;
use crate::event::test_event;

fn event(severity: &str) -> FluxEvent {
    let mut event = test_event(severity, &[]);
    event.metadata = BTreeMap::from([
        ("revision".to_owned(), "main@sha1:4c0ffee".to_owned()),
        ("summary".to_owned(), "prod eu-1".to_owned()),
    ]);
    if severity == "error" {
        event.reason = "HealthCheckFailed".to_owned();
        event.message = "health check failed after 30s: timeout waiting for: [Deployment/apps/webapp status: 'InProgress']".to_owned();
    }
    event
}

fn config(type_: ProviderType, address: &str) -> ProviderConfig {
    ProviderConfig {
        type_,
        uid: "0b7c6a2e-0000-4000-8000-000000000001".to_owned(),
        address: address.to_owned(),
        timeout: DEFAULT_TIMEOUT,
        ..ProviderConfig::default()
    }
}

fn with(mut config: ProviderConfig, change: impl FnOnce(&mut ProviderConfig)) -> ProviderConfig {
    change(&mut config);
    config
}

#[rstest]
#[case::slack_webhook(
    "slack_webhook",
    config(ProviderType::Slack, "https://hooks.slack.com/services/T0/B0/XXXX")
)]
#[case::slack_bot("slack_bot", with(config(ProviderType::Slack, "https://slack.com/api/chat.postMessage"), |c| {
    c.token = "xoxb-token".to_owned();
    c.channel = "#flux".to_owned();
    c.username = "Flux".to_owned();
}))]
#[case::discord(
    "discord",
    config(ProviderType::Discord, "https://discord.com/api/webhooks/1/abc")
)]
#[case::rocket("rocket", with(config(ProviderType::Rocket, "https://rocket.example.com/hooks/x"), |c| {
    c.channel = "flux".to_owned();
    c.username = "flux-bot".to_owned();
}))]
#[case::generic("generic", with(config(ProviderType::Generic, "https://hooks.example.com/flux"), |c| {
    c.headers.insert("X-Team".to_owned(), "platform".to_owned());
}))]
#[case::generic_hmac("generic_hmac", with(config(ProviderType::GenericHmac, "https://hooks.example.com/flux"), |c| {
    c.token = "hmac-key".to_owned();
}))]
#[case::msteams_workflow(
    "msteams_workflow",
    config(
        ProviderType::Msteams,
        "https://prod.westeurope.logic.azure.com/workflows/1"
    )
)]
#[case::msteams_connector(
    "msteams_connector",
    config(
        ProviderType::Msteams,
        "https://example.webhook.office.com/webhookb2/1"
    )
)]
#[case::googlechat(
    "googlechat",
    config(
        ProviderType::Googlechat,
        "https://chat.googleapis.com/v1/spaces/X/messages?key=k"
    )
)]
#[case::webex("webex", with(config(ProviderType::Webex, "https://webexapis.com/v1/messages"), |c| {
    c.channel = "room-id".to_owned();
    c.token = "webex-token".to_owned();
}))]
#[case::telegram("telegram", with(config(ProviderType::Telegram, ""), |c| {
    c.channel = "-100123:42".to_owned();
    c.token = "bot-token".to_owned();
}))]
#[case::matrix("matrix", with(config(ProviderType::Matrix, "https://matrix.example.com"), |c| {
    c.channel = "!room:example.com".to_owned();
    c.token = "matrix-token".to_owned();
}))]
#[case::lark(
    "lark",
    config(ProviderType::Lark, "https://open.feishu.cn/open-apis/bot/v2/hook/x")
)]
#[case::zulip("zulip", with(config(ProviderType::Zulip, "https://zulip.example.com"), |c| {
    c.channel = "ops/flux alerts".to_owned();
    c.username = "bot@example.com".to_owned();
    c.password = "api-key".to_owned();
}))]
#[case::opsgenie("opsgenie", with(config(ProviderType::Opsgenie, "https://api.opsgenie.com/v2/alerts"), |c| {
    c.token = "genie-key".to_owned();
}))]
#[case::alertmanager("alertmanager", with(config(ProviderType::Alertmanager, "https://am.example.com/api/v2/alerts"), |c| {
    c.token = "am-token".to_owned();
}))]
#[case::grafana("grafana", with(config(ProviderType::Grafana, "https://grafana.example.com/api/annotations"), |c| {
    c.token = "grafana-token".to_owned();
}))]
#[case::pagerduty("pagerduty", with(config(ProviderType::Pagerduty, "https://events.pagerduty.com"), |c| {
    c.channel = "routing-key".to_owned();
}))]
#[case::datadog("datadog", with(config(ProviderType::Datadog, "https://api.datadoghq.eu"), |c| {
    c.token = "dd-key".to_owned();
}))]
#[case::zoom("zoom", with(config(ProviderType::Zoom, "https://integrations.zoom.us/chat/webhooks/incomingwebhook/abc"), |c| {
    c.token = "zoom-token".to_owned();
}))]
#[case::incidentio("incidentio", with(config(ProviderType::IncidentIo, "https://api.incident.io/v2/alert_events/http/src"), |c| {
    c.token = "incident-token".to_owned();
}))]
#[case::sentry("sentry", with(config(ProviderType::Sentry, "https://key123@o1.ingest.sentry.io/42"), |c| {
    c.channel = "production".to_owned();
}))]
#[case::otel("otel", with(config(ProviderType::Otel, "https://otel.example.com:4318"), |c| {
    c.token = "otel-token".to_owned();
    c.headers.insert("X-Tenant".to_owned(), "flux".to_owned());
    c.alert = AlertRef { name: "all".to_owned(), namespace: "flux-system".to_owned(), uid: "a11e7-0000".to_owned() };
}))]
#[case::githubdispatch("githubdispatch", with(config(ProviderType::Githubdispatch, "https://github.com/org/repo"), |c| {
    c.token = "ghp_token".to_owned();
}))]
#[case::azureeventhub("azureeventhub", with(config(ProviderType::Azureeventhub, "flux-events"), |c| {
    c.token = "jwt-token".to_owned();
    c.channel = "my-namespace".to_owned();
}))]
#[case::googlepubsub("googlepubsub", with(config(ProviderType::Googlepubsub, "my-project"), |c| {
    c.channel = "flux-topic".to_owned();
    c.headers.insert("team".to_owned(), "platform".to_owned());
}))]
fn payloads(#[case] name: &str, #[case] config: ProviderConfig) {
    for severity in ["info", "error"] {
        let requests = requests(&event(severity), &config).expect("the payload builds");
        insta::assert_json_snapshot!(format!("{name}_{severity}"), requests);
    }
}

#[test]
fn slack_colours_author_and_fields() {
    let config = config(
        ProviderType::Slack,
        "https://hooks.slack.com/services/T0/B0/XXXX",
    );
    let request = &requests(&event("error"), &config).unwrap()[0];
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    let attachment = &body["attachments"][0];
    assert_eq!(attachment["color"], "danger");
    assert_eq!(attachment["author_name"], "kustomization/webapp.apps");
    assert_eq!(body["username"], "kustomize-controller");
    assert_eq!(attachment["fields"][0]["title"], "revision");
    assert!(
        request
            .headers
            .iter()
            .all(|(name, _)| name != "Authorization")
    );
}

#[test]
fn generic_hmac_signature_verifies() {
    let config = with(
        config(ProviderType::GenericHmac, "https://h.example.com"),
        |c| {
            c.token = "key".to_owned();
        },
    );
    let request = &requests(&event("info"), &config).unwrap()[0];
    let signature = request
        .headers
        .iter()
        .find(|(name, _)| name == "X-Signature")
        .map(|(_, value)| value.clone())
        .unwrap();
    assert_eq!(
        signature,
        format!("sha256={}", generic::sign(&request.body, b"key"))
    );
}

#[test]
fn discord_appends_slack_once() {
    for address in [
        "https://discord.com/api/webhooks/1/abc",
        "https://discord.com/api/webhooks/1/abc/slack",
    ] {
        let request =
            &requests(&event("info"), &config(ProviderType::Discord, address)).unwrap()[0];
        assert_eq!(request.url, "https://discord.com/api/webhooks/1/abc/slack");
    }
}

#[rstest]
#[case::missing_address(config(ProviderType::Slack, ""), "invalid Slack address")]
#[case::relative_address(config(ProviderType::Generic, "/hook"), "invalid generic address")]
#[case::hmac_without_token(
    config(ProviderType::GenericHmac, "https://h.example.com"),
    "HMAC key is empty"
)]
#[case::telegram_without_channel(config(ProviderType::Telegram, ""), "empty Telegram channel")]
#[case::opsgenie_without_token(
    config(ProviderType::Opsgenie, "https://api.opsgenie.com"),
    "empty Opsgenie"
)]
#[case::zulip_bad_channel(
    config(ProviderType::Zulip, "https://z.example.com"),
    "invalid Zulip channel"
)]
#[case::zoom_without_token(
    config(ProviderType::Zoom, "https://zoom.example.com"),
    "empty Zoom verification token"
)]
#[case::sentry_without_dsn(config(ProviderType::Sentry, ""), "DSN cannot be empty")]
#[case::pubsub_without_topic(
    config(ProviderType::Googlepubsub, "proj"),
    "topic ID cannot be empty"
)]
fn configuration_errors(#[case] config: ProviderConfig, #[case] expected: &str) {
    let error = requests(&event("info"), &config).unwrap_err().to_string();
    assert!(error.contains(expected), "{error}");
}

#[test]
fn pagerduty_skips_progressing() {
    let mut progressing = event("info");
    progressing.reason = "Progressing".to_owned();
    let config = config(ProviderType::Pagerduty, "https://events.pagerduty.com");
    assert!(requests(&progressing, &config).unwrap().is_empty());
}

#[rstest]
#[case("ReconciliationSucceeded", &["Reconciliation", "Succeeded"])]
#[case("HTTPError", &["HTTP", "Error"])]
#[case("PDFLoader", &["PDF", "Loader"])]
#[case("Ready2Go", &["Ready", "2", "Go"])]
fn camel_case_words(#[case] reason: &str, #[case] words: &[&str]) {
    assert_eq!(split_camel_case(reason), words);
}

#[test]
fn go_query_escape() {
    assert_eq!(query_escape("a b/c*~"), "a+b%2Fc%2A~");
}

const SHA: &str = "5394cb7f48332b2de7c17dd8b8384bbc84b7e738";

fn commit_event(severity: &str) -> FluxEvent {
    let mut event = event(severity);
    event
        .metadata
        .insert("revision".to_owned(), format!("main@sha1:{SHA}"));
    event
}

#[rstest]
#[case::github("github", with(config(ProviderType::Github, "https://github.com/org/repo.git"), |c| {
    c.token = "ghp_token".to_owned();
}))]
#[case::github_enterprise("github_enterprise", with(config(ProviderType::Github, "https://ghe.example.com/org/repo"), |c| {
    c.password = "ghp_token".to_owned();
}))]
#[case::gitlab("gitlab", with(config(ProviderType::Gitlab, "https://gitlab.com/group/sub/repo"), |c| {
    c.token = "glpat".to_owned();
}))]
#[case::gitea("gitea", with(config(ProviderType::Gitea, "https://gitea.example.com/org/repo"), |c| {
    c.token = "gitea-token".to_owned();
}))]
#[case::bitbucket("bitbucket", with(config(ProviderType::Bitbucket, "https://bitbucket.org/org/repo"), |c| {
    c.token = "user:app-password".to_owned();
}))]
#[case::bitbucketserver("bitbucketserver", with(config(ProviderType::Bitbucketserver, "https://bb.example.com/context/scm/PROJ/repo.git"), |c| {
    c.token = "bb-token".to_owned();
}))]
#[case::azuredevops("azuredevops", with(config(ProviderType::Azuredevops, "https://dev.azure.com/org/proj/_git/repo"), |c| {
    c.token = "pat".to_owned();
}))]
fn commit_status_plans(#[case] name: &str, #[case] config: ProviderConfig) {
    let config = with(config, |c| {
        c.commit_status = "kustomization/webapp/0b7c6a2e".to_owned();
    });
    for severity in ["info", "error"] {
        let delivery = plan(&commit_event(severity), &config).expect("the plan builds");
        insta::assert_json_snapshot!(format!("commit_status_{name}_{severity}"), delivery);
    }
}

#[test]
fn commit_status_skips_progressing_except_gitea() {
    let mut progressing = commit_event("info");
    progressing.reason = "Progressing".to_owned();
    let github = with(
        config(ProviderType::Github, "https://github.com/o/r"),
        |c| {
            c.token = "t".to_owned();
            c.commit_status = "id".to_owned();
        },
    );
    assert!(plan(&progressing, &github).unwrap().is_empty());
    let gitea = with(github, |c| c.type_ = ProviderType::Gitea);
    let Delivery::CommitStatus(status) = plan(&progressing, &gitea).unwrap() else {
        panic!("gitea reports progressing");
    };
    assert_eq!(status.wanted.state, "pending");
}

#[rstest]
#[case::no_revision(
    ProviderType::Github,
    "https://github.com/o/r",
    "",
    "missing revision metadata"
)]
#[case::bad_revision(
    ProviderType::Github,
    "https://github.com/o/r",
    "v1.0.0",
    "failed to extract commit hash from 'v1.0.0' revision"
)]
#[case::bad_repo(
    ProviderType::Github,
    "https://github.com/o",
    SHA,
    "invalid repository id"
)]
#[case::bitbucket_token(
    ProviderType::Bitbucket,
    "https://bitbucket.org/o/r",
    SHA,
    "invalid token format"
)]
#[case::bbs_address(
    ProviderType::Bitbucketserver,
    "https://bb.example.com/o/r",
    SHA,
    "not http(s) git clone url"
)]
fn commit_status_errors(
    #[case] type_: ProviderType,
    #[case] address: &str,
    #[case] revision: &str,
    #[case] expected: &str,
) {
    let mut event = event("info");
    event.metadata.remove("revision");
    if !revision.is_empty() {
        event
            .metadata
            .insert("revision".to_owned(), revision.to_owned());
    }
    let config = with(config(type_, address), |c| {
        c.token = "token".to_owned();
        c.commit_status = "id".to_owned();
    });
    let error = plan(&event, &config).unwrap_err().to_string();
    assert!(error.contains(expected), "{error}");
}

#[test]
fn azure_event_hub_sas_signature() {
    let signature = services::azure_sas(
        "https://ns.servicebus.windows.net/hub",
        "send",
        "key",
        1_700_000_000,
    );
    assert_eq!(
        signature,
        format!(
            "SharedAccessSignature sr=https%3A%2F%2Fns.servicebus.windows.net%2Fhub&sig={}&se=1700000000&skn=send",
            query_escape(&{
                use base64::Engine as _;
                use hmac::{Hmac, KeyInit, Mac};
                let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"key").unwrap();
                mac.update(b"https%3A%2F%2Fns.servicebus.windows.net%2Fhub\n1700000000");
                base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
            })
        )
    );
    let config = config(
        ProviderType::Azureeventhub,
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=key;EntityPath=hub",
    );
    let request = &requests(&event("info"), &config).unwrap()[0];
    assert_eq!(
        request.url,
        "https://ns.servicebus.windows.net/hub/messages"
    );
    assert!(
        request
            .headers
            .iter()
            .any(|(k, v)| k == "Authorization" && v.starts_with("SharedAccessSignature sr="))
    );
}

#[test]
fn google_token_request_is_a_signed_jwt_bearer_grant() {
    let (pem, jwks) = crate::jwt::testing::rsa_pem("key-1");
    let credentials = serde_json::json!({
        "type": "service_account", "client_email": "flux@proj.iam.gserviceaccount.com",
        "private_key": pem, "private_key_id": "key-1", "token_uri": "http://127.0.0.1:1/token",
    });
    let request =
        services::google_token_request(&credentials.to_string(), jiff::Timestamp::now()).unwrap();
    assert_eq!(request.url, "http://127.0.0.1:1/token");
    let body = String::from_utf8(request.body).unwrap();
    let assertion = body.split("assertion=").nth(1).unwrap();
    let claims = crate::jwt::verify(
        assertion,
        &jwks,
        &crate::jwt::Expectations {
            issuers: &["flux@proj.iam.gserviceaccount.com"],
            audience: "http://127.0.0.1:1/token",
            now: jiff::Timestamp::now(),
        },
    )
    .unwrap();
    assert_eq!(claims["scope"], "https://www.googleapis.com/auth/pubsub");
}

#[rstest]
#[case::github("githubpullrequestcomment", with(config(ProviderType::Githubpullrequestcomment, "https://github.com/org/repo"), |c| {
    c.token = "ghp_token".to_owned();
}))]
#[case::gitlab("gitlabmergerequestcomment", with(config(ProviderType::Gitlabmergerequestcomment, "https://gitlab.com/group/repo"), |c| {
    c.token = "glpat".to_owned();
}))]
#[case::gitea("giteapullrequestcomment", with(config(ProviderType::Giteapullrequestcomment, "https://gitea.example.com/org/repo"), |c| {
    c.token = "gitea-token".to_owned();
}))]
fn change_request_plans(#[case] name: &str, #[case] config: ProviderConfig) {
    for severity in ["info", "error"] {
        let mut event = event(severity);
        event
            .metadata
            .insert("change_request".to_owned(), "42".to_owned());
        let delivery = plan(&event, &config).expect("the plan builds");
        insta::assert_json_snapshot!(format!("change_request_{name}_{severity}"), delivery);
    }
}
