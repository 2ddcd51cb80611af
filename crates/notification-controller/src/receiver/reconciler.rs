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
    /// A CEL expression does not compile; stalls.
    #[error("{TERMINAL_PREFIX}: {0}")]
    InvalidCel(String),
}

impl ReconcileError for ReceiverError {
    fn reason(&self) -> &str {
        match self {
            Self::TokenNotFound(_) => TOKEN_NOT_FOUND_REASON,
            Self::Invalid(_) => VALIDATION_FAILED_REASON,
            Self::InvalidCel(_) => INVALID_CEL_EXPRESSION_REASON,
        }
    }

    fn disposition(&self) -> Disposition {
        match self {
            Self::TokenNotFound(_) => Disposition::Retry,
            Self::Invalid(_) | Self::InvalidCel(_) => Disposition::Stalled,
        }
    }
}

/// Stalled: a CEL expression does not compile.
pub const INVALID_CEL_EXPRESSION_REASON: &str = "InvalidCELExpression";

/// Checks the CEL expressions (Flux's `InvalidCELExpression`) and what the API server's
/// rules check for OIDC providers (`ValidationFailed`).
pub fn validate_spec(spec: &ReceiverSpec) -> Result<(), ReceiverError> {
    let cel = ReceiverError::InvalidCel;
    if let Some(filter) = spec.resource_filter.as_deref().filter(|f| !f.is_empty()) {
        crate::filter::compile(filter)
            .map_err(|e| cel(format!("invalid resourceFilter expression: {e}")))?;
    }
    for (index, resource) in spec.resources.iter().enumerate() {
        if let Some(filter) = resource.filter.as_deref().filter(|f| !f.is_empty()) {
            crate::filter::compile(filter).map_err(|e| {
                cel(format!(
                    "invalid filter expression for resources[{index}] (kind={:?}, name={:?}): {e}",
                    crate::event::matching::kind_name(resource.kind),
                    resource.name
                ))
            })?;
        }
    }
    let invalid = ReceiverError::Invalid;
    let oidc = spec.type_ == ReceiverType::GenericOidc;
    let providers = spec.oidc_providers.as_deref().unwrap_or_default();
    if oidc && providers.is_empty() {
        return Err(invalid(
            "generic-oidc receiver requires at least one oidcProvider".to_owned(),
        ));
    }
    if !oidc && !providers.is_empty() {
        return Err(invalid(
            "oidcProviders can only be set when type is generic-oidc".to_owned(),
        ));
    }
    if oidc && spec.secret_ref.is_some() {
        return Err(invalid(
            "secretRef cannot be set when type is generic-oidc".to_owned(),
        ));
    }
    if !oidc && spec.secret_ref.is_none() {
        return Err(invalid(
            "secretRef is required when type is not generic-oidc".to_owned(),
        ));
    }
    super::oidc::validate_providers(providers).map_err(invalid)?;
    super::oidc::compile_providers(providers).map_err(cel)?;
    Ok(())
}

/// Reads the Receiver's `secretRef` Secret (empty without one).
pub async fn read_secret(
    client: &Client,
    receiver: &Receiver,
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let namespace = receiver.namespace().unwrap_or_default();
    let Some(reference) = &receiver.spec.secret_ref else {
        return Ok(std::collections::BTreeMap::new());
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
    let data: std::collections::BTreeMap<String, String> = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
        .collect();
    if !data.contains_key("token") {
        return Err(format!(
            "invalid '{key}' secret data: required fields 'token'"
        ));
    }
    Ok(data)
}

/// Reads the Receiver's token (`secretRef` key `token`; empty for `generic-oidc`).
pub async fn read_token(client: &Client, receiver: &Receiver) -> Result<String, String> {
    Ok(read_secret(client, receiver)
        .await?
        .remove("token")
        .unwrap_or_default())
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
        validate_spec(&receiver.spec)?;
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

    fn message(spec: &ReceiverSpec) -> (String, String) {
        let error = validate_spec(spec).unwrap_err();
        (error.reason().to_owned(), error.to_string())
    }

    #[test]
    fn supported_specs_pass() {
        for type_ in [
            ReceiverType::Github,
            ReceiverType::Gitlab,
            ReceiverType::Generic,
            ReceiverType::GenericHmac,
            ReceiverType::Gcr,
        ] {
            assert!(validate_spec(&spec(type_)).is_ok());
        }
        let mut filtered = spec(ReceiverType::Github);
        filtered.resource_filter = Some("res.metadata.name == 'app'".to_owned());
        filtered.resources[0].filter = Some("req.ref == 'refs/heads/main'".to_owned());
        assert!(validate_spec(&filtered).is_ok());
    }

    #[test]
    fn invalid_cel_filters_stall() {
        let mut with_filter = spec(ReceiverType::Github);
        with_filter.resource_filter = Some("res.metadata.name ==".to_owned());
        let (reason, text) = message(&with_filter);
        assert_eq!(reason, INVALID_CEL_EXPRESSION_REASON);
        assert!(text.contains("invalid resourceFilter expression"), "{text}");
        let mut per_resource = spec(ReceiverType::Github);
        per_resource.resources[0].filter = Some("(".to_owned());
        let (_, text) = message(&per_resource);
        assert!(
            text.contains("resources[0] (kind=\"GitRepository\", name=\"app\")"),
            "{text}"
        );
    }

    #[test]
    fn oidc_rules() {
        let mut oidc = spec(ReceiverType::GenericOidc);
        assert!(message(&oidc).1.contains("at least one oidcProvider"));
        oidc.oidc_providers = Some(vec![OIDCProvider::default()]);
        assert!(message(&oidc).1.contains("secretRef cannot be set"));
        oidc.secret_ref = None;
        assert!(message(&oidc).1.contains("issuerURL is required"));
        oidc.oidc_providers = Some(vec![OIDCProvider {
            issuer_url: "https://issuer.example".to_owned(),
            ..OIDCProvider::default()
        }]);
        assert!(
            message(&oidc)
                .1
                .contains("at least one validation is required")
        );
        oidc.oidc_providers.as_mut().unwrap()[0].validations =
            vec![ferroflux_api::notification::v1::OIDCValidation {
                expression: "claims.sub ==".to_owned(),
                message: "m".to_owned(),
            }];
        assert_eq!(message(&oidc).0, INVALID_CEL_EXPRESSION_REASON);
        oidc.oidc_providers.as_mut().unwrap()[0].validations[0].expression =
            "claims.sub == 'ci'".to_owned();
        assert!(validate_spec(&oidc).is_ok());
        let mut missing_secret = spec(ReceiverType::Github);
        missing_secret.secret_ref = None;
        assert!(message(&missing_secret).1.contains("secretRef is required"));
    }
}
