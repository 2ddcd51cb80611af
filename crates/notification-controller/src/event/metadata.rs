//! Event metadata: what the event server keeps of the sender's metadata, and how the
//! Alert's own metadata is combined with it before a notification is built (Flux RFC 0008).

use std::collections::BTreeMap;

use ferroflux_api::notification::v1beta3::AlertSpec;
use ferroflux_runtime::events::FluxEvent;

/// Prefix of metadata copied from the involved object's `event.toolkit.fluxcd.io/*`
/// annotations (also the event API group).
pub const EVENT_GROUP_PREFIX: &str = "event.toolkit.fluxcd.io/";
/// The key the Alert's summary is stored under.
pub const SUMMARY_KEY: &str = "summary";

/// Where a combined metadata key came from, as Flux names the sources in its
/// `MetadataAppendFailed` warning.
pub const SOURCE_OBJECT_ANNOTATIONS: &str = "involved object annotations";
/// The Alert's `spec.eventMetadata`.
pub const SOURCE_ALERT_EVENT_METADATA: &str = "Alert object .spec.eventMetadata";
/// The Alert's deprecated `spec.summary`.
pub const SOURCE_ALERT_SUMMARY: &str = "Alert object .spec.summary";
/// The metadata the reporting controller attached.
pub const SOURCE_CONTROLLER: &str = "involved object controller metadata";

/// The API group of the event's involved object (`kustomize.toolkit.fluxcd.io`), empty for
/// the core group.
pub fn object_group(event: &FluxEvent) -> &str {
    event
        .involved_object
        .api_version
        .as_deref()
        .and_then(|version| version.split_once('/'))
        .map_or("", |(group, _)| group)
}

fn controller_key(event: &FluxEvent, name: &str) -> String {
    format!("{}/{name}", object_group(event))
}

/// The value of a controller metadata entry such as `revision` (`<group>/revision`).
pub fn controller_value<'e>(event: &'e FluxEvent, name: &str) -> Option<&'e str> {
    event
        .metadata
        .get(&controller_key(event, name))
        .map(String::as_str)
}

/// Keeps only the keys of the event API group and of the involved object's group, and
/// drops `<group>/checksum` and `<group>/digest`, which never belong in a notification.
pub fn cleanup(event: &mut FluxEvent) {
    let object_prefix = format!("{}/", object_group(event));
    let excluded = [
        controller_key(event, "checksum"),
        controller_key(event, "digest"),
    ];
    event.metadata.retain(|key, _| {
        !excluded.iter().any(|e| e.eq_ignore_ascii_case(key))
            && (key.starts_with(EVENT_GROUP_PREFIX) || key.starts_with(&object_prefix))
    });
}

/// Drops metadata that only serves the event server (the `<group>/token` used for
/// duplicate detection).
pub fn exclude_internal(event: &mut FluxEvent) {
    let token = controller_key(event, "token");
    event.metadata.remove(&token);
}

/// The metadata of a notification, and the keys more than one source wanted to set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Combined {
    /// Unprefixed keys and their winning values.
    pub metadata: BTreeMap<String, String>,
    /// Keys set by several sources, with those sources from lowest to highest precedence.
    pub conflicts: BTreeMap<String, Vec<&'static str>>,
}

/// Combines, from lowest to highest precedence: the object's `event.toolkit.fluxcd.io/*`
/// annotations, the Alert's `eventMetadata`, the Alert's `summary`, and the controller's
/// `<group>/*` metadata. Prefixes are stripped.
pub fn combine(event: &FluxEvent, alert: &AlertSpec) -> Combined {
    let mut combined = Combined::default();
    let mut sources: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    let mut put = |key: &str, value: &str, source: &'static str| {
        combined.metadata.insert(key.to_owned(), value.to_owned());
        sources.entry(key.to_owned()).or_default().push(source);
    };
    for (key, value) in &event.metadata {
        if let Some(key) = key.strip_prefix(EVENT_GROUP_PREFIX) {
            put(key, value, SOURCE_OBJECT_ANNOTATIONS);
        }
    }
    for (key, value) in alert.event_metadata.iter().flatten() {
        put(key, value, SOURCE_ALERT_EVENT_METADATA);
    }
    if let Some(summary) = alert.summary.as_deref().filter(|s| !s.is_empty()) {
        put(SUMMARY_KEY, summary, SOURCE_ALERT_SUMMARY);
    }
    let object_prefix = format!("{}/", object_group(event));
    for (key, value) in &event.metadata {
        if let Some(key) = key.strip_prefix(&object_prefix) {
            put(key, value, SOURCE_CONTROLLER);
        }
    }
    combined.conflicts = sources
        .into_iter()
        .filter(|(_, sources)| sources.len() > 1)
        .collect();
    combined
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_event;

    #[test]
    fn cleanup_keeps_event_and_group_keys_only() {
        let mut event = test_event(
            "info",
            &[
                ("kustomize.toolkit.fluxcd.io/revision", "main@sha1:abc"),
                ("kustomize.toolkit.fluxcd.io/checksum", "x"),
                ("kustomize.toolkit.fluxcd.io/Digest", "x"),
                ("event.toolkit.fluxcd.io/env", "prod"),
                ("source.toolkit.fluxcd.io/revision", "other group"),
                ("free", "form"),
            ],
        );
        cleanup(&mut event);
        let keys: Vec<&str> = event.metadata.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "event.toolkit.fluxcd.io/env",
                "kustomize.toolkit.fluxcd.io/revision"
            ]
        );
    }

    #[test]
    fn token_is_internal() {
        let mut event = test_event(
            "info",
            &[
                ("kustomize.toolkit.fluxcd.io/token", "t"),
                ("kustomize.toolkit.fluxcd.io/revision", "r"),
            ],
        );
        exclude_internal(&mut event);
        assert_eq!(event.metadata.len(), 1);
    }

    #[test]
    fn precedence_annotations_alert_summary_controller() {
        let event = test_event(
            "info",
            &[
                ("event.toolkit.fluxcd.io/env", "from-annotation"),
                ("event.toolkit.fluxcd.io/team", "a"),
                ("event.toolkit.fluxcd.io/summary", "annotated summary"),
                ("kustomize.toolkit.fluxcd.io/revision", "main@sha1:abc"),
                ("kustomize.toolkit.fluxcd.io/env", "from-controller"),
            ],
        );
        let alert = AlertSpec {
            event_metadata: Some(BTreeMap::from([
                ("env".to_owned(), "from-alert".to_owned()),
                ("cluster".to_owned(), "eu-1".to_owned()),
            ])),
            summary: Some("prod cluster".to_owned()),
            ..AlertSpec::default()
        };
        let combined = combine(&event, &alert);
        let expected: BTreeMap<String, String> = [
            ("cluster", "eu-1"),
            ("env", "from-controller"),
            ("revision", "main@sha1:abc"),
            ("summary", "prod cluster"),
            ("team", "a"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(combined.metadata, expected);
        assert_eq!(
            combined.conflicts.get("env").unwrap(),
            &vec![
                SOURCE_OBJECT_ANNOTATIONS,
                SOURCE_ALERT_EVENT_METADATA,
                SOURCE_CONTROLLER
            ]
        );
        assert_eq!(
            combined.conflicts.get("summary").unwrap(),
            &vec![SOURCE_OBJECT_ANNOTATIONS, SOURCE_ALERT_SUMMARY]
        );
        assert!(!combined.conflicts.contains_key("revision"));
    }
}
