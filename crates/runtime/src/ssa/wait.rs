//! Waiting for objects to become `Current`, with kstatus health.

use std::time::Duration;

use futures::StreamExt;
use futures::stream::{self, BoxStream};
use kube::api::{Api, DynamicObject, GetParams, WatchEvent, WatchParams};
use tokio::time::{Instant, sleep};

use super::changeset::{Applied, ChangeSetEntry};
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

/// At most this many objects are followed through watches; larger sets are polled.
const MAX_WATCHED: usize = 32;

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
    /// Reads `entries` until all are `Current`: once each, then through a watch of each
    /// object still pending (polling when there are many or a watch fails). Fails early when
    /// an object is `Failed` (with `fail_fast`, or when every other object is `Current`), and
    /// after the timeout with the objects that are not `Current`.
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
        let entries = entries.iter().map(|entry| (entry.clone(), None)).collect();
        self.wait_known(entries, options, custom).await
    }

    /// Waits for objects just applied: the health their apply answered with stands for
    /// the first read (no GET for the objects that are `Current` already, a watch at once
    /// for the others), unless a custom rule needs the objects themselves.
    pub async fn wait_for_applied(
        &self,
        applied: &[ChangeSetEntry],
        options: &WaitOptions,
        custom: Option<CustomHealth<'_>>,
    ) -> Result<(), WaitError> {
        let entries = applied
            .iter()
            .map(|entry| {
                let known = entry.applied.clone().filter(|_| custom.is_none());
                (entry.inventory_entry(), known)
            })
            .collect();
        self.wait_known(entries, options, custom).await
    }

    /// The wait, each object with its applied state when known: that stands for the first
    /// read, and its watch starts at the applied resourceVersion, so no older state is read
    /// back.
    async fn wait_known(
        &self,
        entries: Vec<(InventoryEntry, Option<Applied>)>,
        options: &WaitOptions,
        custom: Option<CustomHealth<'_>>,
    ) -> Result<(), WaitError> {
        let deadline = Instant::now() + options.timeout;
        let mut delay = FIRST_POLL.min(options.interval);
        // Objects seen `Current` are not polled again: a waited-for set mostly holds objects
        // that are ready at once (Services, ConfigMaps, RBAC) beside the few that take time.
        let mut remaining = entries;
        let mut read_before = false;
        let mut first = true;
        loop {
            // Owned entries and a plain filter afterwards keep this future `Send` for any
            // caller (borrowing closures here trip the compiler's higher-ranked checks).
            let checked: Vec<((InventoryEntry, Option<Applied>), HealthResult)> =
                stream::iter(remaining.iter().cloned())
                    .map(|(entry, applied)| async move {
                        let health = match applied.as_ref().filter(|_| !read_before) {
                            Some(applied) => applied.health.clone(),
                            None => self.health(&entry, custom).await,
                        };
                        ((entry, applied), health)
                    })
                    .buffered(self.concurrency)
                    .collect()
                    .await;
            read_before = true;
            let (entries_left, pending): (Vec<_>, Vec<(ObjectId, HealthResult)>) = checked
                .into_iter()
                .filter(|(_, health)| health.status != Status::Current)
                .map(|(entry, health)| {
                    let id = entry.0.id.clone();
                    (entry, (id, health))
                })
                .unzip();
            remaining = entries_left;
            if let Some(result) = settled(&pending, options) {
                return result;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(WaitError {
                    timed_out: true,
                    objects: pending,
                });
            }
            // The objects still on their way (a few Deployments, typically) are followed
            // through watches rather than polled: one request each instead of one per poll.
            // A watch that cannot be opened falls back to polling.
            if first && remaining.len() <= MAX_WATCHED {
                first = false;
                if let Some(result) = self
                    .follow(&remaining, pending, options, deadline, custom)
                    .await
                {
                    return result;
                }
                continue;
            }
            sleep(delay.min(deadline - now)).await;
            delay = (delay * 2).min(options.interval);
        }
    }

    /// Follows `entries` (whose last-read health is `state`) through one watch each until
    /// they settle or the deadline passes; `None` when a watch failed (the caller polls
    /// instead).
    async fn follow(
        &self,
        entries: &[(InventoryEntry, Option<Applied>)],
        mut state: Vec<(ObjectId, HealthResult)>,
        options: &WaitOptions,
        deadline: Instant,
        custom: Option<CustomHealth<'_>>,
    ) -> Option<Result<(), WaitError>> {
        let mut streams = Vec::new();
        for (entry, applied) in entries {
            let id = &entry.id;
            let Ok((api, _)) = self
                .api_for(&entry_gvk(entry), &id.namespace, &id.subject())
                .await
            else {
                return None;
            };
            // From the applied version when known; else from the watch cache's state.
            let from = applied
                .as_ref()
                .map(|a| a.resource_version.clone())
                .filter(|version| !version.is_empty())
                .unwrap_or_else(|| "0".to_owned());
            streams.push(changes(api, entry.id.clone(), from, deadline));
        }
        let mut changes = stream::select_all(streams);
        loop {
            let next = tokio::select! {
                next = changes.next() => next,
                () = tokio::time::sleep_until(deadline) => {
                    return Some(Err(WaitError { timed_out: true, objects: state }));
                }
            };
            let Some(Ok((id, live))) = next else {
                return None;
            };
            let health = match live {
                Some(object) => health::compute_with(&to_json(&object), custom),
                None => HealthResult::new(Status::NotFound, "Resource not found"),
            };
            if health.status == Status::Current {
                state.retain(|(other, _)| *other != id);
            } else if let Some(slot) = state.iter_mut().find(|(other, _)| *other == id) {
                slot.1 = health;
            } else {
                state.push((id, health));
            }
            if let Some(result) = settled(&state, options) {
                return Some(result);
            }
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

/// The end of a wait given the objects not yet `Current`: `Ok` when there are none, the
/// failed objects when one failed (with `fail_fast`, or when all that remain failed).
fn settled(
    pending: &[(ObjectId, HealthResult)],
    options: &WaitOptions,
) -> Option<Result<(), WaitError>> {
    if pending.is_empty() {
        return Some(Ok(()));
    }
    let failed: Vec<(ObjectId, HealthResult)> = pending
        .iter()
        .filter(|(_, health)| health.status == Status::Failed)
        .cloned()
        .collect();
    if !failed.is_empty() && (options.fail_fast || failed.len() == pending.len()) {
        return Some(Err(WaitError {
            timed_out: false,
            objects: failed,
        }));
    }
    None
}

/// The states of object `id` from a watch of it alone, from resourceVersion `from` (`0`:
/// starting with its current state in the API server's watch cache; a known version: only
/// the changes after it); `None` once it is deleted or absent. The watch is reopened from
/// the last version seen when the server ends it; an error ends the stream with `Err`.
fn changes(
    api: Api<DynamicObject>,
    id: ObjectId,
    from: String,
    deadline: Instant,
) -> BoxStream<'static, Result<(ObjectId, Option<DynamicObject>), ()>> {
    stream::unfold(
        (
            api,
            id,
            from,
            None::<BoxStream<'static, kube::Result<WatchEvent<DynamicObject>>>>,
        ),
        move |(api, id, mut version, mut open)| async move {
            loop {
                if open.is_none() {
                    let left = deadline.saturating_duration_since(Instant::now());
                    // The server's watch timeout is at most ~5 minutes; reopened after.
                    let seconds = u32::try_from(left.as_secs().clamp(1, 290)).unwrap_or(290);
                    let params = WatchParams::default()
                        .fields(&format!("metadata.name={}", id.name))
                        .timeout(seconds);
                    match api.watch(&params, &version).await {
                        Ok(events) => open = Some(events.boxed()),
                        Err(_) => return Some((Err(()), (api, id, version, None))),
                    }
                }
                let events = open.as_mut()?;
                match events.next().await {
                    Some(Ok(WatchEvent::Added(object) | WatchEvent::Modified(object))) => {
                        if let Some(seen) = &object.metadata.resource_version {
                            version.clone_from(seen);
                        }
                        return Some((Ok((id.clone(), Some(object))), (api, id, version, open)));
                    }
                    Some(Ok(WatchEvent::Deleted(object))) => {
                        if let Some(seen) = &object.metadata.resource_version {
                            version.clone_from(seen);
                        }
                        return Some((Ok((id.clone(), None)), (api, id, version, open)));
                    }
                    Some(Ok(WatchEvent::Bookmark(bookmark))) => {
                        version.clone_from(&bookmark.metadata.resource_version);
                    }
                    Some(Ok(WatchEvent::Error(_)) | Err(_)) => {
                        return Some((Err(()), (api, id, version, None)));
                    }
                    None => open = None,
                }
            }
        },
    )
    .boxed()
}
