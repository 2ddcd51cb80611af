//! Signature verification of Git commits and tags (`spec.verify`), as Flux does it: PGP
//! signatures against armored key rings, SSH signatures (`git` namespace) against
//! authorized keys, from the Secret's `*.asc` and `*.sshpub` entries.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::KeyDetails;

use crate::error::SourceError;

/// Secret data keys ending in this hold PGP public key rings.
const PGP_SUFFIX: &str = ".asc";
/// Secret data keys ending in this hold SSH public keys (authorized_keys format).
const SSH_SUFFIX: &str = ".sshpub";
/// The SSHSIG namespace Git signs in.
const SSH_NAMESPACE: &str = "git";

/// A signed Git object: the armored signature and the bytes it signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The armored signature, empty when the object is unsigned.
    pub signature: String,
    /// The object's content without the signature.
    pub payload: Vec<u8>,
}

/// An annotated tag as fetched: its name, object id and signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagObject {
    /// The tag name (`v1.0.0`).
    pub name: String,
    /// The tag object's SHA-1 hex.
    pub oid: String,
    /// The signature, if the tag is signed.
    pub signed: Signed,
}

impl TagObject {
    /// Flux's rendering of a tag in messages: `<name>@<hex>`.
    pub fn display(&self) -> String {
        format!("{}@{}", self.name, self.oid)
    }
}

/// The trusted keys of a verification Secret.
#[derive(Debug, Default)]
pub struct TrustedKeys {
    key_rings: Vec<String>,
    authorized_keys: Vec<String>,
}

impl TrustedKeys {
    /// Sorts a Secret's entries by suffix; entries with neither suffix are PGP key rings, as
    /// Flux kept for compatibility.
    pub fn from_secret_data(data: &BTreeMap<String, Vec<u8>>) -> Self {
        let mut keys = Self::default();
        for (name, value) in data {
            let text = String::from_utf8_lossy(value).into_owned();
            if name.ends_with(SSH_SUFFIX) {
                keys.authorized_keys.push(text);
            } else {
                // `*.asc`, and any other entry for compatibility.
                keys.key_rings.push(text);
            }
        }
        keys
    }

    /// Verifies `signed` and returns the signer: the PGP key id (16 upper-case hex digits) or
    /// the SSH key's `SHA256:` fingerprint.
    pub fn verify(&self, signed: &Signed) -> Result<String, String> {
        let signature = signed.signature.trim();
        match signature_type(signature) {
            "openpgp" => {
                if self.key_rings.is_empty() {
                    return Err(format!(
                        "PGP signature detected but no PGP public keys found in secret (keys with {PGP_SUFFIX} suffix)"
                    ));
                }
                verify_pgp(signature, &signed.payload, &self.key_rings)
            }
            "ssh" => {
                if self.authorized_keys.is_empty() {
                    return Err(format!(
                        "SSH signature detected but no SSH public keys found in secret (keys with {SSH_SUFFIX} suffix)"
                    ));
                }
                verify_ssh(signature, &signed.payload, &self.authorized_keys)
            }
            other => Err(format!("unsupported signature type: {other}")),
        }
    }
}

/// Flux's names for the signature formats.
fn signature_type(signature: &str) -> &'static str {
    if signature.starts_with("-----BEGIN PGP SIGNATURE-----") {
        "openpgp"
    } else if signature.starts_with("-----BEGIN SSH SIGNATURE-----") {
        "ssh"
    } else if signature.starts_with("-----BEGIN SIGNED MESSAGE-----") {
        "x509"
    } else if signature.is_empty() {
        "empty"
    } else {
        "unknown"
    }
}

fn verify_pgp(signature: &str, payload: &[u8], key_rings: &[String]) -> Result<String, String> {
    if payload.is_empty() {
        return Err("unable to verify payload: payload is empty".to_owned());
    }
    let (signature, _) = DetachedSignature::from_string(signature)
        .map_err(|e| format!("unable to read armored signature: {e}"))?;
    let mut parse_error = None;
    let mut attempted = false;
    for ring in key_rings {
        let keys = match SignedPublicKey::from_string_many(ring) {
            Ok((keys, _)) => keys,
            Err(e) => {
                parse_error.get_or_insert_with(|| format!("unable to read armored key ring: {e}"));
                continue;
            }
        };
        for key in keys {
            let Ok(key) = key else { continue };
            attempted = true;
            let verified = signature.verify(&key.primary_key, payload).is_ok()
                || key
                    .public_subkeys
                    .iter()
                    .any(|subkey| signature.verify(&subkey.key, payload).is_ok());
            if verified {
                return Ok(hex::encode_upper(key.primary_key.legacy_key_id().as_ref()));
            }
        }
    }
    match parse_error {
        Some(error) if !attempted => Err(error),
        _ => Err(
            "unable to verify payload with any of the given key rings: no matching key".to_owned(),
        ),
    }
}

fn verify_ssh(
    signature: &str,
    payload: &[u8],
    authorized_keys: &[String],
) -> Result<String, String> {
    if payload.is_empty() {
        return Err("unable to verify payload: payload is empty".to_owned());
    }
    let signature = ssh_key::SshSig::from_pem(signature)
        .map_err(|e| format!("unable to unarmor SSH signature: {e}"))?;
    let mut parse_error = None;
    let mut attempted = false;
    for entry in authorized_keys {
        for line in entry.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = match line.parse::<ssh_key::authorized_keys::Entry>() {
                Ok(entry) => entry.public_key().clone(),
                Err(e) => {
                    parse_error
                        .get_or_insert_with(|| format!("unable to parse authorized keys: {e}"));
                    continue;
                }
            };
            attempted = true;
            if key.verify(SSH_NAMESPACE, payload, &signature).is_ok() {
                return Ok(key.fingerprint(ssh_key::HashAlg::Sha256).to_string());
            }
        }
    }
    match parse_error {
        Some(error) if !attempted => Err(error),
        _ => Err(
            "unable to verify payload with any of the given authorized keys: no matching key"
                .to_owned(),
        ),
    }
}

/// Splits a raw annotated tag object into its payload and trailing signature.
pub fn split_tag(raw: &[u8]) -> Signed {
    let text = String::from_utf8_lossy(raw);
    let start = [
        "-----BEGIN PGP SIGNATURE-----",
        "-----BEGIN SSH SIGNATURE-----",
    ]
    .iter()
    .filter_map(|marker| text.find(marker))
    .min();
    match start {
        Some(start) => Signed {
            signature: text[start..].to_owned(),
            payload: raw[..start].to_vec(),
        },
        None => Signed {
            signature: String::new(),
            payload: raw.to_vec(),
        },
    }
}

/// What a verification mode asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// Verify the tag object.
    pub tag: bool,
    /// Verify the commit.
    pub head: bool,
    /// Flux's name of the mode, as recorded in `status.sourceVerificationMode`.
    pub name: &'static str,
}

impl Mode {
    /// The mode of `spec.verify.mode` (default `HEAD`).
    pub fn of(mode: Option<ferroflux_api::source::v1::GitVerificationMode>) -> Self {
        use ferroflux_api::source::v1::GitVerificationMode as M;
        match mode {
            Some(M::Tag) => Self {
                tag: true,
                head: false,
                name: "Tag",
            },
            Some(M::TagAndHEAD) => Self {
                tag: true,
                head: true,
                name: "TagAndHEAD",
            },
            Some(M::Head | M::HeadLowercase) | None => Self {
                tag: false,
                head: true,
                name: "HEAD",
            },
        }
    }

    /// Whether an artifact verified under `observed` still satisfies this mode (Flux
    /// re-verifies when the set of verified objects grows).
    pub fn satisfied_by(self, observed: Option<&str>) -> bool {
        match observed {
            None => false,
            Some("TagAndHEAD") => true,
            Some("Tag") => !self.head,
            Some(_) => !self.tag,
        }
    }
}

/// Verifies the checked-out objects and returns Flux's success message.
pub fn verify_checkout(
    mode: Mode,
    keys: &TrustedKeys,
    commit_hex: &str,
    commit: &Signed,
    tag: Option<&TagObject>,
) -> Result<String, SourceError> {
    let mut message = String::new();
    if mode.tag {
        let Some(tag) = tag else {
            return Err(SourceError::Verification {
                reason: "InvalidVerificationMode",
                message: "cannot verify tag object's signature if a tag reference is not specified"
                    .to_owned(),
                stalled: true,
            });
        };
        if tag.signed.signature.is_empty() {
            return Err(SourceError::Verification {
                reason: "InvalidGitObject",
                message: format!(
                    "cannot verify signature of tag '{}' since it is not signed",
                    tag.display()
                ),
                stalled: false,
            });
        }
        let entity = keys
            .verify(&tag.signed)
            .map_err(|e| SourceError::Verification {
                reason: "InvalidTagSignature",
                message: format!(
                    "signature verification of tag '{}' failed: {e}",
                    tag.display()
                ),
                stalled: false,
            })?;
        message = format!(
            "verified signature of\n\t- tag '{}' with key '{entity}'",
            tag.display()
        );
    }
    if mode.head {
        let entity = keys.verify(commit).map_err(|e| SourceError::Verification {
            reason: "InvalidCommitSignature",
            message: format!("signature verification of commit '{commit_hex}' failed: {e}"),
            stalled: false,
        })?;
        if message.is_empty() {
            message =
                format!("verified signature of\n\t- commit '{commit_hex}' with key '{entity}'");
        } else {
            let _ = write!(message, "\n\t- commit '{commit_hex}' with key '{entity}'");
        }
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_their_observations() {
        let head = Mode::of(None);
        assert!(head.head && !head.tag);
        assert!(head.satisfied_by(Some("HEAD")));
        assert!(head.satisfied_by(Some("TagAndHEAD")));
        assert!(!head.satisfied_by(Some("Tag")));
        assert!(!head.satisfied_by(None));
        let both = Mode::of(Some(
            ferroflux_api::source::v1::GitVerificationMode::TagAndHEAD,
        ));
        assert!(!both.satisfied_by(Some("HEAD")));
        assert!(both.satisfied_by(Some("TagAndHEAD")));
    }

    #[test]
    fn unsigned_and_unknown_signatures_are_refused() {
        let keys = TrustedKeys::from_secret_data(&BTreeMap::from([(
            "author.asc".to_owned(),
            b"not a key".to_vec(),
        )]));
        let unsigned = Signed {
            signature: String::new(),
            payload: b"tree x".to_vec(),
        };
        assert_eq!(
            keys.verify(&unsigned).unwrap_err(),
            "unsupported signature type: empty"
        );
        let ssh = Signed {
            signature: "-----BEGIN SSH SIGNATURE-----\nabc\n-----END SSH SIGNATURE-----".to_owned(),
            payload: b"tree x".to_vec(),
        };
        assert!(keys.verify(&ssh).unwrap_err().contains(".sshpub suffix"));
    }

    #[test]
    fn tags_split_at_the_signature() {
        let raw = b"object abc\ntype commit\ntag v1\n\nmsg\n-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----\n";
        let signed = split_tag(raw);
        assert!(
            signed
                .signature
                .starts_with("-----BEGIN PGP SIGNATURE-----")
        );
        assert_eq!(signed.payload, b"object abc\ntype commit\ntag v1\n\nmsg\n");
    }
}
