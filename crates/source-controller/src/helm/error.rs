//! Errors of the HelmRepository and HelmChart reconcilers, with Flux's reasons, the
//! negative condition each is reported under, and whether retrying can help.

use std::time::Duration;

use ferroflux_runtime::{Disposition, ReconcileError};

/// Flux's chart build error reasons (`internal/helm/chart/errors.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildReason {
    /// The chart reference (name, version, path) cannot be resolved.
    ChartReference,
    /// Downloading or copying the chart failed.
    ChartPull,
    /// The version metadata could not be applied.
    MetadataPatch,
    /// Values files could not be read or merged.
    ValuesFiles,
    /// Dependencies could not be built.
    DependencyBuild,
    /// Loading or packaging the chart failed.
    ChartPackage,
    /// The chart's signature did not verify (`spec.verify`).
    Verification,
}

impl BuildReason {
    /// The condition reason.
    pub fn reason(self) -> &'static str {
        match self {
            Self::ChartReference => "InvalidChartReference",
            Self::ChartPull => "ChartPullError",
            Self::MetadataPatch => "MetadataPatchError",
            Self::ValuesFiles => "ValuesFilesError",
            Self::DependencyBuild => "DependencyBuildError",
            Self::ChartPackage => "ChartPackageError",
            Self::Verification => "ChartVerificationError",
        }
    }

    /// The message prefix.
    pub fn summary(self) -> &'static str {
        match self {
            Self::ChartReference => "invalid chart reference",
            Self::ChartPull => "chart pull error",
            Self::MetadataPatch => "chart metadata patch error",
            Self::ValuesFiles => "values files merge error",
            Self::DependencyBuild => "dependency build error",
            Self::ChartPackage => "chart package error",
            Self::Verification => "chart verification error",
        }
    }

    /// Errors only a spec change can fix (Flux's `IsPersistentBuildErrorReason`).
    fn persistent(self) -> bool {
        matches!(
            self,
            Self::ChartReference | Self::MetadataPatch | Self::ValuesFiles
        )
    }

    /// Build failures (as opposed to fetch failures) set `BuildFailed`.
    fn is_build(self) -> bool {
        matches!(
            self,
            Self::MetadataPatch
                | Self::ValuesFiles
                | Self::DependencyBuild
                | Self::ChartPackage
                | Self::Verification
        )
    }
}

/// Why a HelmRepository or HelmChart reconciliation failed.
#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    /// The URL cannot work (`URLInvalid`): stalls.
    #[error("{0}")]
    InvalidUrl(String),
    /// Credentials are missing, malformed or rejected (`AuthenticationFailed`).
    #[error("{0}")]
    Authentication(String),
    /// The index could not be downloaded (`Failed`).
    #[error("{0}")]
    Fetch(String),
    /// The index does not load (`IndexationFailed`).
    #[error("{0}")]
    Indexation(String),
    /// The chart's source is missing or unsupported.
    #[error("{message}")]
    Source {
        /// `SourceUnavailable`, `UnsupportedSourceKind`.
        reason: &'static str,
        /// What is wrong.
        message: String,
        /// Only a spec change helps.
        stalled: bool,
    },
    /// `spec.verify` cannot be set up (`VerificationError`): no keys, an unsupported
    /// provider.
    #[error("{message}")]
    Verification {
        /// What is wrong, with Flux's `failed to verify the signature using provider` prefix.
        message: String,
        /// Only a spec change helps.
        stalled: bool,
    },
    /// The source has no artifact yet (`NoSourceArtifact`): waits without a warning.
    #[error("{0}")]
    NoSourceArtifact(String),
    /// Building the chart failed.
    #[error("{}: {message}", reason.summary())]
    Build {
        /// Flux's build error reason.
        reason: BuildReason,
        /// What failed.
        message: String,
    },
    /// Writing or reading artifact storage failed.
    #[error("{message}")]
    Storage {
        /// Flux's reason (`ArchiveOperationFailed`, ...).
        reason: &'static str,
        /// What failed.
        message: String,
    },
    /// Talking to the Kubernetes API failed.
    #[error("{0}")]
    Kubernetes(#[from] kube::Error),
}

impl HelmError {
    /// A build error.
    pub fn build(reason: BuildReason, message: impl Into<String>) -> Self {
        Self::Build {
            reason,
            message: message.into(),
        }
    }

    /// A storage error.
    pub fn storage(reason: &'static str, message: impl std::fmt::Display) -> Self {
        Self::Storage {
            reason,
            message: message.to_string(),
        }
    }

    /// Whether the error makes `SourceVerified` False.
    pub fn is_verification(&self) -> bool {
        matches!(
            self,
            Self::Verification { .. }
                | Self::Build {
                    reason: BuildReason::Verification,
                    ..
                }
        )
    }

    /// The negative condition the error is reported under, if any.
    pub fn condition(&self) -> Option<&'static str> {
        match self {
            Self::Build { reason, .. } if reason.is_build() => Some("BuildFailed"),
            Self::Storage { .. } => Some("StorageOperationFailed"),
            Self::Verification { .. } | Self::Kubernetes(_) => None,
            _ => Some("FetchFailed"),
        }
    }
}

impl ReconcileError for HelmError {
    fn reason(&self) -> &str {
        match self {
            Self::InvalidUrl(_) => "URLInvalid",
            Self::Authentication(_) => "AuthenticationFailed",
            Self::Fetch(_) => "Failed",
            Self::Indexation(_) => "IndexationFailed",
            Self::Source { reason, .. } | Self::Storage { reason, .. } => reason,
            Self::NoSourceArtifact(_) => "NoSourceArtifact",
            Self::Verification { .. } => "VerificationError",
            Self::Build { reason, .. } => reason.reason(),
            Self::Kubernetes(_) => "ReconciliationFailed",
        }
    }

    fn disposition(&self) -> Disposition {
        match self {
            Self::InvalidUrl(_)
            | Self::Source { stalled: true, .. }
            | Self::Verification { stalled: true, .. } => Disposition::Stalled,
            Self::Build { reason, .. } if reason.persistent() => Disposition::Stalled,
            Self::NoSourceArtifact(_) => Disposition::Wait(Duration::from_secs(5)),
            _ => Disposition::Retry,
        }
    }
}
