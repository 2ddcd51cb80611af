//! Sprig's key and certificate functions: `genPrivateKey`, `genCA`, `genSelfSignedCert`,
//! `genSignedCert` (and their `WithKey` forms) and `buildCustomCert`.
//!
//! Keys come out in the PEM shapes Go's `pemBlockForKey` writes: RSA as PKCS#1
//! (`RSA PRIVATE KEY`), ECDSA P-256 as SEC 1 (`EC PRIVATE KEY`), Ed25519 as PKCS#8
//! (`PRIVATE KEY`). Certificates carry what Sprig's template sets: the common name only as
//! subject, a random 128-bit serial, validity from now for `daysValid` days, key usages
//! (digital signature, key encipherment, plus cert sign for a CA), server and client auth
//! extended usages, and basic constraints. DSA keys are not supported.

use std::net::IpAddr;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer as _;
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};

use super::{FnResult, Registry, arg_int, arg_str};
use crate::function::{FuncError, ParamType as P};
use crate::value::{Object, Value};

/// The parameter type of Sprig's `certificate` struct.
const CERTIFICATE: P = P::Named("sprig.certificate");

/// Sprig's `certificate` struct: `.Cert` and `.Key`, both PEM.
#[derive(Debug, Clone)]
pub(crate) struct Certificate {
    cert: String,
    key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> String {
        "sprig.certificate".to_owned()
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::from(self.cert.as_str())),
            "Key" => Some(Value::from(self.key.as_str())),
            _ => None,
        }
    }

    fn fields(&self) -> Vec<(String, Value)> {
        vec![
            ("Cert".to_owned(), Value::from(self.cert.as_str())),
            ("Key".to_owned(), Value::from(self.key.as_str())),
        ]
    }

    fn is_pointer(&self) -> bool {
        false
    }
}

fn certificate_value(certificate: Certificate) -> Value {
    Value::Object(Arc::new(certificate))
}

pub(crate) fn register(r: &mut Registry) {
    r.typed("genPrivateKey", &[P::String], None, |a| {
        generate_private_key(arg_str(a, 0))
    });
    r.typed("buildCustomCert", &[P::String, P::String], None, |a| {
        build_custom_cert(arg_str(a, 0), arg_str(a, 1)).map(certificate_value)
    });
    r.typed("genCA", &[P::String, P::Int], None, |a| {
        let key = generate_rsa(2048)?;
        ca(arg_str(a, 0), arg_int(a, 1), &key)
    });
    r.typed("genCAWithKey", &[P::String, P::Int, P::String], None, |a| {
        ca(arg_str(a, 0), arg_int(a, 1), &parse_key(arg_str(a, 2))?)
    });
    let leaf = [P::String, P::InterfaceSlice, P::InterfaceSlice, P::Int];
    let with = |extra: &[P]| [&leaf[..], extra].concat();
    r.typed("genSelfSignedCert", &leaf, None, |a| {
        let key = generate_rsa(2048)?;
        self_signed(a, &key)
    });
    r.typed("genSelfSignedCertWithKey", &with(&[P::String]), None, |a| {
        let key = parse_key(arg_str(a, 4))?;
        self_signed(a, &key)
    });
    r.typed("genSignedCert", &with(&[CERTIFICATE]), None, |a| {
        let key = generate_rsa(2048)?;
        signed(a, &key)
    });
    r.typed(
        "genSignedCertWithKey",
        &with(&[CERTIFICATE, P::String]),
        None,
        |a| {
            let key = parse_key(arg_str(a, 5))?;
            signed(a, &key)
        },
    );
}

/// A generated or parsed private key: its PEM as Sprig prints it, and the signer.
struct Key {
    pem: String,
    pair: KeyPair,
}

fn crypto_error(context: &str, error: impl std::fmt::Display) -> FuncError {
    FuncError::new(format!("{context}: {error}"))
}

/// `genPrivateKey`: failures come back as text, as Sprig returns them.
fn generate_private_key(kind: &str) -> FnResult {
    let pem = match kind {
        "" | "rsa" => generate_rsa(4096).map(|k| k.pem),
        "ecdsa" => generate_ecdsa().map(|k| k.pem),
        "ed25519" => generate_ed25519().map(|k| k.pem),
        "dsa" => {
            return Err(FuncError::new(
                "genPrivateKey: dsa keys are not supported by the native renderer",
            ));
        }
        other => return Ok(Value::from(format!("Unknown type {other}"))),
    };
    Ok(Value::from(pem.unwrap_or_else(|e| {
        format!("failed to generate private key: {}", e.0)
    })))
}

fn generate_rsa(bits: u32) -> Result<Key, FuncError> {
    let size = if bits == 4096 {
        aws_lc_rs::rsa::KeySize::Rsa4096
    } else {
        aws_lc_rs::rsa::KeySize::Rsa2048
    };
    let pair = aws_lc_rs::rsa::KeyPair::generate(size)
        .map_err(|e| crypto_error("error generating rsa key", e))?;
    let pkcs8 = pair
        .as_der()
        .map_err(|e| crypto_error("error generating rsa key", e))?;
    let pkcs1 = pkcs8_inner_key(pkcs8.as_ref())
        .ok_or_else(|| FuncError::new("error generating rsa key: malformed PKCS#8"))?;
    key_from_pem(pem_encode("RSA PRIVATE KEY", pkcs1))
}

fn generate_ecdsa() -> Result<Key, FuncError> {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
        .map_err(|e| crypto_error("error generating ecdsa key", e))?;
    let sec1 = pair
        .private_key()
        .as_der()
        .map_err(|e| crypto_error("error generating ecdsa key", e))?;
    key_from_pem(pem_encode("EC PRIVATE KEY", sec1.as_ref()))
}

fn generate_ed25519() -> Result<Key, FuncError> {
    let pair = aws_lc_rs::signature::Ed25519KeyPair::generate()
        .map_err(|e| crypto_error("error generating ed25519 key", e))?;
    let pkcs8 = pair
        .to_pkcs8v1()
        .map_err(|e| crypto_error("error generating ed25519 key", e))?;
    key_from_pem(pem_encode("PRIVATE KEY", pkcs8.as_ref()))
}

fn key_from_pem(pem: String) -> Result<Key, FuncError> {
    let pair = KeyPair::from_pem(&pem).map_err(|e| crypto_error("error loading key", e))?;
    Ok(Key { pem, pair })
}

/// Go's `parsePrivateKeyPEM`, with its messages, wrapped as the `WithKey` functions do.
fn parse_key(text: &str) -> Result<Key, FuncError> {
    parse_private_key(text).map_err(|e| FuncError::new(format!("parsing private key: {e}")))
}

fn parse_private_key(text: &str) -> Result<Key, String> {
    let (kind, der) = pem_decode(text).ok_or("no PEM data in input")?;
    let pem = pem_encode(&kind, &der);
    let context = match kind.as_str() {
        "PRIVATE KEY" => "decoding PEM as PKCS#8",
        "RSA PRIVATE KEY" => "parsing RSA private key from PEM",
        "EC PRIVATE KEY" => "parsing EC private key from PEM",
        "DSA PRIVATE KEY" => return Err("DSA keys are not supported by the native renderer".into()),
        other if other.ends_with(" PRIVATE KEY") => {
            return Err(format!("invalid private key type {other}"));
        }
        other => return Err(format!("no private key data in PEM block of type {other}")),
    };
    let pair = KeyPair::from_pem(&pem).map_err(|e| format!("{context}: {e}"))?;
    Ok(Key { pem, pair })
}

fn ca(cn: &str, days: i64, key: &Key) -> FnResult {
    let mut params = base_params(cn, &[], Vec::new(), days)?;
    params.key_usages.push(KeyUsagePurpose::KeyCertSign);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params
        .self_signed(&key.pair)
        .map_err(|e| crypto_error("error creating certificate", e))?;
    Ok(certificate_value(Certificate {
        cert: pem_encode("CERTIFICATE", cert.der()),
        key: key.pem.clone(),
    }))
}

/// `genSelfSignedCert(cn, ips, alternateDNS, daysValid)`.
fn self_signed(args: &[Value], key: &Key) -> FnResult {
    let params = leaf_params(args)?;
    let cert = params
        .self_signed(&key.pair)
        .map_err(|e| crypto_error("error creating certificate", e))?;
    Ok(certificate_value(Certificate {
        cert: pem_encode("CERTIFICATE", cert.der()),
        key: key.pem.clone(),
    }))
}

/// `genSignedCert(cn, ips, alternateDNS, daysValid, ca)`.
fn signed(args: &[Value], key: &Key) -> FnResult {
    let (ca_cert, ca_key) = certificate_param(&args[4]);
    if pem_decode(&ca_cert).is_none() {
        return Err(FuncError::new("unable to decode certificate"));
    }
    let signer = parse_private_key(&ca_key)
        .map_err(|e| FuncError::new(format!("error parsing private key: {e}")))?;
    let issuer = Issuer::from_ca_cert_pem(&ca_cert, signer.pair).map_err(|e| {
        FuncError::new(format!(
            "error parsing certificate: decodedSignerCert.Bytes: {e}"
        ))
    })?;
    let mut params = leaf_params(args)?;
    params.use_authority_key_identifier_extension = true;
    let cert = params
        .signed_by(&key.pair, &issuer)
        .map_err(|e| crypto_error("error creating certificate", e))?;
    Ok(certificate_value(Certificate {
        cert: pem_encode("CERTIFICATE", cert.der()),
        key: key.pem.clone(),
    }))
}

/// The `cn, ips, alternateDNS, daysValid` arguments as a certificate template.
fn leaf_params(args: &[Value]) -> Result<CertificateParams, FuncError> {
    let cn = arg_str(args, 0);
    let ips = list_items(&args[1]);
    let dns = list_items(&args[2]);
    let days = arg_int(args, 3);
    let ips = ips
        .iter()
        .map(|ip| match ip {
            Value::String(text) => text
                .parse::<IpAddr>()
                .map_err(|_| FuncError::new(format!("error parsing ip: {text}"))),
            other => Err(FuncError::new(format!(
                "error parsing ip: {} is not a string",
                crate::format::format_value(other, 'v')
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let dns = dns
        .iter()
        .map(|name| match name {
            Value::String(text) => Ok(text.to_string()),
            other => Err(FuncError::new(format!(
                "error processing alternate dns name: {} is not a string",
                crate::format::format_value(other, 'v')
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    base_params(cn, &ips, dns, days)
}

/// Sprig's `getBaseCertTemplate`.
fn base_params(
    cn: &str,
    ips: &[IpAddr],
    dns: Vec<String>,
    days: i64,
) -> Result<CertificateParams, FuncError> {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    if !cn.is_empty() {
        name.push(DnType::CommonName, cn);
    }
    params.distinguished_name = name;
    let mut serial: [u8; 16] = rand::random();
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let until = now.saturating_add(days.saturating_mul(86_400));
    params.not_before = time::OffsetDateTime::from_unix_timestamp(now)
        .map_err(|e| crypto_error("error creating certificate", e))?;
    params.not_after = time::OffsetDateTime::from_unix_timestamp(until)
        .map_err(|e| crypto_error("error creating certificate", e))?;
    for name in dns {
        let name = name
            .try_into()
            .map_err(|e| crypto_error("error creating certificate", e))?;
        params.subject_alt_names.push(SanType::DnsName(name));
    }
    params
        .subject_alt_names
        .extend(ips.iter().map(|ip| SanType::IpAddress(*ip)));
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.is_ca = IsCa::ExplicitNoCa;
    Ok(params)
}

/// Sprig's `buildCustomCert(b64cert, b64key)`: checks both parse, returns them as is.
fn build_custom_cert(b64cert: &str, b64key: &str) -> Result<Certificate, FuncError> {
    let engine = base64::engine::general_purpose::STANDARD;
    let cert = engine
        .decode(b64cert)
        .map_err(|_| FuncError::new("unable to decode base64 certificate"))?;
    let key = engine
        .decode(b64key)
        .map_err(|_| FuncError::new("unable to decode base64 private key"))?;
    let cert = String::from_utf8_lossy(&cert).into_owned();
    let key = String::from_utf8_lossy(&key).into_owned();
    let (_, der) =
        pem_decode(&cert).ok_or_else(|| FuncError::new("unable to decode certificate"))?;
    x509_parser::parse_x509_certificate(&der).map_err(|e| {
        FuncError::new(format!("error parsing certificate: decodedCert.Bytes: {e}"))
    })?;
    parse_private_key(&key)
        .map_err(|e| FuncError::new(format!("error parsing private key: {e}")))?;
    Ok(Certificate { cert, key })
}

/// The items of a `[]interface {}` argument (nil is empty).
fn list_items(value: &Value) -> &[Value] {
    match value {
        Value::Slice(slice) => &slice.items,
        _ => &[],
    }
}

/// The `Cert` and `Key` of a `sprig.certificate` argument.
fn certificate_param(value: &Value) -> (String, String) {
    let field = |name| {
        if let Value::Object(object) = value {
            object
                .field(name)
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        } else {
            String::new()
        }
    };
    (field("Cert"), field("Key"))
}

/// Go's `pem.Encode`: base64 in 64-column lines.
fn pem_encode(kind: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {kind}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(kind);
    out.push_str("-----\n");
    out
}

/// The first PEM block of `text`: its type and decoded bytes.
fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let kind_end = rest.find("-----")?;
    let kind = &rest[..kind_end];
    let body_start = &rest[kind_end + 5..];
    let end_marker = format!("-----END {kind}-----");
    let body = &body_start[..body_start.find(&end_marker)?];
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()?;
    Some((kind.to_owned(), der))
}

/// The `privateKey` OCTET STRING of a PKCS#8 `PrivateKeyInfo` (a PKCS#1 key for RSA).
fn pkcs8_inner_key(der: &[u8]) -> Option<&[u8]> {
    let (tag, body, _) = der_element(der)?;
    if tag != 0x30 {
        return None;
    }
    let (_, _, rest) = der_element(body)?; // version
    let (_, _, rest) = der_element(rest)?; // algorithm
    let (tag, key, _) = der_element(rest)?;
    (tag == 0x04).then_some(key)
}

/// One DER element: tag, contents, and what follows.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (length, &rest[count..])
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}
