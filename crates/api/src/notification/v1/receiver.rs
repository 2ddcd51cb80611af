//! Receiver: an incoming webhook that asks Flux objects to reconcile now.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::FluxKind;
use crate::meta::{Condition, LocalObjectReference};

/// Serves a webhook at a secret path; each verified request annotates the listed objects
/// so that they reconcile right away instead of at their next interval.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1",
    kind = "Receiver",
    plural = "receivers",
    namespaced,
    status = "ReceiverStatus",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-notifications",
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].message"}"#,
    doc = "Receiver turns incoming webhooks into reconcile requests for Flux objects."
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"message": "generic-oidc receivers must define at least one oidcProvider", "rule": "self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)"},
    {"message": "oidcProviders can only be set when type is generic-oidc", "rule": "self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0"},
    {"message": "secretRef cannot be set when type is generic-oidc", "rule": "self.type != 'generic-oidc' || !has(self.secretRef)"},
    {"message": "secretRef is required when type is not generic-oidc", "rule": "self.type == 'generic-oidc' || has(self.secretRef)"},
]))]
pub struct ReceiverSpec {
    /// The sender of the webhook; it decides how requests are verified and read.
    #[serde(rename = "type")]
    pub type_: ReceiverType,
    /// How often the Secret is read again and the webhook path recomputed.
    #[serde(default = "default_interval", skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: Option<String>,
    /// The event types that trigger reconciliation (for example `push` for GitHub or
    /// `Push Hook` for GitLab); every event when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// The objects asked to reconcile.
    pub resources: Vec<ReceiverResource>,
    /// A CEL expression evaluated for every matched object; only those for which it is
    /// true are asked to reconcile. It sees the object as `res` and the request body as
    /// `req`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_filter: Option<String>,
    /// A Secret with the `token` that verifies requests and derives the webhook path
    /// (`gcr` also needs `email` and `audience`). Required, except for `generic-oidc`,
    /// where it is not allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// The OIDC issuers whose tokens authenticate requests; only, and at least one, for
    /// `generic-oidc`. The issuer matching a token's `iss` claim verifies it.
    #[serde(
        default,
        rename = "oidcProviders",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["issuerURL"]))]
    pub oidc_providers: Option<Vec<OIDCProvider>>,
    /// Stops handling requests while true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "serde default functions return the field type"
)]
fn default_interval() -> Option<String> {
    Some("10m".to_owned())
}

/// The webhook senders a Receiver understands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverType {
    /// Any sender; the webhook path is the only secret.
    #[default]
    Generic,
    /// Any sender that signs the body with HMAC in the `X-Signature` header.
    #[serde(rename = "generic-hmac")]
    GenericHmac,
    /// Any sender with an OIDC bearer token from one of `oidcProviders`.
    #[serde(rename = "generic-oidc")]
    GenericOidc,
    /// GitHub webhooks, verified by their HMAC signature.
    Github,
    /// GitLab webhooks, verified by their token header.
    Gitlab,
    /// Bitbucket Server webhooks, verified by their HMAC signature.
    Bitbucket,
    /// Harbor webhooks, verified by their authorization header.
    Harbor,
    /// Docker Hub webhooks (only the secret path protects them).
    Dockerhub,
    /// Quay webhooks (only the secret path protects them).
    Quay,
    /// Google Container Registry notifications through a Pub/Sub push subscription,
    /// verified by their OIDC token.
    Gcr,
    /// Sonatype Nexus webhooks, verified by their HMAC signature.
    Nexus,
    /// Azure Container Registry webhooks (only the secret path protects them).
    Acr,
    /// CDEvents delivered as CloudEvents; the `Ce-Type` header is matched against `events`.
    Cdevents,
}

/// Flux objects a Receiver asks to reconcile, with an optional filter of their own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverResource {
    /// The API version of the objects, `group/version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The kind of the objects.
    pub kind: FluxKind,
    /// The name of the object, or `*` for every object of the kind in the namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// The namespace of the objects; the Receiver's namespace when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub namespace: Option<String>,
    /// Labels the objects must all carry; only with `name: '*'`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// A CEL expression evaluated for every object this entry matches, on top of
    /// `resourceFilter`; the object is asked to reconcile only when both are true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

/// An OIDC issuer trusted by a `generic-oidc` Receiver.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OIDCProvider {
    /// The issuer address, used for discovery; it must equal the tokens' `iss` claim.
    #[serde(rename = "issuerURL")]
    #[schemars(regex(pattern = r"^https?://"))]
    pub issuer_url: String,
    /// The audience (`aud` claim) tokens must carry; `notification-controller` when left
    /// out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Named CEL expressions over `claims`, evaluated in order and visible to later ones
    /// and to the validations as `vars.<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<OIDCVariable>>,
    /// CEL conditions over `claims` and `vars` that must all hold for a request to be
    /// accepted; a valid signature alone is not enough.
    #[schemars(length(min = 1))]
    pub validations: Vec<OIDCValidation>,
}

/// A named CEL expression over the claims of an OIDC token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OIDCVariable {
    /// The variable name, a CEL identifier.
    pub name: String,
    /// The CEL expression whose value the variable takes.
    pub expression: String,
}

/// A CEL condition an OIDC-authenticated request must satisfy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OIDCValidation {
    /// The CEL expression; it must evaluate to true.
    pub expression: String,
    /// The message returned to the caller when it does not.
    pub message: String,
}

/// What the notification-controller observed of the Receiver.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverStatus {
    /// The last generation of the object that was reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The current state: Ready, Reconciling, Stalled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// The path the webhook is served at, `/hook/<sha256 of token, name and namespace>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_path: Option<String>,
    /// The last `reconcile.fluxcd.io/requestedAt` value handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}
