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
#[case::unsupported(
    config(ProviderType::Github, "https://github.com/org/repo"),
    "provider type 'github' is not supported"
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
