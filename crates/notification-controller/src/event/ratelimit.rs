//! Duplicate suppression: an event identical to one accepted within the last
//! `--rate-limit-interval` is answered with 429 and not forwarded.
//!
//! Like Flux (go-limiter's memory store with one token per interval), each key owns a
//! bucket whose single token is refilled at every whole interval after the bucket was
//! created.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ferroflux_runtime::events::FluxEvent;
use sha2::{Digest as _, Sha256};

use super::metadata::controller_value;

/// The duplicate-detection key of an event: the hex sha256 of its object, message, and
/// the `originRevision`, `revision` and `token` controller metadata when present.
pub fn dedup_key(event: &FluxEvent) -> String {
    let object = &event.involved_object;
    let mut parts = vec![
        "event".to_owned(),
        format!("name={}", object.name.as_deref().unwrap_or_default()),
        format!(
            "namespace={}",
            object.namespace.as_deref().unwrap_or_default()
        ),
        format!("kind={}", object.kind.as_deref().unwrap_or_default()),
        format!("message={}", event.message),
    ];
    for name in ["originRevision", "revision", "token"] {
        if let Some(value) = controller_value(event, name) {
            parts.push(format!("{name}={value}"));
        }
    }
    hex::encode(Sha256::digest(parts.join("/").as_bytes()))
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    created: Instant,
    last_tick: u128,
    tokens: u8,
    last_used: Instant,
}

/// One token per key per interval.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    buckets: HashMap<String, Bucket>,
    last_sweep: Option<Instant>,
}

impl RateLimiter {
    /// A limiter with one token per key per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval: interval.max(Duration::from_millis(1)),
            state: Mutex::new(State {
                buckets: HashMap::new(),
                last_sweep: None,
            }),
        }
    }

    /// Takes the key's token at `now`: true when the event may pass.
    pub fn allow(&self, key: &str, now: Instant) -> bool {
        let mut state = self
            .state
            .lock()
            .expect("rate limiter lock is never poisoned");
        self.sweep(&mut state, now);
        let bucket = state.buckets.entry(key.to_owned()).or_insert(Bucket {
            created: now,
            last_tick: 0,
            tokens: 1,
            last_used: now,
        });
        let tick =
            now.saturating_duration_since(bucket.created).as_nanos() / self.interval.as_nanos();
        if tick > bucket.last_tick {
            bucket.tokens = 1;
            bucket.last_tick = tick;
        }
        bucket.last_used = now;
        if bucket.tokens > 0 {
            bucket.tokens -= 1;
            true
        } else {
            false
        }
    }

    /// Forgets buckets unused for two intervals, once per interval, to bound memory.
    fn sweep(&self, state: &mut State, now: Instant) {
        if state
            .last_sweep
            .is_some_and(|last| now.saturating_duration_since(last) < self.interval)
        {
            return;
        }
        state.last_sweep = Some(now);
        let ttl = self.interval * 2;
        state
            .buckets
            .retain(|_, bucket| now.saturating_duration_since(bucket.last_used) < ttl);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_event;

    #[test]
    fn key_is_flux_s_digest() {
        let event = test_event(
            "info",
            &[
                ("kustomize.toolkit.fluxcd.io/revision", "main@sha1:abc"),
                ("kustomize.toolkit.fluxcd.io/token", "t1"),
                ("event.toolkit.fluxcd.io/revision", "ignored"),
            ],
        );
        let expected = hex::encode(Sha256::digest(
            "event/name=webapp/namespace=apps/kind=Kustomization/message=Deployment/apps/webapp configured/revision=main@sha1:abc/token=t1",
        ));
        assert_eq!(dedup_key(&event), expected);
        let mut other = event.clone();
        other.metadata.insert(
            "kustomize.toolkit.fluxcd.io/revision".to_owned(),
            "main@sha1:def".to_owned(),
        );
        assert_ne!(dedup_key(&other), expected);
        let mut severity = event.clone();
        severity.severity = "error".to_owned();
        assert_eq!(
            dedup_key(&severity),
            expected,
            "severity is not part of the key"
        );
    }

    #[test]
    fn one_token_per_interval() {
        let limiter = RateLimiter::new(Duration::from_secs(60));
        let start = Instant::now();
        assert!(limiter.allow("a", start));
        assert!(!limiter.allow("a", start + Duration::from_secs(1)));
        assert!(limiter.allow("b", start + Duration::from_secs(1)));
        assert!(!limiter.allow("a", start + Duration::from_secs(59)));
        assert!(limiter.allow("a", start + Duration::from_secs(60)));
        assert!(!limiter.allow("a", start + Duration::from_secs(61)));
        assert!(limiter.allow("a", start + Duration::from_secs(185)));
    }

    #[test]
    fn idle_buckets_are_swept() {
        let limiter = RateLimiter::new(Duration::from_secs(10));
        let start = Instant::now();
        assert!(limiter.allow("a", start));
        assert!(limiter.allow("b", start + Duration::from_secs(25)));
        let state = limiter.state.lock().unwrap();
        assert_eq!(state.buckets.len(), 1);
    }
}
