//! Sprig's random key, certificate and password functions. Their output is random, so
//! these tests check structure: the PEM parses, the chain verifies, the subject, SANs,
//! validity and extensions are what Sprig's template sets, and passwords verify.
//! (`derivePassword` is deterministic and compared with real helm in crates/helm's
//! conformance suite.)

use base64::Engine as _;
use ferroflux_gotmpl::{Template, Value};
use x509_parser::prelude::*;

fn render(source: &str) -> Result<String, String> {
    let mut template = Template::new("t");
    for (name, function) in ferroflux_gotmpl::sprig::sprig_functions() {
        template.add_func(name, function).unwrap();
    }
    template.parse(source).map_err(|e| e.to_string())?;
    template.render("t", &Value::Nil).map_err(|e| e.to_string())
}

/// Renders `source`, which must print PEM blocks separated by `|`.
fn blocks(source: &str) -> Vec<String> {
    render(source)
        .unwrap()
        .split('|')
        .map(str::to_owned)
        .collect()
}

fn der(pem_text: &str) -> Vec<u8> {
    let body: String = pem_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

fn dns_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let Some(san) = cert.subject_alternative_name().unwrap() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .map(|name| match name {
            GeneralName::DNSName(d) => (*d).to_owned(),
            GeneralName::IPAddress(ip) => format!("ip:{ip:?}"),
            other => format!("{other:?}"),
        })
        .collect()
}

fn common_name(cert: &X509Certificate<'_>) -> String {
    cert.subject()
        .iter_common_name()
        .next()
        .map(|cn| cn.as_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[test]
fn gen_ca_and_signed_cert_form_a_chain() {
    let parts = blocks(
        r#"{{ $ca := genCA "my-ca" 365 }}{{ $c := genSignedCert "svc.ns" (list "10.0.0.1") (list "svc" "svc.ns.svc") 30 $ca }}{{ $ca.Cert }}|{{ $ca.Key }}|{{ $c.Cert }}|{{ $c.Key }}"#,
    );
    assert!(parts[1].starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    assert!(parts[3].starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    let ca_der = der(&parts[0]);
    let (_, ca) = parse_x509_certificate(&ca_der).unwrap();
    let leaf_der = der(&parts[2]);
    let (_, leaf) = parse_x509_certificate(&leaf_der).unwrap();
    assert_eq!(common_name(&ca), "my-ca");
    assert!(ca.is_ca());
    ca.verify_signature(None).unwrap();
    assert_eq!(common_name(&leaf), "svc.ns");
    assert!(!leaf.is_ca());
    assert_eq!(leaf.issuer(), ca.subject());
    leaf.verify_signature(Some(ca.public_key())).unwrap();
    assert_eq!(dns_names(&leaf), ["svc", "svc.ns.svc", "ip:[10, 0, 0, 1]"]);
    let validity = leaf.validity();
    let days = (validity.not_after.timestamp() - validity.not_before.timestamp()) / 86_400;
    assert_eq!(days, 30);
    let usage = leaf.extended_key_usage().unwrap().unwrap().value;
    assert!(usage.server_auth && usage.client_auth);
    let key_usage = ca.key_usage().unwrap().unwrap().value;
    assert!(key_usage.key_cert_sign() && key_usage.digital_signature());
}

#[test]
fn self_signed_and_with_key_variants() {
    let parts = blocks(
        r#"{{ $k := genPrivateKey "ecdsa" }}{{ $c := genSelfSignedCertWithKey "me" nil (list "a.example") 2 $k }}{{ $k }}|{{ $c.Key }}|{{ $c.Cert }}"#,
    );
    assert!(parts[0].starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
    assert_eq!(parts[0], parts[1], "the given key is the certificate's key");
    let cert_der = der(&parts[2]);
    let (_, cert) = parse_x509_certificate(&cert_der).unwrap();
    cert.verify_signature(None).unwrap();
    assert_eq!(common_name(&cert), "me");
    assert_eq!(dns_names(&cert), ["a.example"]);

    let parts = blocks(
        r#"{{ $k := genPrivateKey "ed25519" }}{{ $ca := genCAWithKey "root" 10 $k }}{{ $c := genSignedCertWithKey "leaf" nil nil 5 $ca $k }}{{ $k }}|{{ $ca.Cert }}|{{ $c.Cert }}"#,
    );
    assert!(parts[0].starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let ca_der = der(&parts[1]);
    let (_, ca) = parse_x509_certificate(&ca_der).unwrap();
    let leaf_der = der(&parts[2]);
    let (_, leaf) = parse_x509_certificate(&leaf_der).unwrap();
    leaf.verify_signature(Some(ca.public_key())).unwrap();

    let parts = blocks(r#"{{ $c := genSelfSignedCert "plain" nil nil 1 }}{{ $c.Cert }}"#);
    let cert_der = der(&parts[0]);
    let (_, cert) = parse_x509_certificate(&cert_der).unwrap();
    cert.verify_signature(None).unwrap();
}

#[test]
fn gen_private_key_kinds() {
    let rsa = render(r#"{{ genPrivateKey "rsa" }}"#).unwrap();
    assert!(rsa.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    assert!(rsa.ends_with("-----END RSA PRIVATE KEY-----\n"));
    assert!(rsa.lines().all(|l| l.len() <= 64));
    assert_eq!(
        render(r#"{{ genPrivateKey "x" }}"#).unwrap(),
        "Unknown type x"
    );
    let error = render(r#"{{ genPrivateKey "dsa" }}"#).unwrap_err();
    assert!(error.contains("dsa keys are not supported"), "{error}");
}

#[test]
fn build_custom_cert_round_trips_and_checks() {
    let out = render(
        r#"{{ $ca := genCA "x" 1 }}{{ $c := buildCustomCert ($ca.Cert | b64enc) ($ca.Key | b64enc) }}{{ eq $c.Cert $ca.Cert }} {{ eq $c.Key $ca.Key }}"#,
    )
    .unwrap();
    assert_eq!(out, "true true");
    let error = render(r#"{{ buildCustomCert "!!" "" }}"#).unwrap_err();
    assert!(
        error.ends_with("unable to decode base64 certificate"),
        "{error}"
    );
    let error = render(r#"{{ genCAWithKey "x" 1 "nope" }}"#).unwrap_err();
    assert!(
        error.ends_with("parsing private key: no PEM data in input"),
        "{error}"
    );
    let error = render(r#"{{ genSignedCert "x" nil nil 1 (dict) }}"#).unwrap_err();
    assert!(
        error.contains("expected sprig.certificate; got map[string]interface {}"),
        "{error}"
    );
}

#[test]
fn passwords_and_aes() {
    let out = render(r#"{{ htpasswd "user" "pw" }}"#).unwrap();
    let (user, hash) = out.split_once(':').unwrap();
    assert_eq!(user, "user");
    assert!(bcrypt::verify("pw", hash).unwrap());
    assert!(hash.starts_with("$2a$10$"));
    assert_eq!(
        render(r#"{{ htpasswd "a:b" "pw" }}"#).unwrap(),
        "invalid username: a:b"
    );
    assert_eq!(
        render(r#"{{ encryptAES "key" "secret text" | decryptAES "key" }}"#).unwrap(),
        "secret text"
    );
    let random = render("{{ randBytes 24 | len }} {{ uuidv4 | len }}").unwrap();
    assert_eq!(random, "32 36");
}
