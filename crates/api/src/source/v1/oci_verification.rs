//! Signature verification of OCI artifacts, shared by OCIRepository and HelmChart.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::LocalObjectReference;

/// How the signature of an OCIRepository's artifact is checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositoryVerification {
    /// The signing tool whose signatures are checked; the API server fills in `cosign`
    /// when it is left out.
    #[schemars(extend("default" = "cosign"))]
    pub provider: VerificationProvider,
    /// A Secret with the trusted public keys (cosign) or trust policy and certificates
    /// (notation); keyless verification when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Identities accepted for keyless cosign signatures; any match is enough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "matchOIDCIdentity")]
    pub match_oidc_identity: Option<Vec<OIDCIdentityMatch>>,
    /// A Secret holding `trusted_root.json`, for Sigstore deployments other than the
    /// public one (own Fulcio CA or Rekor log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_root_secret_ref: Option<LocalObjectReference>,
}

/// How the signature of a chart pulled from an OCI HelmRepository is checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartVerification {
    /// The signing tool whose signatures are checked; the API server fills in `cosign`
    /// when it is left out.
    #[schemars(extend("default" = "cosign"))]
    pub provider: VerificationProvider,
    /// A Secret with the trusted public keys (cosign) or trust policy and certificates
    /// (notation); keyless verification when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Identities accepted for keyless cosign signatures; any match is enough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "matchOIDCIdentity")]
    pub match_oidc_identity: Option<Vec<OIDCIdentityMatch>>,
}

/// The tool that signed an OCI artifact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerificationProvider {
    /// Sigstore cosign, with public keys or keyless (Fulcio certificates).
    #[default]
    Cosign,
    /// Notary Project notation, with a trust policy and certificates.
    Notation,
}

/// An OIDC identity a keyless signing certificate must carry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OIDCIdentityMatch {
    /// Go regular expression the certificate's OIDC issuer must match.
    pub issuer: String,
    /// Go regular expression the certificate's subject must match.
    pub subject: String,
}
