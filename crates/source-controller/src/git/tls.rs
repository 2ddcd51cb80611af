//! Verification of an HTTPS server certificate against a CA from a Secret, for remotes
//! whose certificate the system roots do not trust. libgit2 hands us the server's leaf
//! certificate; it must chain to one of the given CAs and name the host.

use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// Checks that `leaf_der` is valid for `host` and issued by a CA in `ca_pem`.
pub fn verify_with_ca(leaf_der: &[u8], ca_pem: &[u8], host: &str) -> Result<(), String> {
    let cas = pem_certificates(ca_pem);
    if cas.is_empty() {
        return Err("no PEM certificate found in 'ca.crt'".to_owned());
    }
    let anchors: Vec<_> = cas
        .iter()
        .filter_map(|der| {
            webpki::anchor_from_trusted_cert(der)
                .ok()
                .map(|anchor| anchor.to_owned())
        })
        .collect();
    let leaf = CertificateDer::from(leaf_der);
    let certificate = webpki::EndEntityCert::try_from(&leaf)
        .map_err(|e| format!("invalid server certificate: {e}"))?;
    certificate
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &[],
            UnixTime::now(),
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(|e| format!("{e}"))?;
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| format!("invalid host name '{host}': {e}"))?;
    certificate
        .verify_is_valid_for_subject_name(&name)
        .map_err(|e| format!("{e}"))?;
    Ok(())
}

/// The DER certificates in a PEM bundle.
fn pem_certificates(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    use base64::Engine as _;
    let text = String::from_utf8_lossy(pem);
    let mut certificates = Vec::new();
    let mut body = String::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line == "-----BEGIN CERTIFICATE-----" {
            inside = true;
            body.clear();
        } else if line == "-----END CERTIFICATE-----" {
            inside = false;
            if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&body) {
                certificates.push(CertificateDer::from(der));
            }
        } else if inside {
            body.push_str(line);
        }
    }
    certificates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_clear_error() {
        assert_eq!(
            verify_with_ca(b"not der", b"", "localhost").unwrap_err(),
            "no PEM certificate found in 'ca.crt'"
        );
        let bogus_pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(verify_with_ca(b"not der", bogus_pem, "localhost").is_err());
    }
}
