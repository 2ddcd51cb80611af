//! The source-controller's errors, each with Flux's reason and a disposition.

use ferroflux_runtime::{Disposition, ReconcileError};

/// Why a source reconciliation failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The spec cannot work as written (bad URL, bad semver range...): stalls.
    #[error("{message}")]
    InvalidSpec {
        /// Flux's reason (`URLInvalid`, `InvalidProviderConfiguration`, ...).
        reason: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Credentials are missing, malformed or rejected.
    #[error("{0}")]
    Authentication(String),
    /// The Secret does not fit `spec.provider` (InvalidProviderConfiguration); retried, as
    /// the Secret may be fixed.
    #[error("{0}")]
    Provider(String),
    /// Talking to the remote failed (network, missing ref, timeout).
    #[error("{0}")]
    Fetch(String),
    /// Reading from a registry or bucket failed, with Flux's reason
    /// (`OCIArtifactPullFailed`, `OCIArtifactLayerOperationFailed`, `ReadOperationFailed`,
    /// `BucketOperationFailed`).
    #[error("{message}")]
    Pull {
        /// Flux's reason.
        reason: &'static str,
        /// What failed.
        message: String,
    },
    /// The checked-out content could not be verified.
    #[error("{message}")]
    Verification {
        /// Flux's reason (`InvalidCommitSignature`, `VerificationError`, ...).
        reason: &'static str,
        /// What failed.
        message: String,
        /// Whether retrying cannot help (an impossible verification mode).
        stalled: bool,
    },
    /// An included GitRepository has no artifact yet, or it could not be copied.
    #[error("{0}")]
    IncludeUnavailable(String),
    /// Writing, reading or archiving in the artifact storage failed.
    #[error("{message}")]
    Storage {
        /// Flux's reason (`ArchiveOperationFailed`, `StatOperationFailed`, ...).
        reason: &'static str,
        /// What failed.
        message: String,
    },
    /// Talking to the Kubernetes API failed.
    #[error("{0}")]
    Kubernetes(#[from] kube::Error),
}

impl SourceError {
    /// The condition type (negative polarity) this error is reported under, if any.
    pub fn condition(&self) -> Option<&'static str> {
        match self {
            Self::InvalidSpec { .. }
            | Self::Authentication(_)
            | Self::Provider(_)
            | Self::Fetch(_)
            | Self::Pull { .. } => Some("FetchFailed"),
            Self::Verification { .. } => Some("SourceVerified"),
            Self::IncludeUnavailable(_) => Some("IncludeUnavailable"),
            Self::Storage { .. } => Some("StorageOperationFailed"),
            Self::Kubernetes(_) => None,
        }
    }
}

impl ReconcileError for SourceError {
    fn reason(&self) -> &str {
        match self {
            Self::InvalidSpec { reason, .. }
            | Self::Storage { reason, .. }
            | Self::Verification { reason, .. }
            | Self::Pull { reason, .. } => reason,
            Self::Authentication(_) => "AuthenticationFailed",
            Self::Provider(_) => "InvalidProviderConfiguration",
            Self::Fetch(_) => "GitOperationFailed",
            Self::IncludeUnavailable(_) => "IncludeUnavailable",
            Self::Kubernetes(_) => "ReconciliationFailed",
        }
    }

    fn disposition(&self) -> Disposition {
        match self {
            Self::InvalidSpec { .. } | Self::Verification { stalled: true, .. } => {
                Disposition::Stalled
            }
            _ => Disposition::Retry,
        }
    }
}
