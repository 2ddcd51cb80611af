//! GitRepository: Git operations and the reconciler.

pub mod auth;
pub mod bridge;
pub mod checkout;
pub mod github_app;
pub mod known_hosts;
pub mod object;
pub mod pack;
pub mod proxy;
pub mod reconciler;
pub mod remote;
pub mod securejoin;
pub mod smart_http;
pub mod ssh_fetch;
pub mod tls;
pub mod tunnel;
pub mod upload_pack;
pub mod verify;

/// The data of a Secret with `pairs`, for unit tests.
#[cfg(test)]
pub(crate) fn secret_data(
    pairs: &[(&str, &str)],
) -> std::collections::BTreeMap<String, k8s_openapi::ByteString> {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                (*k).to_owned(),
                k8s_openapi::ByteString(v.as_bytes().to_vec()),
            )
        })
        .collect()
}
