//! Waiting for objects to become `Current`, with kstatus health.

use std::time::Duration;

use futures::{StreamExt, stream};
use kube::api::GetParams;
use tokio::time::{Instant, sleep};

use super::error::{Error, WaitError};
use super::inventory::{InventoryEntry, ObjectId};
use super::{ResourceManager, entry_gvk, to_json};
use crate::health::{self, CustomHealth, HealthResult, Status};

/// How [`ResourceManager::wait_for`] polls.
#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// The longest time between two polls of the whole set. The first polls come sooner
    /// (from [`FIRST_POLL`], doubling), so that objects that become ready within a second,
    /// as most do, are seen at once rather than a whole interval later.
    pub interval: Duration,
    /// How long to wait before giving up.
    pub timeout: Duration,
    /// Stop as soon as one object is `Failed` (Flux's default).
    pub fail_fast: bool,
}

/// The delay before the second poll; later delays double up to [`WaitOptions::interval`].
pub const FIRST_POLL: Duration = Duration::from_millis(250);

impl Default for WaitOptions {
    /// Flux's defaults: poll every 5s for at most 60s, failing fast.
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(60),
            fail_fast: true,
        }
    }
}

impl ResourceManager {
    /// Polls `entries` until all are `Current`. Fails early when an object is `Failed` (with
    /// `fail_fast`, or when every other object is `Current`), and after the timeout with the
    /// objects that are not `Current`.
    pub async fn wait_for(
        &self,
        entries: &[InventoryEntry],
        options: &WaitOptions,
    ) -> Result<(), WaitError> {
        self.wait_for_with(entries, options, None).await
    }

    /// [`wait_for`](Self::wait_for) with a custom health rule consulted first (Flux's
    /// `healthCheckExprs`).
    pub async fn wait_for_with(
        &self,
        entries: &[InventoryEntry],
        options: &WaitOptions,
        custom: Option<CustomHealth<'_>>,
    ) -> Result<(), WaitError> {
        let deadline = Instant::now() + options.timeout;
        let mut delay = FIRST_POLL.min(options.interval);
        // Objects seen `Current` are not polled again: a waited-for set mostly holds objects
        // that are ready at once (Services, ConfigMaps, RBAC) beside the few that take time.
        let mut remaining: Vec<InventoryEntry> = entries.to_vec();
        loop {
            // Owned entries and a plain filter afterwards keep this future `Send` for any
            // caller (borrowing closures here trip the compiler's higher-ranked checks).
            let checked: Vec<(InventoryEntry, HealthResult)> =
                stream::iter(remaining.iter().cloned())
                    .map(|entry| async move {
                        let health = self.health(&entry, custom).await;
                        (entry, health)
                    })
                    .buffered(self.concurrency)
                    .collect()
                    .await;
            let (entries_left, pending): (Vec<InventoryEntry>, Vec<(ObjectId, HealthResult)>) =
                checked
                    .into_iter()
                    .filter(|(_, health)| health.status != Status::Current)
                    .map(|(entry, health)| (entry.clone(), (entry.id, health)))
                    .unzip();
            remaining = entries_left;
            if pending.is_empty() {
                return Ok(());
            }
            let failed: Vec<(ObjectId, HealthResult)> = pending
                .iter()
                .filter(|(_, health)| health.status == Status::Failed)
                .cloned()
                .collect();
            if !failed.is_empty() && (options.fail_fast || failed.len() == pending.len()) {
                return Err(WaitError {
                    timed_out: false,
                    objects: failed,
                });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(WaitError {
                    timed_out: true,
                    objects: pending,
                });
            }
            sleep(delay.min(deadline - now)).await;
            delay = (delay * 2).min(options.interval);
        }
    }

    /// The health of one live object: `NotFound` when absent, `Unknown` when unreadable.
    pub async fn health(
        &self,
        entry: &InventoryEntry,
        custom: Option<CustomHealth<'_>>,
    ) -> HealthResult {
        let id = &entry.id;
        let api = match self
            .api_for(&entry_gvk(entry), &id.namespace, &id.subject())
            .await
        {
            Ok((api, _)) => api,
            Err(Error::UnknownKind { message, .. }) if message.starts_with("no matches") => {
                return HealthResult::new(Status::NotFound, message);
            }
            Err(error) => return HealthResult::new(Status::Unknown, error.to_string()),
        };
        // Polls read the API server's watch cache (`resourceVersion=0`) rather than etcd:
        // a poll that sees a change a few milliseconds late costs nothing, while a quorum
        // read per object per poll is much of what a busy control plane spends on waits.
        match api.get_with(&id.name, &GetParams::any()).await {
            Ok(live) => health::compute_with(&to_json(&live), custom),
            Err(kube::Error::Api(status)) if status.is_not_found() => {
                HealthResult::new(Status::NotFound, "Resource not found")
            }
            Err(error) => HealthResult::new(Status::Unknown, Error::server_message(&error)),
        }
    }
}
