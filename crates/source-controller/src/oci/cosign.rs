//! Cosign signatures checked against public keys, as Flux's cosign verifier does with a
//! `spec.verify.secretRef`, in both of cosign's formats:
//!
//! - Sigstore bundles (cosign v3's default, v2's `--new-bundle-format`): manifests that
//!   refer to the signed manifest (OCI 1.1 referrers API, or the `sha256-<hex>` tag schema)
//!   whose layer is a bundle with a DSSE envelope; the envelope's signature covers the
//!   pre-authentication encoding of an in-toto statement whose subject is the digest.
//!   Looked for first, as Flux does.
//! - Legacy signatures: the layers of the manifest tagged `sha256-<hex>.sig`, each a
//!   "simple signing" payload naming the signed digest, its
//!   `dev.cosignproject.cosign/signature` annotation the base64 signature of the payload.
//!
//! A signature counts when one trusted key verifies it and its payload names the digest
//! being verified. As in Flux, the transparency log is not consulted for key-based
//! verification.
//!
//! Keys are PEM `PUBLIC KEY` blocks (what `cosign generate-key-pair` writes to
//! `cosign.pub`): ECDSA P-256/P-384/P-521, RSA or Ed25519; ECDSA and RSA signatures are
//! over the payload's SHA-256, as cosign's verifiers load them.

use std::collections::BTreeMap;

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use base64::Engine;
use ferroflux_api::source::v1::VerificationProvider;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use serde::Deserialize;
use x509_parser::prelude::{FromDer, SubjectPublicKeyInfo};

use super::client::{Descriptor, RegistryClient, Repository};

/// The media type (and artifact type) of Sigstore bundles; older bundle versions share
/// the prefix.
const BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// The artifact type cosign v3 gives bundle referrers.
const BUNDLE_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The artifact type cosign v2 writes into the referrers tag schema for bundles.
const EMPTY_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The DSSE payload type of in-toto statements.
const IN_TOTO: &str = "application/vnd.in-toto+json";
/// The annotation holding a layer's base64 signature.
const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Signature payloads are small JSON documents: at most this many bytes are read.
const PAYLOAD_READ_LIMIT: u64 = 4 * 1024 * 1024;

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_ED25519: &str = "1.3.101.112";

/// A public key trusted to sign artifacts.
pub struct PublicKey {
    algorithm: &'static dyn VerificationAlgorithm,
    /// The key as the algorithm reads it: the DER `SubjectPublicKeyInfo` for ECDSA and
    /// RSA, the raw 32 bytes for Ed25519.
    bytes: Vec<u8>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey").finish_non_exhaustive()
    }
}

impl PublicKey {
    /// Parses a PEM `PUBLIC KEY` (X.509 `SubjectPublicKeyInfo`).
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        let (_, block) = x509_parser::pem::parse_x509_pem(pem)
            .map_err(|_| "PEM decoding failed: no PEM block found".to_owned())?;
        if block.label != "PUBLIC KEY" {
            return Err(format!(
                "PEM decoding failed: expected a 'PUBLIC KEY' block, found '{}'",
                block.label
            ));
        }
        let (_, spki) = SubjectPublicKeyInfo::from_der(&block.contents)
            .map_err(|e| format!("invalid public key: {e}"))?;
        let kind = spki.algorithm.algorithm.to_id_string();
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok())
            .map(|oid| oid.to_id_string());
        let algorithm: &'static dyn VerificationAlgorithm = match (kind.as_str(), curve.as_deref())
        {
            (OID_EC_PUBLIC_KEY, Some(OID_P256)) => &signature::ECDSA_P256_SHA256_ASN1,
            (OID_EC_PUBLIC_KEY, Some(OID_P384)) => &signature::ECDSA_P384_SHA256_ASN1,
            (OID_EC_PUBLIC_KEY, Some(OID_P521)) => &signature::ECDSA_P521_SHA256_ASN1,
            (OID_EC_PUBLIC_KEY, curve) => {
                return Err(format!(
                    "unsupported elliptic curve {}",
                    curve.unwrap_or("(none)")
                ));
            }
            (OID_RSA, _) => &signature::RSA_PKCS1_2048_8192_SHA256,
            (OID_ED25519, _) => {
                return Ok(Self {
                    algorithm: &signature::ED25519,
                    bytes: spki.subject_public_key.data.to_vec(),
                });
            }
            (other, _) => return Err(format!("unsupported public key type {other}")),
        };
        Ok(Self {
            algorithm,
            bytes: spki.raw.to_vec(),
        })
    }

    /// Whether `signature` signs `payload` with this key.
    fn verifies(&self, payload: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(self.algorithm, &self.bytes)
            .verify(payload, signature)
            .is_ok()
    }
}

/// Why `spec.verify` could not be set up.
#[derive(Debug)]
pub struct Unusable {
    /// The message, without Flux's `failed to verify the signature using provider` prefix.
    pub message: String,
    /// Only a spec change can help (an unsupported kind of verification).
    pub stalled: bool,
}

/// Drops `SourceVerified` when there is nothing to verify or the last verification failed
/// (Flux recalculates a failure; a success stands for what it verified until that changes).
pub fn reset_verified(
    conditions: &mut ferroflux_runtime::conditions::Conditions<'_>,
    verify: bool,
) {
    let failed = ferroflux_runtime::conditions::is_false(conditions.list(), "SourceVerified");
    if !verify || failed {
        conditions.delete("SourceVerified");
    }
}

/// The provider as Flux names it in messages: `cosign`, `cosign keyless` or `notation`.
pub fn provider_name(provider: VerificationProvider, keyed: bool) -> &'static str {
    match (provider, keyed) {
        (VerificationProvider::Cosign, true) => "cosign",
        (VerificationProvider::Cosign, false) => "cosign keyless",
        (VerificationProvider::Notation, _) => "notation",
    }
}

/// The public keys of `spec.verify`: every `*.pub` entry of the Secret `secret` in
/// `namespace` (sorted by name). Keyless cosign and notation are refused until supported:
/// never reported as verified.
pub async fn trusted_keys(
    kube: &kube::Client,
    namespace: &str,
    provider: VerificationProvider,
    secret: Option<&str>,
) -> Result<Vec<PublicKey>, Unusable> {
    let unsupported = |message: &str| Unusable {
        message: message.to_owned(),
        stalled: true,
    };
    if provider == VerificationProvider::Notation {
        return Err(unsupported(
            "notation signatures are not supported by ferroflux yet; sign with cosign and set a public key Secret in spec.verify.secretRef",
        ));
    }
    let Some(secret) = secret else {
        return Err(unsupported(
            "keyless verification needs the public Sigstore services (Fulcio, Rekor and their TUF root), which ferroflux does not support yet; set a Secret with a cosign public key in spec.verify.secretRef",
        ));
    };
    let secrets: Api<Secret> = Api::namespaced(kube.clone(), namespace);
    let data = secrets
        .get_opt(secret)
        .await
        .map_err(|e| Unusable {
            message: format!("failed to get secret '{namespace}/{secret}': {e}"),
            stalled: false,
        })?
        .ok_or_else(|| Unusable {
            message: format!("secrets \"{secret}\" not found"),
            stalled: false,
        })?
        .data
        .unwrap_or_default();
    keys_from_secret_data(&data).map_err(|message| Unusable {
        message: format!("secret '{namespace}/{secret}': {message}"),
        stalled: false,
    })
}

/// Parses every `*.pub` entry; a malformed one is an error naming its key.
#[expect(
    clippy::case_sensitive_file_extension_comparisons,
    reason = "Flux matches the `.pub` suffix of Secret keys case-sensitively"
)]
fn keys_from_secret_data(data: &BTreeMap<String, ByteString>) -> Result<Vec<PublicKey>, String> {
    data.iter()
        .filter(|(name, _)| name.ends_with(".pub"))
        .map(|(name, value)| {
            PublicKey::from_pem(&value.0).map_err(|e| format!("public key '{name}': {e}"))
        })
        .collect()
}

/// Why no signature was accepted.
#[derive(Debug, thiserror::Error)]
pub enum CosignError {
    /// The repository has no signature manifest for the digest.
    #[error("no signatures found")]
    NoSignatures,
    /// Signatures exist, none verifies with the keys for the digest.
    #[error("no matching signatures: {0}")]
    NoMatching(String),
    /// The registry could not be read.
    #[error("fetching signatures: {0}")]
    Registry(String),
}

/// The simple signing payload, as far as cosign checks it.
#[derive(Deserialize)]
struct SimpleSigning {
    critical: Critical,
}

#[derive(Deserialize)]
struct Critical {
    image: Image,
}

#[derive(Deserialize)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// The tag cosign stores the signatures of `digest` under: `sha256-<hex>.sig`.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replacen(':', "-", 1))
}

/// Succeeds when one signature of the manifest `digest` in `repository` verifies with one
/// of `keys` and claims that digest.
pub async fn verify(
    client: &RegistryClient,
    repository: &Repository,
    digest: &str,
    keys: &[PublicKey],
) -> Result<(), CosignError> {
    let referrers = client
        .referrers(repository, digest, BUNDLE_TYPE)
        .await
        .map_err(|e| CosignError::Registry(e.to_string()))?;
    let bundles: Vec<&Descriptor> = referrers
        .iter()
        .filter(|d| {
            d.artifact_type
                .as_deref()
                .is_none_or(|t| t.starts_with(BUNDLE_PREFIX) || t == EMPTY_TYPE)
        })
        .collect();
    if !bundles.is_empty() {
        return verify_bundles(client, repository, digest, keys, &bundles).await;
    }
    verify_legacy(client, repository, digest, keys).await
}

/// Bundle referrers: one whose envelope verifies and names `digest` is enough. Referrers
/// that turn out not to be bundles are skipped; none at all is "no signatures found".
async fn verify_bundles(
    client: &RegistryClient,
    repository: &Repository,
    digest: &str,
    keys: &[PublicKey],
    referrers: &[&Descriptor],
) -> Result<(), CosignError> {
    let registry = |e: super::client::OciError| CosignError::Registry(e.to_string());
    let mut failures = Vec::new();
    for referrer in referrers {
        let manifest = client
            .resolve(repository, &referrer.digest)
            .await
            .map_err(registry)?
            .manifest;
        let Some(layer) = manifest
            .layers
            .iter()
            .find(|l| l.media_type.starts_with(BUNDLE_PREFIX))
        else {
            continue;
        };
        if manifest.subject.as_ref().map(|s| s.digest.as_str()) != Some(digest) {
            failures.push(format!(
                "bundle {} does not refer to {digest}",
                referrer.digest
            ));
            continue;
        }
        if layer.size > PAYLOAD_READ_LIMIT {
            failures.push(format!(
                "bundle of {} bytes exceeds the limit of {PAYLOAD_READ_LIMIT} bytes",
                layer.size
            ));
            continue;
        }
        let bundle = client
            .fetch_blob(repository, layer, PAYLOAD_READ_LIMIT)
            .await
            .map_err(registry)?;
        match check_bundle(keys, &bundle, digest) {
            Ok(()) => return Ok(()),
            Err(message) => failures.push(message),
        }
    }
    if failures.is_empty() {
        return Err(CosignError::NoSignatures);
    }
    failures.dedup();
    Err(CosignError::NoMatching(failures.join("; ")))
}

/// Legacy `.sig` signatures.
async fn verify_legacy(
    client: &RegistryClient,
    repository: &Repository,
    digest: &str,
    keys: &[PublicKey],
) -> Result<(), CosignError> {
    let manifest = match client.resolve(repository, &signature_tag(digest)).await {
        Ok(manifest) => manifest,
        Err(e) if e.is_not_found() => return Err(CosignError::NoSignatures),
        Err(e) => return Err(CosignError::Registry(e.to_string())),
    };
    let mut failures = Vec::new();
    for layer in &manifest.manifest.layers {
        match check_layer(client, repository, digest, keys, layer).await {
            Ok(()) => return Ok(()),
            Err(Failure::Registry(message)) => return Err(CosignError::Registry(message)),
            Err(Failure::Rejected(message)) => failures.push(message),
        }
    }
    if failures.is_empty() {
        return Err(CosignError::NoSignatures);
    }
    failures.dedup();
    Err(CosignError::NoMatching(failures.join("; ")))
}

enum Failure {
    Registry(String),
    Rejected(String),
}

async fn check_layer(
    client: &RegistryClient,
    repository: &Repository,
    digest: &str,
    keys: &[PublicKey],
    layer: &Descriptor,
) -> Result<(), Failure> {
    let Some(encoded) = layer
        .annotations
        .as_ref()
        .and_then(|a| a.get(SIGNATURE_ANNOTATION))
    else {
        return Err(Failure::Rejected(format!(
            "layer {} has no {SIGNATURE_ANNOTATION} annotation",
            layer.digest
        )));
    };
    let signature = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| Failure::Rejected(format!("invalid base64 signature: {e}")))?;
    if layer.size > PAYLOAD_READ_LIMIT {
        return Err(Failure::Rejected(format!(
            "signature payload of {} bytes exceeds the limit of {PAYLOAD_READ_LIMIT} bytes",
            layer.size
        )));
    }
    let payload = client
        .fetch_blob(repository, layer, PAYLOAD_READ_LIMIT)
        .await
        .map_err(|e| Failure::Registry(e.to_string()))?;
    check_signature(keys, &payload, &signature, digest).map_err(Failure::Rejected)
}

/// The pure check of one signature: a key verifies it, and the payload claims `digest`.
fn check_signature(
    keys: &[PublicKey],
    payload: &[u8],
    signature: &[u8],
    digest: &str,
) -> Result<(), String> {
    if !keys.iter().any(|key| key.verifies(payload, signature)) {
        return Err("invalid signature when validating ASN.1 encoded signature".to_owned());
    }
    let claim: SimpleSigning =
        serde_json::from_slice(payload).map_err(|e| format!("invalid signature payload: {e}"))?;
    if claim.critical.image.docker_manifest_digest != digest {
        return Err(format!(
            "invalid or missing digest in claim: {}",
            claim.critical.image.docker_manifest_digest
        ));
    }
    Ok(())
}

/// A Sigstore bundle, as far as key-based verification reads it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    dsse_envelope: Option<Envelope>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    #[serde(default)]
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    sig: String,
}

/// The in-toto statement inside the envelope: its subjects' digests.
#[derive(Deserialize)]
struct Statement {
    #[serde(default)]
    subject: Vec<Subject>,
}

#[derive(Deserialize)]
struct Subject {
    #[serde(default)]
    digest: BTreeMap<String, String>,
}

/// DSSE's pre-authentication encoding, what the envelope's signatures sign.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The pure check of one bundle: a key verifies the envelope, whose in-toto statement
/// names `digest` as a subject.
fn check_bundle(keys: &[PublicKey], bundle: &[u8], digest: &str) -> Result<(), String> {
    let base64 = base64::engine::general_purpose::STANDARD;
    let bundle: Bundle =
        serde_json::from_slice(bundle).map_err(|e| format!("invalid bundle: {e}"))?;
    let envelope = bundle
        .dsse_envelope
        .ok_or_else(|| "bundle has no DSSE envelope".to_owned())?;
    let payload = base64
        .decode(envelope.payload.trim())
        .map_err(|e| format!("invalid base64 envelope payload: {e}"))?;
    let signed = pae(&envelope.payload_type, &payload);
    let verified = envelope.signatures.iter().any(|signature| {
        base64
            .decode(signature.sig.trim())
            .is_ok_and(|sig| keys.iter().any(|key| key.verifies(&signed, &sig)))
    });
    if !verified {
        return Err("invalid signature when validating the DSSE envelope".to_owned());
    }
    if envelope.payload_type != IN_TOTO {
        return Err(format!(
            "unexpected envelope payload type '{}'",
            envelope.payload_type
        ));
    }
    let statement: Statement =
        serde_json::from_slice(&payload).map_err(|e| format!("invalid in-toto statement: {e}"))?;
    let (algorithm, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    if statement
        .subject
        .iter()
        .any(|s| s.digest.get(algorithm).is_some_and(|d| d == hex))
    {
        Ok(())
    } else {
        Err(format!("the signed statement does not name {digest}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn key_pair() -> EcdsaKeyPair {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap()
    }

    fn pem(pair: &EcdsaKeyPair) -> String {
        let spki = pair.public_key().as_der().unwrap();
        let body = base64::engine::general_purpose::STANDARD.encode(spki.as_ref());
        format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n")
    }

    fn payload(digest: &str) -> Vec<u8> {
        format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"127.0.0.1:5000/app"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
        )
        .into_bytes()
    }

    fn sign(pair: &EcdsaKeyPair, payload: &[u8]) -> Vec<u8> {
        pair.sign(&SystemRandom::new(), payload)
            .unwrap()
            .as_ref()
            .to_vec()
    }

    #[test]
    fn signature_tags_are_cosigns() {
        assert_eq!(
            signature_tag(DIGEST),
            "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig"
        );
    }

    #[test]
    fn accepts_a_signature_of_the_digest_by_a_trusted_key() {
        let pair = key_pair();
        let keys = vec![PublicKey::from_pem(pem(&pair).as_bytes()).unwrap()];
        let payload = payload(DIGEST);
        assert_eq!(
            check_signature(&keys, &payload, &sign(&pair, &payload), DIGEST),
            Ok(())
        );
    }

    #[test]
    fn refuses_other_keys_tampered_payloads_and_other_digests() {
        let pair = key_pair();
        let stranger = key_pair();
        let keys = vec![PublicKey::from_pem(pem(&pair).as_bytes()).unwrap()];
        let payload = payload(DIGEST);
        let by_stranger = sign(&stranger, &payload);
        assert!(check_signature(&keys, &payload, &by_stranger, DIGEST).is_err());

        let signature = sign(&pair, &payload);
        let mut tampered = payload.clone();
        tampered[10] ^= 1;
        assert!(check_signature(&keys, &tampered, &signature, DIGEST).is_err());

        let other = payload_for_other_digest();
        let message = check_signature(&keys, &other, &sign(&pair, &other), DIGEST).unwrap_err();
        assert!(
            message.starts_with("invalid or missing digest in claim"),
            "{message}"
        );
    }

    fn payload_for_other_digest() -> Vec<u8> {
        payload("sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")
    }

    fn bundle(pair: &EcdsaKeyPair, subject_hex: &str, tamper: bool) -> Vec<u8> {
        let statement = format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"digest":{{"sha256":"{subject_hex}"}}}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{{}}}}"#
        );
        let signature = sign(pair, &pae(IN_TOTO, statement.as_bytes()));
        let mut payload = statement.into_bytes();
        if tamper {
            payload.push(b' ');
        }
        let engine = base64::engine::general_purpose::STANDARD;
        serde_json::json!({
            "mediaType": BUNDLE_TYPE,
            "verificationMaterial": {"publicKey": {"hint": "x"}},
            "dsseEnvelope": {
                "payload": engine.encode(payload),
                "payloadType": IN_TOTO,
                "signatures": [{"sig": engine.encode(signature)}],
            },
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn bundles_verify_their_envelope_and_subject() {
        let pair = key_pair();
        let keys = vec![PublicKey::from_pem(pem(&pair).as_bytes()).unwrap()];
        let hex = DIGEST.trim_start_matches("sha256:");
        assert_eq!(
            check_bundle(&keys, &bundle(&pair, hex, false), DIGEST),
            Ok(())
        );
        assert!(
            check_bundle(&keys, &bundle(&pair, hex, true), DIGEST)
                .unwrap_err()
                .starts_with("invalid signature")
        );
        assert!(
            check_bundle(&keys, &bundle(&key_pair(), hex, false), DIGEST)
                .unwrap_err()
                .starts_with("invalid signature")
        );
        let other = "f".repeat(64);
        assert!(
            check_bundle(&keys, &bundle(&pair, &other, false), DIGEST)
                .unwrap_err()
                .contains("does not name")
        );
        assert_eq!(pae("t", b"ab"), b"DSSEv1 1 t 2 ab".to_vec());
    }

    #[test]
    fn key_errors_are_clear() {
        assert!(
            PublicKey::from_pem(b"not a key")
                .unwrap_err()
                .starts_with("PEM decoding failed")
        );
        let certificate = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(
            PublicKey::from_pem(certificate.as_bytes())
                .unwrap_err()
                .contains("expected a 'PUBLIC KEY' block")
        );
    }
}
