use std::collections::BTreeMap;
use std::sync::Arc;

use ferroflux_api::meta::LocalObjectReference;
use ferroflux_api::notification::v1::{CrossNamespaceObjectReference, FluxKind};
use ferroflux_api::notification::v1beta3::{Alert, AlertSpec, EventSeverity};
use rstest::rstest;

use super::*;
use crate::event::test_event;

fn source(kind: FluxKind, name: &str, namespace: Option<&str>) -> CrossNamespaceObjectReference {
    CrossNamespaceObjectReference {
        api_version: None,
        kind,
        name: name.to_owned(),
        namespace: namespace.map(str::to_owned),
        match_labels: None,
    }
}

fn alert(severity: EventSeverity, sources: Vec<CrossNamespaceObjectReference>) -> AlertSpec {
    AlertSpec {
        provider_ref: LocalObjectReference {
            name: "slack".to_owned(),
        },
        event_severity: Some(severity),
        event_sources: sources,
        ..AlertSpec::default()
    }
}

fn object(namespace: &str, spec: AlertSpec) -> Arc<Alert> {
    let mut alert = Alert::new("alert", spec);
    alert.metadata.namespace = Some(namespace.to_owned());
    Arc::new(alert)
}

fn kustomizations(name: &str) -> Vec<CrossNamespaceObjectReference> {
    vec![source(FluxKind::Kustomization, name, None)]
}

#[rstest]
#[case::exact_name(
    "info",
    "apps",
    alert(EventSeverity::Info, kustomizations("webapp")),
    true
)]
#[case::wildcard_name("info", "apps", alert(EventSeverity::Info, kustomizations("*")), true)]
#[case::other_name(
    "info",
    "apps",
    alert(EventSeverity::Info, kustomizations("backend")),
    false
)]
#[case::other_kind("info", "apps", alert(EventSeverity::Info, vec![source(FluxKind::HelmRelease, "*", None)]), false)]
#[case::namespace_defaults_to_alert_s(
    "info",
    "flux-system",
    alert(EventSeverity::Info, kustomizations("*")),
    false
)]
#[case::explicit_namespace("info", "flux-system", alert(EventSeverity::Info, vec![source(FluxKind::Kustomization, "*", Some("apps"))]), true)]
#[case::info_alert_takes_errors(
    "error",
    "apps",
    alert(EventSeverity::Info, kustomizations("*")),
    true
)]
#[case::error_alert_skips_info(
    "info",
    "apps",
    alert(EventSeverity::Error, kustomizations("*")),
    false
)]
#[case::error_alert_takes_errors(
    "error",
    "apps",
    alert(EventSeverity::Error, kustomizations("*")),
    true
)]
#[case::any_source_matches("info", "apps", alert(EventSeverity::Info, vec![source(FluxKind::GitRepository, "*", None), source(FluxKind::Kustomization, "webapp", None)]), true)]
fn sources_and_severity(
    #[case] severity: &str,
    #[case] alert_namespace: &str,
    #[case] spec: AlertSpec,
    #[case] expected: bool,
) {
    let event = test_event(severity, &[]);
    let alerts = vec![object(alert_namespace, spec)];
    let matches = matching_alerts(&event, &alerts, None);
    assert_eq!(matches.alerts.len() == 1, expected);
    assert!(matches.warnings.is_empty());
}

#[test]
fn suspended_alerts_never_match() {
    let mut spec = alert(EventSeverity::Info, kustomizations("*"));
    spec.suspend = Some(true);
    let event = test_event("info", &[]);
    assert!(
        matching_alerts(&event, &[object("apps", spec)], None)
            .alerts
            .is_empty()
    );
}

fn lists(inclusion: &[&str], exclusion: &[&str]) -> AlertSpec {
    let mut spec = alert(EventSeverity::Info, kustomizations("*"));
    let owned = |l: &[&str]| (!l.is_empty()).then(|| l.iter().map(|s| (*s).to_owned()).collect());
    spec.inclusion_list = owned(inclusion);
    spec.exclusion_list = owned(exclusion);
    spec
}

// The test event's message is "Deployment/apps/webapp configured".
#[rstest]
#[case::no_lists(&[], &[], true, 0)]
#[case::included(&["^Deployment/"], &[], true, 0)]
#[case::not_included(&["^Service/"], &[], false, 0)]
#[case::one_of_many_included(&["^Service/", "configured$"], &[], true, 0)]
#[case::excluded(&[], &["webapp"], false, 0)]
#[case::exclusion_wins(&["Deployment"], &["configured"], false, 0)]
#[case::not_excluded(&[], &["unchanged"], true, 0)]
#[case::invalid_inclusion_skipped(&["(", "Deployment"], &[], true, 1)]
#[case::only_invalid_inclusion(&["("], &[], false, 1)]
#[case::invalid_exclusion_skipped(&[], &["[", "unchanged"], true, 1)]
#[case::go_syntax(&[r"(?i)DEPLOYMENT/\w+/webapp"], &[], true, 0)]
fn inclusion_and_exclusion(
    #[case] inclusion: &[&str],
    #[case] exclusion: &[&str],
    #[case] expected: bool,
    #[case] warnings: usize,
) {
    let event = test_event("info", &[]);
    let matches = matching_alerts(&event, &[object("apps", lists(inclusion, exclusion))], None);
    assert_eq!(matches.alerts.len() == 1, expected);
    assert_eq!(matches.warnings.len(), warnings);
    for warning in &matches.warnings {
        assert_eq!(warning.reason, INVALID_CONFIG_REASON);
        assert!(
            warning.message.starts_with("failed to compile"),
            "{}",
            warning.message
        );
    }
}

fn labelled(selector: &[(&str, &str)]) -> AlertSpec {
    let mut source = source(FluxKind::Kustomization, "*", None);
    source.match_labels = Some(
        selector
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
    alert(EventSeverity::Info, vec![source])
}

#[rstest]
#[case::selected(&[("team", "a")], Some(&[("team", "a"), ("tier", "web")][..]), true, 0)]
#[case::not_selected(&[("team", "a")], Some(&[("team", "b")][..]), false, 0)]
#[case::all_labels_required(&[("team", "a"), ("tier", "db")], Some(&[("team", "a"), ("tier", "web")][..]), false, 0)]
#[case::labels_unavailable(&[("team", "a")], None, false, 1)]
fn match_labels(
    #[case] selector: &[(&str, &str)],
    #[case] labels: Option<&[(&str, &str)]>,
    #[case] expected: bool,
    #[case] warnings: usize,
) {
    let event = test_event("info", &[]);
    let alerts = vec![object("apps", labelled(selector))];
    assert!(needs_labels(&event, &alerts));
    let labels: Option<BTreeMap<String, String>> = labels.map(|l| {
        l.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    });
    let matches = matching_alerts(&event, &alerts, labels.as_ref());
    assert_eq!(matches.alerts.len() == 1, expected);
    assert_eq!(matches.warnings.len(), warnings);
}

#[test]
fn labels_are_only_needed_when_a_labelled_source_could_match() {
    let event = test_event("info", &[]);
    let mut other_namespace = labelled(&[("team", "a")]);
    other_namespace.event_sources[0].namespace = Some("elsewhere".to_owned());
    assert!(!needs_labels(&event, &[object("apps", other_namespace)]));
    assert!(!needs_labels(&event, &[object("apps", lists(&[], &[]))]));
}
