//! Leader election with a `coordination.k8s.io/v1` Lease, compatible with client-go's
//! Lease lock (the one controller-runtime uses), so ferroflux and Flux replicas respect
//! each other's leadership during a migration.
//!
//! The Lease is named `<controller>-leader-election` and lives in the runtime namespace.
//! A candidate takes the Lease when it is free or its holder has not renewed it for
//! `lease_duration`; the leader renews every `retry_period` and gives up leadership when
//! it cannot renew within `renew_deadline`. Updates carry the resourceVersion, so two
//! candidates can never both win.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use kube::{Client, ResourceExt};
use tokio::sync::watch;
use tracing::{error, info};

/// Leader election settings (Flux's `--leader-election-*` flags).
#[derive(Debug, Clone)]
pub struct LeaderElectionConfig {
    /// The Lease's name, `<controller>-leader-election`.
    pub lease_name: String,
    /// The Lease's namespace.
    pub namespace: String,
    /// This candidate's identity (`<hostname>_<random>` like client-go).
    pub identity: String,
    /// How long a lease is valid without renewal.
    pub lease_duration: Duration,
    /// How long the leader tries to renew before giving up.
    pub renew_deadline: Duration,
    /// The pause between attempts.
    pub retry_period: Duration,
    /// Whether to free the Lease when stopping.
    pub release_on_cancel: bool,
}

impl LeaderElectionConfig {
    /// Settings for `controller` with a fresh identity.
    pub fn new(controller: &str, namespace: &str, args: &crate::flags::RuntimeArgs) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".to_owned());
        Self {
            lease_name: format!("{controller}-leader-election"),
            namespace: namespace.to_owned(),
            identity: format!("{host}_{:016x}", rand::random::<u64>()),
            lease_duration: args.leader_election_lease_duration,
            renew_deadline: args.leader_election_renew_deadline,
            retry_period: args.leader_election_retry_period,
            release_on_cancel: args.leader_election_release_on_cancel,
        }
    }
}

/// A candidate for leadership.
pub struct LeaderElector {
    api: Api<Lease>,
    config: LeaderElectionConfig,
}

/// What one attempt to take or keep the Lease found.
#[derive(Debug, PartialEq, Eq)]
enum Attempt {
    /// We hold the Lease.
    Leading,
    /// Another candidate holds a valid Lease.
    HeldBy(String),
}

impl LeaderElector {
    /// A candidate using `client`.
    pub fn new(client: Client, config: LeaderElectionConfig) -> Self {
        Self {
            api: Api::namespaced(client, &config.namespace),
            config,
        }
    }

    /// Waits until this candidate leads, then keeps renewing in the background. The
    /// returned receiver turns `false` when leadership is lost: the caller must stop.
    pub async fn run(self) -> watch::Receiver<bool> {
        let mut logged_holder = String::new();
        loop {
            match self.try_acquire_or_renew().await {
                Ok(Attempt::Leading) => break,
                Ok(Attempt::HeldBy(holder)) => {
                    if holder != logged_holder {
                        info!(lease = %self.config.lease_name, %holder, "waiting for leadership");
                        logged_holder = holder;
                    }
                }
                Err(e) => error!(error = %e, "leader election attempt failed"),
            }
            tokio::time::sleep(self.config.retry_period).await;
        }
        info!(lease = %self.config.lease_name, identity = %self.config.identity, "successfully acquired lease");
        let (sender, receiver) = watch::channel(true);
        tokio::spawn(async move { self.keep_renewing(sender).await });
        receiver
    }

    async fn keep_renewing(self, leading: watch::Sender<bool>) {
        let mut last_renewal = tokio::time::Instant::now();
        loop {
            tokio::select! {
                () = tokio::time::sleep(self.config.retry_period) => {}
                () = leading.closed() => {
                    if self.config.release_on_cancel {
                        self.release().await;
                    }
                    return;
                }
            }
            match self.try_acquire_or_renew().await {
                Ok(Attempt::Leading) => last_renewal = tokio::time::Instant::now(),
                Ok(Attempt::HeldBy(holder)) => {
                    error!(%holder, "lease taken over by another candidate; leadership lost");
                    let _ = leading.send(false);
                    return;
                }
                Err(e) => {
                    error!(error = %e, "failed to renew lease");
                    if last_renewal.elapsed() > self.config.renew_deadline {
                        error!("leader election lost: renew deadline exceeded");
                        let _ = leading.send(false);
                        return;
                    }
                }
            }
        }
    }

    async fn try_acquire_or_renew(&self) -> Result<Attempt, kube::Error> {
        let now = MicroTime(Timestamp::now());
        let duration_seconds =
            i32::try_from(self.config.lease_duration.as_secs()).unwrap_or(i32::MAX);
        let Some(mut lease) = self.api.get_opt(&self.config.lease_name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.lease_name.clone()),
                    namespace: Some(self.config.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.config.identity.clone()),
                    lease_duration_seconds: Some(duration_seconds),
                    acquire_time: Some(now.clone()),
                    renew_time: Some(now),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(Attempt::Leading),
                Err(kube::Error::Api(status)) if status.code == 409 => {
                    Ok(Attempt::HeldBy(String::new()))
                }
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let ours = holder == self.config.identity;
        if !ours && !holder.is_empty() && !expired(spec, Timestamp::now()) {
            return Ok(Attempt::HeldBy(holder));
        }
        if !ours {
            spec.acquire_time = Some(now.clone());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            spec.holder_identity = Some(self.config.identity.clone());
        }
        spec.renew_time = Some(now);
        spec.lease_duration_seconds = Some(duration_seconds);
        match self
            .api
            .replace(&lease.name_any(), &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(Attempt::Leading),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Attempt::HeldBy(holder)),
            Err(e) => Err(e),
        }
    }

    /// Frees the Lease so that another candidate can take over at once.
    async fn release(&self) {
        let Ok(Some(mut lease)) = self.api.get_opt(&self.config.lease_name).await else {
            return;
        };
        let Some(spec) = lease.spec.as_mut() else {
            return;
        };
        if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        if let Err(e) = self
            .api
            .replace(&lease.name_any(), &PostParams::default(), &lease)
            .await
        {
            error!(error = %e, "failed to release lease");
        } else {
            info!(lease = %self.config.lease_name, "released lease");
        }
    }
}

/// Whether the holder failed to renew within its lease duration.
fn expired(spec: &LeaseSpec, now: Timestamp) -> bool {
    let Some(renewed) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else {
        return true;
    };
    let duration = i64::from(spec.lease_duration_seconds.unwrap_or(0));
    renewed.0.as_second() + duration < now.as_second()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(renewed: i64, duration: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some("other".into()),
            renew_time: Some(MicroTime(Timestamp::from_second(renewed).unwrap())),
            lease_duration_seconds: Some(duration),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn expiry_follows_renew_time_plus_duration() {
        let now = Timestamp::from_second(1_000).unwrap();
        assert!(!expired(&spec(990, 35), now));
        assert!(expired(&spec(900, 35), now));
        assert!(
            expired(&LeaseSpec::default(), now),
            "a lease never renewed is free"
        );
    }
}
