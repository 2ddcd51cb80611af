//! Receivers: webhooks in, reconcile requests out.

pub mod annotate;
pub mod oidc;
pub mod reconciler;
pub mod server;
pub mod validate;

use sha2::{Digest as _, Sha256};

/// The prefix every webhook path starts with.
pub const WEBHOOK_PATH_PREFIX: &str = "/hook/";

/// `/hook/<hex sha256(token + name + namespace)>`, Flux's webhook path.
pub fn webhook_path(token: &str, name: &str, namespace: &str) -> String {
    let digest = Sha256::digest(format!("{token}{name}{namespace}").as_bytes());
    format!("{WEBHOOK_PATH_PREFIX}{}", hex::encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_hashes_token_name_namespace() {
        // sha256("tokenreceiverflux-system")
        let expected = hex::encode(Sha256::digest(b"tokenreceiverflux-system"));
        assert_eq!(
            webhook_path("token", "receiver", "flux-system"),
            format!("/hook/{expected}")
        );
        assert_eq!(
            webhook_path("token", "receiver", "flux-system").len(),
            "/hook/".len() + 64
        );
    }
}
