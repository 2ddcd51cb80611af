//! The release state machine, as Flux's `DetermineReleaseState` and the `AtomicRelease`
//! action selection (flux-api.md §5.3), as pure functions over what was observed.

/// What the latest stored release looks like.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObservedRelease {
    /// Helm revision.
    pub version: i64,
    /// Helm status (`deployed`, `failed`, `pending-install`, ...).
    pub status: String,
    /// Chart name.
    pub chart_name: String,
    /// Chart version.
    pub chart_version: String,
    /// Digest of its config (user values).
    pub config_digest: String,
    /// Whether it is the release the HelmRelease's latest snapshot describes.
    pub matches_snapshot: bool,
    /// Whether its test hooks ran (recorded in the snapshot).
    pub tested: bool,
    /// Whether a test hook failed.
    pub test_failed: bool,
}

/// Everything the decision depends on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    /// The latest release in storage.
    pub latest: Option<ObservedRelease>,
    /// Whether `status.history` is empty.
    pub history_empty: bool,
    /// Desired chart name.
    pub chart_name: String,
    /// Desired chart version.
    pub chart_version: String,
    /// Desired config digest.
    pub config_digest: String,
    /// Post-renderers or common metadata changed with a new generation.
    pub render_config_changed: bool,
    /// `spec.test.enable`.
    pub tests_enabled: bool,
    /// Test failures are ignored for the last action's remediation.
    pub ignore_test_failures: bool,
    /// Drift detection is on and the cluster differs.
    pub drifted: bool,
    /// Drift detection mode is `enabled` (correct) rather than `warn`.
    pub correct_drift: bool,
    /// The last attempted action was an install (else an upgrade).
    pub last_action_install: bool,
    /// Failure count of the last action (installFailures or upgradeFailures).
    pub failures: i64,
    /// Remediation retries of the last action (negative: infinite).
    pub retries: i64,
    /// Remediate the last failure even when retries are exhausted.
    pub remediate_last_failure: bool,
    /// Strategy `RetryOnFailure` rather than `RemediateOnFailure`.
    pub retry_on_failure: bool,
    /// Upgrade remediation strategy is `uninstall` (else `rollback`).
    pub uninstall_remediation: bool,
    /// A `forceAt` request is pending.
    pub force: bool,
    /// The version of the previous successful release to roll back to, when known.
    pub rollback_target: Option<i64>,
}

/// Flux's release states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseState {
    /// No release (or uninstalled).
    Absent,
    /// A pending-* release.
    Locked,
    /// A release the HelmRelease did not make (or a mutated one).
    Unmanaged,
    /// The release (or its tests) failed.
    Failed,
    /// Chart or values changed.
    OutOfSync,
    /// Tests enabled but not run.
    Untested,
    /// The cluster differs from the release manifest.
    Drifted,
    /// Nothing to do.
    InSync,
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NextAction {
    /// Nothing: the release is in sync.
    Done,
    /// Install the chart.
    Install,
    /// Upgrade the release.
    Upgrade,
    /// Run the chart's tests.
    Test,
    /// Roll back to the given version (remediation).
    Rollback(i64),
    /// Uninstall the release (remediation).
    Uninstall,
    /// Mark the pending release failed.
    Unlock,
    /// Correct cluster drift.
    CorrectDrift,
    /// Report drift only.
    WarnDrift,
    /// Give up: retries exhausted for `install`/`upgrade`.
    RetriesExhausted,
    /// Wait and retry an upgrade later (RetryOnFailure).
    RetryLater,
}

/// Flux's `DetermineReleaseState`.
pub fn determine_state(observation: &Observation) -> ReleaseState {
    let Some(latest) = &observation.latest else {
        return ReleaseState::Absent;
    };
    if crate::storage::release::status::is_pending(&latest.status) {
        return ReleaseState::Locked;
    }
    if observation.history_empty {
        return if latest.status == "uninstalled" {
            ReleaseState::Absent
        } else {
            ReleaseState::Unmanaged
        };
    }
    if !latest.matches_snapshot {
        return ReleaseState::Unmanaged;
    }
    match latest.status.as_str() {
        "failed" => return ReleaseState::Failed,
        "uninstalled" => return ReleaseState::Absent,
        "deployed" => {}
        _ => return ReleaseState::Unmanaged,
    }
    if latest.chart_name != observation.chart_name
        || latest.chart_version != observation.chart_version
        || latest.config_digest != observation.config_digest
        || observation.render_config_changed
    {
        return ReleaseState::OutOfSync;
    }
    if observation.tests_enabled && !latest.tested {
        return ReleaseState::Untested;
    }
    if observation.tests_enabled && latest.test_failed && !observation.ignore_test_failures {
        return ReleaseState::Failed;
    }
    if observation.drifted {
        return ReleaseState::Drifted;
    }
    ReleaseState::InSync
}

/// `RetriesExhausted`: retries ≥ 0 and more failures than retries.
pub fn exhausted(observation: &Observation) -> bool {
    observation.retries >= 0 && observation.failures > observation.retries
}

/// The action for `state`.
pub fn next_action(observation: &Observation, state: ReleaseState) -> NextAction {
    match state {
        ReleaseState::InSync => {
            if observation.force {
                NextAction::Upgrade
            } else {
                NextAction::Done
            }
        }
        ReleaseState::Locked => NextAction::Unlock,
        ReleaseState::Absent => {
            if exhausted(observation) && !observation.force {
                NextAction::RetriesExhausted
            } else {
                NextAction::Install
            }
        }
        ReleaseState::Unmanaged => NextAction::Upgrade,
        ReleaseState::OutOfSync => {
            if exhausted(observation) && !observation.force {
                NextAction::RetriesExhausted
            } else {
                NextAction::Upgrade
            }
        }
        ReleaseState::Drifted => {
            if observation.correct_drift {
                NextAction::CorrectDrift
            } else {
                NextAction::WarnDrift
            }
        }
        ReleaseState::Untested => NextAction::Test,
        ReleaseState::Failed => failed_action(observation),
    }
}

fn failed_action(observation: &Observation) -> NextAction {
    if observation.retry_on_failure {
        return NextAction::RetryLater;
    }
    if observation.failures == 0 || observation.force {
        return NextAction::Upgrade;
    }
    if exhausted(observation) && !observation.remediate_last_failure {
        return NextAction::RetriesExhausted;
    }
    if observation.last_action_install || observation.uninstall_remediation {
        return NextAction::Uninstall;
    }
    match observation.rollback_target {
        Some(version) => NextAction::Rollback(version),
        None => NextAction::Upgrade,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn deployed() -> ObservedRelease {
        ObservedRelease {
            version: 1,
            status: "deployed".into(),
            chart_name: "podinfo".into(),
            chart_version: "1.0.0".into(),
            config_digest: "sha256:a".into(),
            matches_snapshot: true,
            tested: false,
            test_failed: false,
        }
    }

    fn observation() -> Observation {
        Observation {
            latest: Some(deployed()),
            chart_name: "podinfo".into(),
            chart_version: "1.0.0".into(),
            config_digest: "sha256:a".into(),
            retries: 0,
            ..Observation::default()
        }
    }

    fn with(f: impl FnOnce(&mut Observation)) -> Observation {
        let mut o = observation();
        f(&mut o);
        o
    }

    #[rstest]
    #[case::absent(with(|o| o.latest = None), ReleaseState::Absent, NextAction::Install)]
    #[case::locked(with(|o| o.latest.as_mut().unwrap().status = "pending-upgrade".into()), ReleaseState::Locked, NextAction::Unlock)]
    #[case::unmanaged_no_history(with(|o| o.history_empty = true), ReleaseState::Unmanaged, NextAction::Upgrade)]
    #[case::uninstalled_no_history(with(|o| { o.history_empty = true; o.latest.as_mut().unwrap().status = "uninstalled".into(); }), ReleaseState::Absent, NextAction::Install)]
    #[case::mutated(with(|o| o.latest.as_mut().unwrap().matches_snapshot = false), ReleaseState::Unmanaged, NextAction::Upgrade)]
    #[case::in_sync(observation(), ReleaseState::InSync, NextAction::Done)]
    #[case::forced(with(|o| o.force = true), ReleaseState::InSync, NextAction::Upgrade)]
    #[case::new_version(with(|o| o.chart_version = "1.0.1".into()), ReleaseState::OutOfSync, NextAction::Upgrade)]
    #[case::new_values(with(|o| o.config_digest = "sha256:b".into()), ReleaseState::OutOfSync, NextAction::Upgrade)]
    #[case::new_post_renderers(with(|o| o.render_config_changed = true), ReleaseState::OutOfSync, NextAction::Upgrade)]
    #[case::out_of_sync_exhausted(with(|o| { o.config_digest = "x".into(); o.failures = 1; }), ReleaseState::OutOfSync, NextAction::RetriesExhausted)]
    #[case::untested(with(|o| o.tests_enabled = true), ReleaseState::Untested, NextAction::Test)]
    #[case::test_failed(with(|o| { o.tests_enabled = true; o.failures = 1; o.retries = 3; o.rollback_target = Some(1); let l = o.latest.as_mut().unwrap(); l.tested = true; l.test_failed = true; }), ReleaseState::Failed, NextAction::Rollback(1))]
    #[case::test_failed_ignored(with(|o| { o.tests_enabled = true; o.ignore_test_failures = true; let l = o.latest.as_mut().unwrap(); l.tested = true; l.test_failed = true; }), ReleaseState::InSync, NextAction::Done)]
    #[case::drift_warn(with(|o| o.drifted = true), ReleaseState::Drifted, NextAction::WarnDrift)]
    #[case::drift_correct(with(|o| { o.drifted = true; o.correct_drift = true; }), ReleaseState::Drifted, NextAction::CorrectDrift)]
    #[case::failed_install_uninstalls(with(|o| { o.latest.as_mut().unwrap().status = "failed".into(); o.last_action_install = true; o.failures = 1; o.retries = 2; }), ReleaseState::Failed, NextAction::Uninstall)]
    #[case::failed_upgrade_rolls_back(with(|o| { o.latest.as_mut().unwrap().status = "failed".into(); o.failures = 1; o.retries = 2; o.rollback_target = Some(3); }), ReleaseState::Failed, NextAction::Rollback(3))]
    #[case::failed_upgrade_uninstall_strategy(with(|o| { o.latest.as_mut().unwrap().status = "failed".into(); o.failures = 1; o.retries = 2; o.uninstall_remediation = true; }), ReleaseState::Failed, NextAction::Uninstall)]
    #[case::failed_no_target_upgrades(with(|o| { o.latest.as_mut().unwrap().status = "failed".into(); o.failures = 1; o.retries = 2; }), ReleaseState::Failed, NextAction::Upgrade)]
    #[case::failed_config_changed(with(|o| { o.latest.as_mut().unwrap().status = "failed".into(); o.failures = 0; }), ReleaseState::Failed, NextAction::Upgrade)]
    #[case::failed_exhausted(with(|o| { o.latest.as_mut().unwrap().status = "failed".into(); o.failures = 1; o.retries = 0; }), ReleaseState::Failed, NextAction::RetriesExhausted)]
    #[case::failed_exhausted_remediate_last(with(|o| { o.latest.as_mut().unwrap().status = "failed".into(); o.failures = 1; o.retries = 0; o.remediate_last_failure = true; o.rollback_target = Some(1); }), ReleaseState::Failed, NextAction::Rollback(1))]
    #[case::failed_infinite(with(|o| { o.latest.as_mut().unwrap().status = "failed".into(); o.failures = 9; o.retries = -1; o.rollback_target = Some(1); }), ReleaseState::Failed, NextAction::Rollback(1))]
    #[case::retry_on_failure(with(|o| { o.latest.as_mut().unwrap().status = "failed".into(); o.failures = 1; o.retry_on_failure = true; }), ReleaseState::Failed, NextAction::RetryLater)]
    #[case::absent_exhausted(with(|o| { o.latest = None; o.failures = 1; }), ReleaseState::Absent, NextAction::RetriesExhausted)]
    #[case::absent_exhausted_forced(with(|o| { o.latest = None; o.failures = 1; o.force = true; }), ReleaseState::Absent, NextAction::Install)]
    fn decides(
        #[case] observation: Observation,
        #[case] state: ReleaseState,
        #[case] action: NextAction,
    ) {
        assert_eq!(determine_state(&observation), state);
        assert_eq!(next_action(&observation, state), action);
    }
}
