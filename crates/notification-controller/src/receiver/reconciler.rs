//! The Receiver reconciler: validates the spec, reads the token and publishes the
//! webhook path in `status.webhookPath` with `Ready=True`.

use ferroflux_api::constants::SUCCEEDED_REASON;
use ferroflux_api::notification::v1::{Receiver, ReceiverSpec, ReceiverStatus, ReceiverType};
use ferroflux_runtime::conditions::Conditions;
use ferroflux_runtime::driver::{Context, Outcome, Reconciler, types};
use ferroflux_runtime::{Disposition, FluxStatus as _, ReconcileError};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client, ResourceExt};
use tracing::info;

use super::webhook_path;

/// Ready=False: the token Secret or its `token` key is missing.
pub const TOKEN_NOT_FOUND_REASON: &str = "TokenNotFound";
/// Stalled: the spec cannot work as written.
pub const VALIDATION_FAILED_REASON: &str = "ValidationFailed";
const TERMINAL_PREFIX: &str = "Reconciliation failed terminally due to configuration error";

/// Why a Receiver is not ready.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    /// The token could not be read; retried.
    #[error("{0}")]
    TokenNotFound(String),
    /// The spec is invalid or asks for something not implemented; stalls.
    #[error("{TERMINAL_PREFIX}: {0}")]
    Invalid(String),
}

impl ReconcileError for ReceiverError {
    fn reason(&self) -> &str {
        match self {
            Self::TokenNotFound(_) => TOKEN_NOT_FOUND_REASON,
            Self::Invalid(_) => VALIDATION_FAILED_REASON,
        }
    }

    fn disposition(&self) -> Disposition {
        match self {
            Self::TokenNotFound(_) => Disposition::Retry,
            Self::Invalid(_) => Disposition::Stalled,
        }
    }
}

/// Checks what the API server's CEL rules check, and refuses what this controller does
/// not implement rather than ignoring it.
pub fn validate_spec(spec: &ReceiverSpec) -> Result<(), String> {
    if spec
        .resource_filter
        .as_deref()
        .is_some_and(|f| !f.is_empty())
    {
        return Err("spec.resourceFilter: CEL expressions are not supported by this notification-controller; remove the field (or select resources with matchLabels)".to_owned());
    }
    if let Some(index) = spec
        .resources
        .iter()
        .position(|r| r.filter.as_deref().is_some_and(|f| !f.is_empty()))
    {
        return Err(format!(
            "spec.resources[{index}].filter: CEL expressions are not supported by this notification-controller; remove the field (or select resources with matchLabels)"
        ));
    }
    let oidc = spec.type_ == ReceiverType::GenericOidc;
    let providers = spec.oidc_providers.as_ref().is_some_and(|p| !p.is_empty());
    if oidc && !providers {
        return Err("generic-oidc receiver requires at least one oidcProvider".to_owned());
    }
    if !oidc && providers {
        return Err("oidcProviders can only be set when type is generic-oidc".to_owned());
    }
    if oidc && spec.secret_ref.is_some() {
        return Err("secretRef cannot be set when type is generic-oidc".to_owned());
    }
    if !oidc && spec.secret_ref.is_none() {
        return Err("secretRef is required when type is not generic-oidc".to_owned());
    }
    if matches!(spec.type_, ReceiverType::GenericOidc | ReceiverType::Gcr) {
        return Err(format!(
            "receiver type '{}' (OIDC token verification) is not supported by this notification-controller",
            if oidc { "generic-oidc" } else { "gcr" }
        ));
    }
    Ok(())
}

/// Reads the Receiver's token (`secretRef` key `token`).
pub async fn read_token(client: &Client, receiver: &Receiver) -> Result<String, String> {
    let namespace = receiver.namespace().unwrap_or_default();
    let Some(reference) = &receiver.spec.secret_ref else {
        return Ok(String::new());
    };
    let key = format!("{namespace}/{}", reference.name);
    let api: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let secret = api.get(&reference.name).await.map_err(|e| {
        let detail = match e {
            kube::Error::Api(status) => status.message,
            other => other.to_string(),
        };
        format!("unable to read token from secret '{key}' error: {detail}")
    })?;
    secret
        .data
        .unwrap_or_default()
        .remove("token")
        .map(|token| String::from_utf8_lossy(&token.0).into_owned())
        .ok_or_else(|| format!("invalid '{key}' secret data: required fields 'token'"))
}

/// The Receiver reconciler.
pub struct ReceiverReconciler;

impl Reconciler<Receiver> for ReceiverReconciler {
    type Error = ReceiverError;

    async fn reconcile(
        &self,
        context: &Context,
        receiver: &Receiver,
        status: &mut ReceiverStatus,
    ) -> Result<Outcome, ReceiverError> {
        validate_spec(&receiver.spec).map_err(ReceiverError::Invalid)?;
        let token = match read_token(&context.client, receiver).await {
            Ok(token) => token,
            Err(message) => {
                status.webhook_path = None;
                return Err(ReceiverError::TokenNotFound(message));
            }
        };
        let path = webhook_path(
            &token,
            &receiver.name_any(),
            &receiver.namespace().unwrap_or_default(),
        );
        let message = format!("Receiver initialized for path: {path}");
        let generation = receiver.metadata.generation.unwrap_or_default();
        Conditions::new(status.conditions_mut(), generation, context.clock.as_ref()).mark_true(
            types::READY,
            SUCCEEDED_REASON,
            message.clone(),
        );
        if status.webhook_path.as_deref() != Some(path.as_str()) {
            info!(name = %receiver.name_any(), namespace = receiver.namespace().unwrap_or_default(), "{message}");
            status.webhook_path = Some(path);
        }
        Ok(Outcome::Done)
    }

    async fn cleanup(&self, _context: &Context, _receiver: &Receiver) -> Result<(), ReceiverError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ferroflux_api::meta::LocalObjectReference;
    use ferroflux_api::notification::v1::{FluxKind, OIDCProvider, ReceiverResource};

    use super::*;

    fn spec(type_: ReceiverType) -> ReceiverSpec {
        ReceiverSpec {
            type_,
            resources: vec![ReceiverResource {
                api_version: None,
                kind: FluxKind::GitRepository,
                name: "app".to_owned(),
                namespace: None,
                match_labels: None,
                filter: None,
            }],
            secret_ref: Some(LocalObjectReference {
                name: "token".to_owned(),
            }),
            ..ReceiverSpec::default()
        }
    }

    #[test]
    fn supported_specs_pass() {
        for type_ in [
            ReceiverType::Github,
            ReceiverType::Gitlab,
            ReceiverType::Generic,
            ReceiverType::GenericHmac,
        ] {
            assert_eq!(validate_spec(&spec(type_)), Ok(()));
        }
    }

    #[test]
    fn cel_filters_are_refused_not_ignored() {
        let mut with_filter = spec(ReceiverType::Github);
        with_filter.resource_filter = Some("res.metadata.name == 'app'".to_owned());
        assert!(
            validate_spec(&with_filter)
                .unwrap_err()
                .contains("spec.resourceFilter")
        );
        let mut per_resource = spec(ReceiverType::Github);
        per_resource.resources[0].filter = Some("true".to_owned());
        assert!(
            validate_spec(&per_resource)
                .unwrap_err()
                .contains("resources[0].filter")
        );
    }

    #[test]
    fn oidc_rules() {
        let mut oidc = spec(ReceiverType::GenericOidc);
        assert!(
            validate_spec(&oidc)
                .unwrap_err()
                .contains("at least one oidcProvider")
        );
        oidc.oidc_providers = Some(vec![OIDCProvider::default()]);
        assert!(
            validate_spec(&oidc)
                .unwrap_err()
                .contains("secretRef cannot be set")
        );
        oidc.secret_ref = None;
        assert!(validate_spec(&oidc).unwrap_err().contains("not supported"));
        let mut missing_secret = spec(ReceiverType::Github);
        missing_secret.secret_ref = None;
        assert!(
            validate_spec(&missing_secret)
                .unwrap_err()
                .contains("secretRef is required")
        );
    }
}
