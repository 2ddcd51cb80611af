//! Provider, Alert and Receiver survive YAML → Rust → JSON unchanged, and their examples
//! under `tests/examples/` set every field the CRD schemas know.

#[path = "support/round_trip.rs"]
mod support;

use ferroflux_api::notification::v1::{Receiver, ReceiverType};
use ferroflux_api::notification::v1beta3::{Alert, EventSeverity, Provider, ProviderType};

#[test]
fn provider_round_trips() {
    support::assert_example::<Provider>("provider.yaml");
}

#[test]
fn alert_round_trips() {
    support::assert_example::<Alert>("alert.yaml");
}

#[test]
fn receiver_round_trips() {
    support::assert_example::<Receiver>("receiver.yaml");
}

/// Enum values with characters Rust identifiers cannot hold keep Flux's spelling.
#[test]
fn unusual_enum_spellings() {
    assert_eq!(
        serde_json::to_value(ProviderType::IncidentIo).expect("serializes"),
        "incident.io"
    );
    assert_eq!(
        serde_json::to_value(ProviderType::GenericHmac).expect("serializes"),
        "generic-hmac"
    );
    assert_eq!(
        serde_json::to_value(ReceiverType::GenericOidc).expect("serializes"),
        "generic-oidc"
    );
}

/// Schema defaults are applied when a manifest without them is deserialized.
#[test]
fn schema_defaults_apply_on_deserialize() {
    let alert: Alert = serde_saphyr::from_str(
        "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Alert\nmetadata:\n  name: a\n\
         spec:\n  providerRef:\n    name: slack\n  eventSources:\n    - kind: Kustomization\n\
         \x20     name: '*'\n",
    )
    .expect("minimal Alert deserializes");
    assert_eq!(alert.spec.event_severity, Some(EventSeverity::Info));

    let receiver: Receiver = serde_saphyr::from_str(
        "apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Receiver\nmetadata:\n  name: r\n\
         spec:\n  type: github\n  secretRef:\n    name: token\n  resources:\n\
         \x20   - kind: GitRepository\n      name: fleet\n",
    )
    .expect("minimal Receiver deserializes");
    assert_eq!(receiver.spec.interval.as_deref(), Some("10m"));
}

/// Deserializing a manifest fills in exactly the defaults the CRD schema declares, no
/// more and no fewer, so objects read from Git compare equal to what the API server
/// stores.
#[test]
fn serde_defaults_match_schema_defaults() {
    let alert = "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Alert\n\
                 metadata:\n  name: a\nspec:\n  providerRef:\n    name: slack\n\
                 \x20 eventSources:\n    - kind: HelmRelease\n      name: podinfo\n";
    let (mut plain, typed) = support::round_trip::<Alert>("minimal Alert", alert);
    let schema = support::schema_of::<Alert>();
    support::apply_defaults(
        &schema.properties.expect("properties")["spec"],
        &mut plain["spec"],
    );
    assert_eq!(typed, plain);

    let receiver = "apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Receiver\n\
                    metadata:\n  name: r\nspec:\n  type: gitlab\n  secretRef:\n    name: t\n\
                    \x20 resources:\n    - kind: GitRepository\n      name: fleet\n";
    let (mut plain, typed) = support::round_trip::<Receiver>("minimal Receiver", receiver);
    let schema = support::schema_of::<Receiver>();
    support::apply_defaults(
        &schema.properties.expect("properties")["spec"],
        &mut plain["spec"],
    );
    assert_eq!(typed, plain);
}
