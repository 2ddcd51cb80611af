//! `status.history`: snapshots of the releases the HelmRelease made (flux-api.md §5.8).

use std::collections::BTreeMap;

use ferroflux_api::helm::v2::{Snapshot, TestHookStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use sha2::{Digest, Sha256};

use crate::storage::release::{self, Release};

/// The digest of a stored release (what a snapshot is matched against).
pub fn release_digest(release: &Release) -> String {
    let json = serde_json::to_value(release).unwrap_or_default();
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(
            crate::values::canonical_json(&json).as_bytes()
        ))
    )
}

fn time(text: &str) -> Option<Time> {
    release::parse_time(text).map(Time)
}

/// The snapshot of `release`, made by `action`.
pub fn snapshot(release: &Release, action: &str, oci_digest: Option<&str>) -> Snapshot {
    let info = release.info.clone().unwrap_or_default();
    let epoch = Time(jiff::Timestamp::UNIX_EPOCH);
    let tests: BTreeMap<String, TestHookStatus> = release
        .hooks
        .iter()
        .filter(|h| h.events.iter().any(|e| e == "test") && !h.last_run.phase.is_empty())
        .map(|h| {
            (
                h.name.clone(),
                TestHookStatus {
                    last_started: time(&h.last_run.started_at),
                    last_completed: time(&h.last_run.completed_at),
                    phase: Some(h.last_run.phase.clone()),
                },
            )
        })
        .collect();
    Snapshot {
        api_version: Some("v2".to_owned()),
        digest: release_digest(release),
        name: release.name.clone(),
        namespace: release.namespace.clone(),
        version: release.version,
        status: release.status().to_owned(),
        action: Some(action.to_owned()),
        chart_name: release.chart_name().to_owned(),
        chart_version: release.chart_version().to_owned(),
        app_version: Some(release.app_version().to_owned()).filter(|a| !a.is_empty()),
        config_digest: crate::values::digest(&release.config),
        first_deployed: time(&info.first_deployed).unwrap_or_else(|| epoch.clone()),
        last_deployed: time(&info.last_deployed).unwrap_or(epoch),
        deleted: time(&info.deleted),
        test_hooks: (!tests.is_empty()).then_some(tests),
        oci_digest: oci_digest.map(str::to_owned),
    }
}

/// Puts `snapshot` at the front (replacing the same version), then keeps the latest and
/// the previous successful release, at most 5.
pub fn record(history: &mut Vec<Snapshot>, snapshot: Snapshot) {
    history.retain(|s| !(s.version == snapshot.version && s.name == snapshot.name));
    history.insert(0, snapshot);
    let previous_good = history
        .iter()
        .skip(1)
        .position(|s| s.status == "deployed" || s.status == "superseded")
        .map(|p| p + 1);
    match previous_good {
        Some(index) => history.truncate((index + 1).min(5)),
        None => history.truncate(5),
    }
}

/// Whether the snapshot's tests ran, and whether one failed.
pub fn tests_of(snapshot: &Snapshot) -> (bool, bool) {
    match &snapshot.test_hooks {
        None => (false, false),
        Some(hooks) => (
            true,
            hooks.values().any(|h| h.phase.as_deref() == Some("Failed")),
        ),
    }
}
