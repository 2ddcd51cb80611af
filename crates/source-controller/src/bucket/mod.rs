//! Bucket: a small S3 client with its own SigV4 signer, and the reconciler.

pub mod reconciler;
pub mod s3;
