//! Artifact storage shared by the source-controller (producer) and the kustomize- and
//! helm-controllers (consumers), reproducing Flux's `fluxcd/pkg/artifact`, `tar`,
//! `sourceignore` and `http/fetch` behaviour.
//!
//! The pipeline:
//!
//! 1. **Produce.** [`Storage::artifact_for`] names a file at
//!    `<kind>/<namespace>/<name>/<file>` under the storage root and its URL on the advertised
//!    host. [`Storage::archive`] writes a deterministic tar.gz of a checkout (filtered by an
//!    [`IgnoreMatcher`] built from Flux's default exclusions, `.sourceignore` files and
//!    `spec.ignore`); [`Storage::copy_from`] stores single files (charts, indexes). Both write
//!    a temporary file under `<file>.lock`, hash while writing and rename atomically.
//! 2. **Maintain.** [`Storage::verify`] re-hashes a stored file, [`Storage::gc`] applies the
//!    TTL and record-count retention, [`Storage::symlink`] maintains `latest.tar.gz`, and
//!    [`Storage::remove_all`] clears an object's directory on deletion.
//! 3. **Serve.** [`serve`] / [`router`] expose the storage root over plain HTTP.
//! 4. **Consume.** [`fetch`] / [`Fetcher`] download with retries, verify the digest while
//!    streaming to a temporary file, then [`extract_tar_gz`] unpacks it without ever leaving
//!    the destination directory.

mod archive;
mod digest;
mod extract;
mod fetch;
mod gc;
mod record;
mod server;
mod sourceignore;
mod storage;

pub use archive::{
    ArchiveFilter, DEFAULT_DIR_MODE, DEFAULT_EXE_FILE_MODE, DEFAULT_FILE_MODE, NoFilter,
};
pub use digest::{Algorithm, Digest, DigestError, Hasher, digest_reader};
pub use extract::{
    DEFAULT_MAX_ENTRIES, DEFAULT_MAX_TOTAL_SIZE, ExtractError, ExtractLimits, ExtractSummary,
    entry_relative_path, extract_tar_gz,
};
pub use fetch::{FetchError, FetchOptions, Fetcher, fetch, host_override_from_env};
pub use gc::GARBAGE_COUNT_LIMIT;
pub use record::{
    AddressError, ArtifactRecord, DEFAULT_STORAGE_ADDRESS, advertised_address,
    advertised_address_with, artifact_dir, artifact_path, artifact_url,
};
pub use server::{router, serve, serve_with_shutdown};
pub use sourceignore::{
    EXCLUDE_CI, EXCLUDE_EXT, EXCLUDE_EXTRA, EXCLUDE_VCS, IGNORE_FILE, IgnoreError, IgnoreMatcher,
    IgnoreMatcherBuilder,
};
pub use storage::{ArtifactLock, Storage, StorageError};
