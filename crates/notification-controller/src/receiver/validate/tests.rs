use axum::http::{HeaderMap, HeaderName, HeaderValue};
use ferroflux_api::notification::v1::ReceiverType;
use hmac::{Hmac, KeyInit, Mac};
use rstest::rstest;
use sha1::Sha1;
use sha2::Sha256;

use super::*;

const BODY: &[u8] = br#"{"ref":"refs/heads/main","after":"4c0ffee"}"#;
const TOKEN: &str = "s3cr3t";

fn sha256(body: &[u8], key: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn sha1(body: &[u8], key: &str) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            )
        })
        .collect()
}

fn events(list: &[&str]) -> Vec<String> {
    list.iter().map(|e| (*e).to_owned()).collect()
}

#[rstest]
#[case::signed_push(&[("Content-Type", "application/json"), ("X-GitHub-Event", "push"), ("X-Hub-Signature-256", "sha256=GOOD")], &["push"], Ok(Verdict::Reconcile))]
#[case::events_case_insensitive(&[("Content-Type", "application/json"), ("X-GitHub-Event", "Push"), ("X-Hub-Signature-256", "sha256=GOOD")], &["push"], Ok(Verdict::Reconcile))]
#[case::all_events(&[("Content-Type", "application/json"), ("X-GitHub-Event", "release"), ("X-Hub-Signature-256", "sha256=GOOD")], &[], Ok(Verdict::Reconcile))]
#[case::legacy_sha1(&[("Content-Type", "application/json"), ("X-GitHub-Event", "push"), ("X-Hub-Signature", "sha1=SHA1")], &["push"], Ok(Verdict::Reconcile))]
#[case::ping(&[("Content-Type", "application/json"), ("X-GitHub-Event", "ping"), ("X-Hub-Signature-256", "sha256=GOOD")], &["push"], Ok(Verdict::Ping))]
#[case::event_not_allowed(&[("Content-Type", "application/json"), ("X-GitHub-Event", "issues"), ("X-Hub-Signature-256", "sha256=GOOD")], &["push"], Err("not authorised"))]
#[case::bad_signature(&[("Content-Type", "application/json"), ("X-GitHub-Event", "push"), ("X-Hub-Signature-256", "sha256=BAD")], &["push"], Err("signature check failed"))]
#[case::unsigned(&[("Content-Type", "application/json"), ("X-GitHub-Event", "push")], &["push"], Err("missing signature"))]
#[case::unsigned_ping(&[("Content-Type", "application/json"), ("X-GitHub-Event", "ping")], &[], Err("missing signature"))]
#[case::wrong_content_type(&[("Content-Type", "text/plain"), ("X-GitHub-Event", "push"), ("X-Hub-Signature-256", "sha256=GOOD")], &[], Err("unsupported Content-Type"))]
fn github(
    #[case] pairs: &[(&str, &str)],
    #[case] allowed_events: &[&str],
    #[case] expected: Result<Verdict, &str>,
) {
    let good = sha256(BODY, TOKEN);
    let bad = sha256(BODY, "other");
    let legacy = sha1(BODY, TOKEN);
    let pairs: Vec<(&str, String)> = pairs
        .iter()
        .map(|(k, v)| {
            (
                *k,
                v.replace("GOOD", &good)
                    .replace("BAD", &bad)
                    .replace("SHA1", &legacy),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let result = validate(
        ReceiverType::Github,
        &events(allowed_events),
        TOKEN,
        &headers(&pairs),
        BODY,
    );
    match expected {
        Ok(verdict) => assert_eq!(result, Ok(verdict)),
        Err(fragment) => {
            let error = result.unwrap_err();
            assert!(error.contains(fragment), "{error}");
        }
    }
}

#[rstest]
#[case::token_and_event(ReceiverType::Gitlab, &[("X-Gitlab-Token", TOKEN), ("X-Gitlab-Event", "Push Hook")], &["Push Hook"], true)]
#[case::wrong_token(ReceiverType::Gitlab, &[("X-Gitlab-Token", "nope"), ("X-Gitlab-Event", "Push Hook")], &[], false)]
#[case::other_event(ReceiverType::Gitlab, &[("X-Gitlab-Token", TOKEN), ("X-Gitlab-Event", "Tag Push Hook")], &["Push Hook"], false)]
#[case::generic(ReceiverType::Generic, &[], &[], true)]
#[case::harbor(ReceiverType::Harbor, &[("Authorization", TOKEN)], &[], true)]
#[case::harbor_wrong(ReceiverType::Harbor, &[("Authorization", "Bearer x")], &[], false)]
#[case::dockerhub(ReceiverType::Dockerhub, &[], &[], true)]
#[case::quay(ReceiverType::Quay, &[], &[], true)]
#[case::acr(ReceiverType::Acr, &[], &[], true)]
#[case::cdevents_without_context(ReceiverType::Cdevents, &[("Ce-Type", "dev.cdevents.change.merged.0.1.2")], &[], false)]
#[case::gcr_unsupported(ReceiverType::Gcr, &[], &[], false)]
fn token_and_payload_types(
    #[case] type_: ReceiverType,
    #[case] pairs: &[(&str, &str)],
    #[case] allowed_events: &[&str],
    #[case] accepted: bool,
) {
    let result = validate(type_, &events(allowed_events), TOKEN, &headers(pairs), BODY);
    assert_eq!(result.is_ok(), accepted, "{result:?}");
}

#[rstest]
#[case::sha256(&format!("sha256={}", sha256(BODY, TOKEN)), true)]
#[case::sha1(&format!("sha1={}", sha1(BODY, TOKEN)), true)]
#[case::wrong_key(&format!("sha256={}", sha256(BODY, "x")), false)]
#[case::not_hex("sha256=zz", false)]
#[case::missing("", false)]
#[case::md5("md5=abc", false)]
fn generic_hmac(#[case] signature: &str, #[case] accepted: bool) {
    let result = validate(
        ReceiverType::GenericHmac,
        &[],
        TOKEN,
        &headers(&[("X-Signature", signature)]),
        BODY,
    );
    assert_eq!(result.is_ok(), accepted, "{result:?}");
}

#[test]
fn nexus_and_bitbucket() {
    let nexus = headers(&[("X-Nexus-Webhook-Signature", &sha1(BODY, TOKEN))]);
    assert!(validate(ReceiverType::Nexus, &[], TOKEN, &nexus, BODY).is_ok());
    assert!(validate(ReceiverType::Nexus, &[], "other", &nexus, BODY).is_err());
    let signature = format!("sha256={}", sha256(BODY, TOKEN));
    let bitbucket = headers(&[
        ("Content-Type", "application/json; charset=utf-8"),
        ("X-Hub-Signature", &signature),
        ("X-Event-Key", "repo:refs_changed"),
    ]);
    assert!(
        validate(
            ReceiverType::Bitbucket,
            &events(&["repo:refs_changed"]),
            TOKEN,
            &bitbucket,
            BODY
        )
        .is_ok()
    );
    assert!(
        validate(
            ReceiverType::Bitbucket,
            &events(&["pr:merged"]),
            TOKEN,
            &bitbucket,
            BODY
        )
        .is_err()
    );
}

#[test]
fn cdevents_type_filter() {
    let body = br#"{"context":{"type":"dev.cdevents.artifact.published.0.1.1"},"subject":{}}"#;
    let h = headers(&[("Ce-Type", "dev.cdevents.artifact.published.0.1.1")]);
    assert!(
        validate(
            ReceiverType::Cdevents,
            &events(&["dev.cdevents.artifact.published.0.1.1"]),
            TOKEN,
            &h,
            body
        )
        .is_ok()
    );
    assert!(
        validate(
            ReceiverType::Cdevents,
            &events(&["dev.cdevents.change.merged.0.1.2"]),
            TOKEN,
            &h,
            body
        )
        .is_err()
    );
}
