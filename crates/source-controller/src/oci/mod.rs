//! OCIRepository: an OCI distribution client, the reconciler, and helpers the Bucket
//! reconciler shares.

#[expect(
    dead_code,
    reason = "the push half of the client serves tests (included by path) and the HelmChart reconciler"
)]
pub mod client;
pub mod cosign;
pub mod reconciler;
pub mod store;
