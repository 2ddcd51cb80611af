//! JSON Web Tokens: RS256 signing (Google service-account assertions) and RS256/ES256
//! verification against a JWKS (OIDC ID tokens sent to `gcr` and `generic-oidc`
//! Receivers).

use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jiff::Timestamp;
use serde_json::{Map, Value};

/// How much clock skew `nbf` and `iat` tolerate.
const LEEWAY_SECONDS: i64 = 300;

/// Why a token was refused. Messages never contain the token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url JSON parts.
    #[error("malformed JWT: {0}")]
    Malformed(&'static str),
    /// The `alg` is not one we verify.
    #[error("unsupported signing algorithm '{0}'")]
    Algorithm(String),
    /// No key of the JWKS verifies the signature.
    #[error("failed to verify signature: no key of the issuer's JWKS matches")]
    Signature,
    /// `exp` passed or `nbf` not reached.
    #[error("token is expired or not yet valid")]
    Expired,
    /// `iss` is not the expected issuer.
    #[error("token issued by '{got}', expected '{want}'")]
    Issuer {
        /// The token's issuer.
        got: String,
        /// The expected issuer.
        want: String,
    },
    /// `aud` does not contain the expected audience.
    #[error("expected audience '{0}' not found in token audience")]
    Audience(String),
    /// A private key could not be read.
    #[error("invalid key: {0}")]
    Key(String),
}

/// Base64url without padding.
pub fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

fn decode_part(part: &str) -> Result<Value, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed("invalid base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed("invalid JSON"))
}

/// The claims of a token, without checking anything (to pick the issuer first).
pub fn unverified_claims(token: &str) -> Result<Map<String, Value>, JwtError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [_, claims, _] = parts[..] else {
        return Err(JwtError::Malformed("token is not a JWT"));
    };
    match decode_part(claims)? {
        Value::Object(map) => Ok(map),
        _ => Err(JwtError::Malformed("claims are not an object")),
    }
}

/// The DER of the first block of a PEM document.
fn pem_der(pem: &str) -> Result<Vec<u8>, JwtError> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && !l.is_empty())
        .collect();
    STANDARD
        .decode(body)
        .map_err(|_| JwtError::Key("private key is not PEM".to_owned()))
}

/// Signs `claims` with an RSA PKCS#8 PEM key (RS256).
pub fn sign_rs256(
    header: &Value,
    claims: &Value,
    private_key_pem: &str,
) -> Result<String, JwtError> {
    let key = RsaKeyPair::from_pkcs8(&pem_der(private_key_pem)?)
        .map_err(|e| JwtError::Key(e.to_string()))?;
    sign_with(header, claims, |input| {
        let mut signature = vec![0; key.public_modulus_len()];
        key.sign(
            &signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            input,
            &mut signature,
        )
        .map(|()| signature)
        .map_err(|_| JwtError::Key("signing failed".to_owned()))
    })
}

/// `header.claims.signature` with `sign` producing the signature of the first two parts.
pub fn sign_with(
    header: &Value,
    claims: &Value,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, JwtError>,
) -> Result<String, JwtError> {
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let signature = sign(input.as_bytes())?;
    Ok(format!("{input}.{}", b64url(&signature)))
}

/// What a verified token must satisfy.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    /// Accepted `iss` values.
    pub issuers: &'a [&'a str],
    /// The audience `aud` must contain.
    pub audience: &'a str,
    /// The time to check `exp`/`nbf` against.
    pub now: Timestamp,
}

fn jwk_matches(key: &Value, kid: Option<&str>) -> bool {
    match (kid, key.get("kid").and_then(Value::as_str)) {
        (Some(want), Some(have)) => want == have,
        _ => true,
    }
}

fn verify_with_jwk(alg: &str, key: &Value, input: &[u8], signature: &[u8]) -> bool {
    let field = |name: &str| {
        key.get(name)
            .and_then(Value::as_str)
            .and_then(|v| URL_SAFE_NO_PAD.decode(v.trim_end_matches('=')).ok())
    };
    match (alg, key.get("kty").and_then(Value::as_str)) {
        ("RS256", Some("RSA")) => {
            let (Some(n), Some(e)) = (field("n"), field("e")) else {
                return false;
            };
            signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input, signature)
                .is_ok()
        }
        ("ES256", Some("EC")) => {
            let (Some(x), Some(y)) = (field("x"), field("y")) else {
                return false;
            };
            let mut point = vec![4u8];
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(input, signature)
                .is_ok()
        }
        _ => false,
    }
}

fn number(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    claims.get(name).and_then(|v| {
        v.as_i64().or_else(|| {
            v.as_f64()
                .and_then(|f| format!("{:.0}", f.trunc()).parse().ok())
        })
    })
}

/// Verifies the signature with a key of `jwks` (`{"keys": [...]}`), then `iss`, `aud`,
/// `exp` and `nbf`; returns the claims.
pub fn verify(
    token: &str,
    jwks: &Value,
    expect: &Expectations<'_>,
) -> Result<Map<String, Value>, JwtError> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [header, claims_part, signature] = parts[..] else {
        return Err(JwtError::Malformed("token is not a JWT"));
    };
    let header_json = decode_part(header)?;
    let alg = header_json
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !matches!(alg, "RS256" | "ES256") {
        return Err(JwtError::Algorithm(alg.to_owned()));
    }
    let kid = header_json.get("kid").and_then(Value::as_str);
    let signature = URL_SAFE_NO_PAD
        .decode(signature.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed("invalid signature encoding"))?;
    let input = format!("{header}.{claims_part}");
    let verified = jwks
        .get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|key| jwk_matches(key, kid))
        .any(|key| verify_with_jwk(alg, key, input.as_bytes(), &signature));
    if !verified {
        return Err(JwtError::Signature);
    }
    let Value::Object(claims) = decode_part(claims_part)? else {
        return Err(JwtError::Malformed("claims are not an object"));
    };
    check_claims(&claims, expect)?;
    Ok(claims)
}

fn check_claims(claims: &Map<String, Value>, expect: &Expectations<'_>) -> Result<(), JwtError> {
    let now = expect.now.as_second();
    match number(claims, "exp") {
        Some(exp) if exp > now => {}
        _ => return Err(JwtError::Expired),
    }
    if number(claims, "nbf").is_some_and(|nbf| nbf > now + LEEWAY_SECONDS) {
        return Err(JwtError::Expired);
    }
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !expect.issuers.contains(&issuer) {
        return Err(JwtError::Issuer {
            got: issuer.to_owned(),
            want: expect.issuers.join("' or '"),
        });
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expect.audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expect.audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(JwtError::Audience(expect.audience.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing {
    //! Keys and tokens made up in tests.

    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _};

    use super::*;

    /// An ES256 key with its JWKS.
    pub struct TestKey {
        key: EcdsaKeyPair,
        /// `{"keys": [<public JWK>]}`.
        pub jwks: Value,
    }

    impl TestKey {
        /// A fresh P-256 key with id `kid`.
        pub fn new(kid: &str) -> Self {
            let key = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
            let point = key.public_key().as_ref().to_vec();
            let jwks = serde_json::json!({"keys": [{
                "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
                "x": b64url(&point[1..33]), "y": b64url(&point[33..65]),
            }]});
            Self { key, jwks }
        }

        /// A token with `claims` signed by this key.
        pub fn sign(&self, claims: &Value) -> String {
            let kid = self.jwks["keys"][0]["kid"].clone();
            let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": kid});
            sign_with(&header, claims, |input| {
                Ok(self
                    .key
                    .sign(&aws_lc_rs::rand::SystemRandom::new(), input)
                    .unwrap()
                    .as_ref()
                    .to_vec())
            })
            .unwrap()
        }
    }

    /// A fresh RSA key as PKCS#8 PEM, with its JWKS.
    pub fn rsa_pem(kid: &str) -> (String, Value) {
        let key = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der = key.as_der().unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(der.as_ref())
        );
        let components = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(key.public_key());
        let jwks = serde_json::json!({"keys": [{
            "kty": "RSA", "alg": "RS256", "kid": kid,
            "n": b64url(&components.n), "e": b64url(&components.e),
        }]});
        (pem, jwks)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::testing::*;
    use super::*;

    fn expect(now: Timestamp) -> Expectations<'static> {
        Expectations {
            issuers: &["https://issuer.example"],
            audience: "flux",
            now,
        }
    }

    #[test]
    fn es256_round_trip_and_claim_checks() {
        let key = TestKey::new("k1");
        let now = Timestamp::now();
        let claims = |iss: &str, aud: Value, exp: i64| json!({"iss": iss, "aud": aud, "exp": now.as_second() + exp, "sub": "ci"});
        let good = key.sign(&claims("https://issuer.example", json!(["x", "flux"]), 60));
        assert_eq!(verify(&good, &key.jwks, &expect(now)).unwrap()["sub"], "ci");
        let other = TestKey::new("k1");
        assert_eq!(
            verify(&good, &other.jwks, &expect(now)),
            Err(JwtError::Signature)
        );
        let expired = key.sign(&claims("https://issuer.example", json!("flux"), -1));
        assert_eq!(
            verify(&expired, &key.jwks, &expect(now)),
            Err(JwtError::Expired)
        );
        let wrong_aud = key.sign(&claims("https://issuer.example", json!("other"), 60));
        assert!(matches!(
            verify(&wrong_aud, &key.jwks, &expect(now)),
            Err(JwtError::Audience(_))
        ));
        let wrong_iss = key.sign(&claims("https://evil.example", json!("flux"), 60));
        assert!(matches!(
            verify(&wrong_iss, &key.jwks, &expect(now)),
            Err(JwtError::Issuer { .. })
        ));
        let mut tampered = good.clone();
        tampered.insert(good.find('.').unwrap() + 2, 'A');
        assert!(verify(&tampered, &key.jwks, &expect(now)).is_err());
    }

    #[test]
    fn rs256_sign_and_verify() {
        let (pem, jwks) = rsa_pem("r1");
        let now = Timestamp::now();
        let claims =
            json!({"iss": "https://issuer.example", "aud": "flux", "exp": now.as_second() + 60});
        let token = sign_rs256(&json!({"alg": "RS256", "kid": "r1"}), &claims, &pem).unwrap();
        assert!(verify(&token, &jwks, &expect(now)).is_ok());
    }

    #[test]
    fn alg_none_is_refused() {
        let token = format!("{}.{}.", b64url(br#"{"alg":"none"}"#), b64url(b"{}"));
        assert_eq!(
            verify(&token, &json!({"keys": []}), &expect(Timestamp::now())),
            Err(JwtError::Algorithm("none".to_owned()))
        );
    }
}
