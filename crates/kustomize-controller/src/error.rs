//! The kustomize-controller's errors, each with Flux's reason and a disposition.

use std::time::Duration;

use ferroflux_runtime::{Disposition, ReconcileError};

/// Why a Kustomization reconciliation failed.
#[derive(Debug, thiserror::Error)]
pub enum KustomizeError {
    /// The source or its artifact is missing or could not be fetched.
    #[error("{message}")]
    Artifact {
        /// What is wrong.
        message: String,
        /// When to look again (the dependency requeue for "not ready yet").
        retry_after: Option<Duration>,
    },
    /// A dependency is not ready yet.
    #[error("{0}")]
    DependencyNotReady(String, Duration),
    /// The manifests could not be built (kustomize, substitution, decryption).
    #[error("{0}")]
    Build(String),
    /// Applying to the cluster failed.
    #[error("{0}")]
    Apply(String),
    /// Deleting stale objects failed.
    #[error("{0}")]
    Prune(String),
    /// Health checks failed or timed out.
    #[error("{0}")]
    Health(String),
    /// A reference is not allowed (cross-namespace refs disabled, feature gate off).
    #[error("{0}")]
    AccessDenied(String),
    /// The spec cannot work as written.
    #[error("Reconciliation failed terminally due to configuration error: {0}")]
    InvalidSpec(String),
    /// `spec.healthCheckExprs` does not compile.
    #[error("{0}")]
    InvalidCel(String),
    /// Talking to the Kubernetes API failed.
    #[error("{0}")]
    Kubernetes(#[from] kube::Error),
}

impl ReconcileError for KustomizeError {
    fn reason(&self) -> &str {
        match self {
            Self::Artifact { .. } => "ArtifactFailed",
            Self::DependencyNotReady(..) => "DependencyNotReady",
            Self::Build(_) => "BuildFailed",
            Self::Apply(_) | Self::Kubernetes(_) | Self::InvalidSpec(_) => "ReconciliationFailed",
            Self::Prune(_) => "PruneFailed",
            Self::Health(_) => "HealthCheckFailed",
            Self::AccessDenied(_) => "AccessDenied",
            Self::InvalidCel(_) => "InvalidCELExpression",
        }
    }

    fn disposition(&self) -> Disposition {
        match self {
            Self::InvalidSpec(_) | Self::AccessDenied(_) | Self::InvalidCel(_) => {
                Disposition::Stalled
            }
            Self::DependencyNotReady(_, after)
            | Self::Artifact {
                retry_after: Some(after),
                ..
            } => Disposition::Wait(*after),
            _ => Disposition::Retry,
        }
    }

    fn emits_event(&self) -> bool {
        // Flux logs a missing or not-ready source and lets its watch bring the object back.
        !matches!(
            self,
            Self::Artifact {
                retry_after: Some(_),
                ..
            }
        )
    }
}
