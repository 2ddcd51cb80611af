//! Checks an SSH server's host key against `known_hosts` content (OpenSSH format:
//! plain or hashed host patterns, `[host]:port` for non-default ports, `@revoked` lines).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Whether `key` (the raw SSH public key blob) is known for `host:port`.
pub fn is_known(known_hosts: &str, host: &str, port: u16, key: &[u8]) -> bool {
    let name = if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    };
    let mut known = false;
    for line in known_hosts.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let Some(mut first) = fields.next() else {
            continue;
        };
        let revoked = first == "@revoked";
        if first.starts_with('@') {
            // Markers (@cert-authority, @revoked) come before the host patterns.
            let Some(next) = fields.next() else { continue };
            if !revoked {
                continue; // certificate authorities are not supported; skip the line
            }
            first = next;
        }
        let (Some(_key_type), Some(encoded)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Ok(line_key) = STANDARD.decode(encoded) else {
            continue;
        };
        if !hosts_match(first, &name) || line_key != key {
            continue;
        }
        if revoked {
            return false;
        }
        known = true;
    }
    known
}

/// The host key algorithms `known_hosts` has keys of for `host:port`, in the order of the
/// file, as SSH names them in the key exchange (an RSA key serves the SHA-2 signatures too).
pub fn key_types(known_hosts: &str, host: &str, port: u16) -> Vec<String> {
    let name = if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    };
    let mut types = Vec::new();
    for line in known_hosts.lines() {
        let mut fields = line.split_whitespace();
        let (Some(patterns), Some(key_type)) = (fields.next(), fields.next()) else {
            continue;
        };
        if patterns.starts_with('@') || patterns.starts_with('#') || !hosts_match(patterns, &name) {
            continue;
        }
        let names: &[&str] = if key_type == "ssh-rsa" {
            &["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
        } else {
            &[key_type]
        };
        for name in names {
            if !types.iter().any(|known: &String| known == name) {
                types.push((*name).to_owned());
            }
        }
    }
    types
}

/// Whether a comma-separated host pattern list (or a hashed entry) names `name`.
fn hosts_match(patterns: &str, name: &str) -> bool {
    if let Some(hashed) = patterns.strip_prefix("|1|") {
        return hashed_match(hashed, name);
    }
    let mut matched = false;
    for pattern in patterns.split(',') {
        if let Some(negated) = pattern.strip_prefix('!') {
            if glob(negated, name) {
                return false;
            }
        } else if glob(pattern, name) {
            matched = true;
        }
    }
    matched
}

fn hashed_match(hashed: &str, name: &str) -> bool {
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (STANDARD.decode(salt), STANDARD.decode(hash)) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

/// OpenSSH host patterns: `*` and `?` wildcards, case-insensitive.
fn glob(pattern: &str, name: &str) -> bool {
    fn matches(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => matches(&p[1..], n) || (!n.is_empty() && matches(p, &n[1..])),
            (Some(b'?'), Some(_)) => matches(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => matches(&p[1..], &n[1..]),
            _ => false,
        }
    }
    matches(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    #[test]
    fn key_types_are_those_known_for_the_host() {
        let known = format!(
            "github.com ssh-ed25519 {KEY}\n[127.0.0.1]:2222 ecdsa-sha2-nistp256 {KEY}\n127.0.0.1,[127.0.0.1]:2222 ssh-rsa {KEY}\n@revoked [127.0.0.1]:2222 ssh-dss {KEY}\n"
        );
        assert_eq!(
            key_types(&known, "127.0.0.1", 2222),
            [
                "ecdsa-sha2-nistp256",
                "rsa-sha2-512",
                "rsa-sha2-256",
                "ssh-rsa"
            ]
        );
        assert_eq!(key_types(&known, "github.com", 22), ["ssh-ed25519"]);
        assert!(key_types(&known, "gitlab.com", 22).is_empty());
    }

    fn key() -> Vec<u8> {
        STANDARD.decode(KEY).unwrap()
    }

    #[test]
    fn plain_and_bracketed_hosts() {
        let known = format!("github.com ssh-ed25519 {KEY}\n[127.0.0.1]:2222 ssh-ed25519 {KEY}\n");
        assert!(is_known(&known, "github.com", 22, &key()));
        assert!(is_known(&known, "127.0.0.1", 2222, &key()));
        assert!(!is_known(&known, "127.0.0.1", 22, &key()));
        assert!(!is_known(&known, "gitlab.com", 22, &key()));
        assert!(!is_known(&known, "github.com", 22, b"another key"));
    }

    #[test]
    fn hashed_hosts() {
        // |1|base64(salt)|base64(HMAC-SHA1(salt, "example.org"))
        let salt = b"0123456789abcdefghij";
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(salt).unwrap();
        mac.update(b"example.org");
        let hash = mac.finalize().into_bytes();
        let line = format!(
            "|1|{}|{} ssh-ed25519 {KEY}",
            STANDARD.encode(salt),
            STANDARD.encode(hash)
        );
        assert!(is_known(&line, "example.org", 22, &key()));
        assert!(!is_known(&line, "example.com", 22, &key()));
    }

    #[test]
    fn wildcards_negation_and_revocation() {
        assert!(is_known(
            &format!("*.example.org,!bad.example.org ssh-ed25519 {KEY}"),
            "git.example.org",
            22,
            &key()
        ));
        assert!(!is_known(
            &format!("*.example.org,!bad.example.org ssh-ed25519 {KEY}"),
            "bad.example.org",
            22,
            &key()
        ));
        let revoked = format!(
            "git.example.org ssh-ed25519 {KEY}\n@revoked git.example.org ssh-ed25519 {KEY}"
        );
        assert!(!is_known(&revoked, "git.example.org", 22, &key()));
        assert!(!is_known("garbage\n\n# comment\n", "x", 22, &key()));
    }
}
