//! What the reconcile driver needs to know about a Flux kind and its status.

use std::fmt::Debug;
use std::time::Duration;

use ferroflux_api::meta::Condition;
use kube::Resource;
use kube::core::NamespaceResourceScope;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A namespaced Flux kind with a status the driver maintains.
pub trait FluxObject:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The kind's status type.
    type Status: FluxStatus;

    /// Whether its reconciler reads back the status this process last wrote
    /// ([`crate::driver::StatusVersions::last_written`]): only then is a copy kept after
    /// each status write.
    const KEEPS_WRITTEN_STATUS: bool = false;

    /// The current status, if any.
    fn status(&self) -> Option<&Self::Status>;
    /// Whether `spec.suspend` is set.
    fn suspended(&self) -> bool;
    /// `spec.interval`: when to reconcile again after success.
    fn interval(&self) -> Duration;
    /// When to reconcile again after a failure (`spec.retryInterval` where the kind has
    /// one, the interval otherwise).
    fn retry_interval(&self) -> Duration {
        self.interval()
    }
}

/// The status fields every reconciled Flux kind shares.
pub trait FluxStatus:
    Default + Clone + Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync
{
    /// The conditions, empty when absent.
    fn conditions(&self) -> &[Condition];
    /// The conditions, created empty when absent.
    fn conditions_mut(&mut self) -> &mut Vec<Condition>;
    /// `status.observedGeneration`.
    fn observed_generation(&self) -> Option<i64>;
    /// Sets `status.observedGeneration`.
    fn set_observed_generation(&mut self, generation: i64);
    /// `status.lastHandledReconcileAt`.
    fn last_handled_reconcile_at(&self) -> Option<&str>;
    /// Sets `status.lastHandledReconcileAt`.
    fn set_last_handled_reconcile_at(&mut self, value: String);
}

/// Implements [`FluxStatus`] for a status struct with Flux's usual field names
/// (`conditions`, `observed_generation`, `last_handled_reconcile_at`, all `Option`s).
#[macro_export]
macro_rules! impl_flux_status {
    ($($status:ty),+ $(,)?) => {$(
        impl $crate::object::FluxStatus for $status {
            fn conditions(&self) -> &[::ferroflux_api::meta::Condition] {
                self.conditions.as_deref().unwrap_or_default()
            }
            fn conditions_mut(&mut self) -> &mut Vec<::ferroflux_api::meta::Condition> {
                self.conditions.get_or_insert_with(Vec::new)
            }
            fn observed_generation(&self) -> Option<i64> {
                self.observed_generation
            }
            fn set_observed_generation(&mut self, generation: i64) {
                self.observed_generation = Some(generation);
            }
            fn last_handled_reconcile_at(&self) -> Option<&str> {
                self.last_handled_reconcile_at.as_deref()
            }
            fn set_last_handled_reconcile_at(&mut self, value: String) {
                self.last_handled_reconcile_at = Some(value);
            }
        }
    )+};
}

impl_flux_status!(ferroflux_api::source::v1::GitRepositoryStatus);

impl FluxObject for ferroflux_api::source::v1::GitRepository {
    type Status = ferroflux_api::source::v1::GitRepositoryStatus;
    fn status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }
    fn suspended(&self) -> bool {
        self.spec.suspend.unwrap_or(false)
    }
    fn interval(&self) -> Duration {
        crate::duration::parse(&self.spec.interval).unwrap_or(Duration::from_secs(60))
    }
}

/// Implements [`FluxObject`] for a kind whose `spec.interval` is a required duration string.
macro_rules! impl_flux_object {
    ($($kind:ty => $status:ty, default $default_secs:expr, keeps $keeps:expr);+ $(;)?) => {$(
        impl FluxObject for $kind {
            type Status = $status;
            const KEEPS_WRITTEN_STATUS: bool = $keeps;
            fn status(&self) -> Option<&Self::Status> {
                self.status.as_ref()
            }
            fn suspended(&self) -> bool {
                self.spec.suspend.unwrap_or(false)
            }
            fn interval(&self) -> Duration {
                crate::duration::parse(&self.spec.interval)
                    .unwrap_or(Duration::from_secs($default_secs))
            }
        }
    )+};
}

impl_flux_status!(
    ferroflux_api::source::v1::HelmRepositoryStatus,
    ferroflux_api::source::v1::HelmChartStatus,
    ferroflux_api::source::v1::OCIRepositoryStatus,
    ferroflux_api::source::v1::BucketStatus,
    ferroflux_api::helm::v2::HelmReleaseStatus,
);

impl_flux_object!(
    ferroflux_api::source::v1::HelmChart => ferroflux_api::source::v1::HelmChartStatus, default 600, keeps false;
    ferroflux_api::source::v1::OCIRepository => ferroflux_api::source::v1::OCIRepositoryStatus, default 600, keeps false;
    ferroflux_api::source::v1::Bucket => ferroflux_api::source::v1::BucketStatus, default 600, keeps false;
    ferroflux_api::helm::v2::HelmRelease => ferroflux_api::helm::v2::HelmReleaseStatus, default 600, keeps true;
);

impl FluxObject for ferroflux_api::source::v1::HelmRepository {
    type Status = ferroflux_api::source::v1::HelmRepositoryStatus;
    fn status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }
    fn suspended(&self) -> bool {
        self.spec.suspend.unwrap_or(false)
    }
    /// `spec.interval` is optional here (OCI repositories have none); Flux falls back to a minute.
    fn interval(&self) -> Duration {
        self.spec
            .interval
            .as_deref()
            .and_then(|interval| crate::duration::parse(interval).ok())
            .unwrap_or(Duration::from_secs(60))
    }
}

impl_flux_status!(ferroflux_api::kustomize::v1::KustomizationStatus);

impl FluxObject for ferroflux_api::kustomize::v1::Kustomization {
    type Status = ferroflux_api::kustomize::v1::KustomizationStatus;
    fn status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }
    fn suspended(&self) -> bool {
        self.spec.suspend.unwrap_or(false)
    }
    fn interval(&self) -> Duration {
        crate::duration::parse(&self.spec.interval).unwrap_or(Duration::from_secs(600))
    }
    fn retry_interval(&self) -> Duration {
        self.spec
            .retry_interval
            .as_deref()
            .and_then(|value| crate::duration::parse(value).ok())
            .unwrap_or_else(|| self.interval())
    }
}

impl_flux_status!(ferroflux_api::notification::v1::ReceiverStatus);

impl FluxObject for ferroflux_api::notification::v1::Receiver {
    type Status = ferroflux_api::notification::v1::ReceiverStatus;
    fn status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }
    fn suspended(&self) -> bool {
        self.spec.suspend.unwrap_or(false)
    }
    fn interval(&self) -> Duration {
        self.spec
            .interval
            .as_deref()
            .and_then(|interval| crate::duration::parse(interval).ok())
            .unwrap_or(Duration::from_secs(600))
    }
    /// A missing token Secret is retried sooner than the 10m interval (Flux backs off
    /// from 750ms), so that creating the Secret takes effect quickly.
    fn retry_interval(&self) -> Duration {
        self.interval().min(Duration::from_secs(30))
    }
}
