//! The helm-controller's errors, each with Flux's reason and a disposition.

use std::time::Duration;

use ferroflux_runtime::{Disposition, ReconcileError};

/// Why a HelmRelease reconciliation failed.
#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    /// The chart source is not ready (no artifact, stale generation).
    #[error("{0}")]
    SourceNotReady(String, Duration),
    /// The chart artifact could not be fetched or loaded.
    #[error("{message}")]
    Artifact {
        /// What is wrong.
        message: String,
        /// When to look again.
        retry_after: Option<Duration>,
    },
    /// A dependency is not ready yet.
    #[error("{0}")]
    DependencyNotReady(String, Duration),
    /// The values could not be composed.
    #[error("{0}")]
    Values(String),
    /// A reference is not allowed (cross-namespace refs disabled, feature gate off).
    #[error("{0}")]
    AccessDenied(String),
    /// The spec cannot work as written.
    #[error("{0}")]
    InvalidSpec(String),
    /// `spec.healthCheckExprs` does not compile.
    #[error("{0}")]
    InvalidCel(String),
    /// A Helm action failed; `reason` is Flux's (`InstallFailed`, `UpgradeFailed`, ...).
    #[error("{message}")]
    Release {
        /// Flux's reason.
        reason: &'static str,
        /// The message (already on the Released/Remediated condition).
        message: String,
    },
    /// Retries are exhausted: stalled until the spec changes. Ready keeps the reason and
    /// message of the last failure, as Flux's summary does.
    #[error("{message}")]
    RetriesExceeded {
        /// The last failure's reason (`InstallFailed`, `UpgradeFailed`, ...).
        reason: String,
        /// The last failure's message.
        message: String,
        /// The Stalled message: `Failed to <install|upgrade> after <n> attempt(s)`.
        stalled: String,
    },
    /// Retry a failed release later (RetryOnFailure strategy).
    #[error("{0}")]
    RetryLater(String, Duration),
    /// The client for the target cluster could not be built (kubeConfig, impersonation).
    #[error("{0}")]
    Client(String),
    /// The release storage could not be read or written.
    #[error("{0}")]
    Storage(#[from] crate::storage::StorageError),
    /// Talking to the Kubernetes API failed.
    #[error("{0}")]
    Kubernetes(#[from] kube::Error),
}

impl ReconcileError for HelmError {
    fn reason(&self) -> &str {
        match self {
            Self::SourceNotReady(..) => "SourceNotReady",
            Self::Artifact { .. } => "ArtifactFailed",
            Self::DependencyNotReady(..) => "DependencyNotReady",
            Self::Values(_) => "ValuesError",
            Self::AccessDenied(_) => "AccessDenied",
            Self::InvalidSpec(_) => "InvalidChartReference",
            Self::InvalidCel(_) => "InvalidCELExpression",
            Self::Release { reason, .. } => reason,
            Self::RetriesExceeded { reason, .. } => reason,
            Self::RetryLater(..) => "UpgradeFailed",
            Self::Storage(_) => "GetLastReleaseFailed",
            Self::Client(_) => "InitFailed",
            Self::Kubernetes(_) => "ReconciliationFailed",
        }
    }

    fn disposition(&self) -> Disposition {
        match self {
            Self::InvalidSpec(_)
            | Self::InvalidCel(_)
            | Self::AccessDenied(_)
            | Self::RetriesExceeded { .. } => Disposition::Stalled,
            Self::DependencyNotReady(_, after)
            | Self::SourceNotReady(_, after)
            | Self::RetryLater(_, after)
            | Self::Artifact {
                retry_after: Some(after),
                ..
            } => Disposition::Wait(*after),
            _ => Disposition::Retry,
        }
    }

    fn stalled_condition(&self) -> Option<(&str, String)> {
        match self {
            Self::RetriesExceeded { stalled, .. } => Some(("RetriesExceeded", stalled.clone())),
            _ => None,
        }
    }

    fn emits_event(&self) -> bool {
        // Flux logs these and lets the source watch bring the release back.
        !matches!(
            self,
            Self::SourceNotReady(..)
                | Self::Artifact {
                    retry_after: Some(_),
                    ..
                }
        )
    }
}
