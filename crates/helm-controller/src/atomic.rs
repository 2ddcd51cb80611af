//! Flux's `AtomicRelease`: observe, decide (crate::state), act, until in sync, remediated
//! or out of retries; each action runs at most once per reconciliation.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ferroflux_api::helm::v2::{DriftDetectionMode, HelmRelease, HelmReleaseStatus, ReleaseAction};
use ferroflux_runtime::FluxStatus;
use ferroflux_runtime::conditions::{self, Conditions};
use ferroflux_runtime::driver::{Context, Outcome};
use ferroflux_runtime::events::EventType;
use kube::ResourceExt;

use crate::actions::{ActionOptions, CrdPolicy, Helm};
use crate::error::HelmError;
use crate::history;
use crate::reconciler::{
    HelmReleaseReconciler, elapsed, install_options, mark, rollback_options, upgrade_options,
};
use crate::state::{self, NextAction, ReleaseState};
use crate::storage::release::Release;

/// Flux's condition types and reasons of a HelmRelease.
pub mod reasons {
    /// Install succeeded.
    pub const INSTALL_SUCCEEDED: &str = "InstallSucceeded";
    /// Install failed.
    pub const INSTALL_FAILED: &str = "InstallFailed";
    /// Upgrade succeeded.
    pub const UPGRADE_SUCCEEDED: &str = "UpgradeSucceeded";
    /// Upgrade failed.
    pub const UPGRADE_FAILED: &str = "UpgradeFailed";
    /// Tests succeeded.
    pub const TEST_SUCCEEDED: &str = "TestSucceeded";
    /// Tests failed.
    pub const TEST_FAILED: &str = "TestFailed";
    /// Rollback succeeded.
    pub const ROLLBACK_SUCCEEDED: &str = "RollbackSucceeded";
    /// Rollback failed.
    pub const ROLLBACK_FAILED: &str = "RollbackFailed";
    /// Uninstall succeeded.
    pub const UNINSTALL_SUCCEEDED: &str = "UninstallSucceeded";
    /// Uninstall failed.
    pub const UNINSTALL_FAILED: &str = "UninstallFailed";
}

struct Run<'a> {
    context: &'a Context,
    object: &'a HelmRelease,
    desired: &'a crate::reconciler::DesiredRef<'a>,
    helm: &'a Helm,
}

impl HelmReleaseReconciler {
    pub(crate) async fn atomic_release(
        &self,
        context: &Context,
        object: &HelmRelease,
        status: &mut HelmReleaseStatus,
        desired: &crate::reconciler::DesiredRef<'_>,
        helm: &Helm,
    ) -> Result<Outcome, HelmError> {
        let run = Run {
            context,
            object,
            desired,
            helm,
        };
        let mut ran: Vec<&'static str> = Vec::new();
        let mut last_error: Option<HelmError> = None;
        for _ in 0..10 {
            let observation = self.observe(object, status, desired, helm).await?;
            let release_state = state::determine_state(&observation);
            let action = state::next_action(&observation, release_state);
            tracing::debug!(name = %object.name_any(), state = ?release_state, action = ?action, "release state");
            let key = match &action {
                NextAction::Install => "install",
                NextAction::Upgrade => "upgrade",
                NextAction::Test => "test",
                NextAction::Unlock => "unlock",
                _ => "",
            };
            if !key.is_empty() {
                if ran.contains(&key) {
                    return Err(last_error.unwrap_or_else(|| HelmError::Release {
                        reason: "ReconciliationFailed",
                        message: format!("{key} did not converge"),
                    }));
                }
                ran.push(key);
            }
            if let Some(verb) = match &action {
                NextAction::Install => Some(("install", install_options(object).timeout)),
                NextAction::Upgrade => Some(("upgrade", upgrade_options(object).timeout)),
                NextAction::Test => Some(("test", install_options(object).timeout)),
                NextAction::Rollback(_) => Some(("rollback", rollback_options(object).timeout)),
                NextAction::Uninstall => Some(("uninstall", install_options(object).timeout)),
                _ => None,
            } {
                let message = format!(
                    "Running '{}' action with timeout of {}",
                    verb.0,
                    ferroflux_runtime::duration::format(verb.1)
                );
                context.mark_reconciling(object, status, &message).await?;
            }
            if observation.force {
                status.last_handled_force_at = object
                    .annotations()
                    .get("reconcile.fluxcd.io/forceAt")
                    .cloned();
            }
            match action {
                NextAction::Done | NextAction::WarnDrift | NextAction::CorrectDrift => {
                    run.drift(status).await;
                    return Ok(in_sync(&run, status, observation.tests_enabled));
                }
                NextAction::Install => last_error = run.install(status).await.err(),
                NextAction::Upgrade => {
                    if release_state == ReleaseState::Unmanaged {
                        status.history = None;
                    }
                    last_error = run.upgrade(status).await.err();
                }
                NextAction::Test => last_error = run.test(status).await.err(),
                NextAction::Unlock => {
                    if let Ok(Some(release)) = helm.unlock().await {
                        let message = format!(
                            "Unlocked Helm release {}/{}.v{} in {} state",
                            release.namespace, release.name, release.version, "failed"
                        );
                        record(status, &release, "unlock", desired.oci_digest);
                        context
                            .recorder
                            .publish(
                                object,
                                EventType::Normal,
                                "Unlocked",
                                &message,
                                BTreeMap::new(),
                            )
                            .await;
                    }
                }
                NextAction::Rollback(version) => {
                    let error = run.rollback(status, version).await;
                    return Err(stall_if_exhausted(error, status, &observation, false));
                }
                NextAction::Uninstall => {
                    let error = run.remediate_uninstall(status).await;
                    let after_upgrade = !observation.last_action_install;
                    return Err(stall_if_exhausted(
                        error,
                        status,
                        &observation,
                        after_upgrade,
                    ));
                }
                NextAction::RetriesExhausted => {
                    return Err(retries_exceeded(status, &observation));
                }
                NextAction::RetryLater => {
                    let retry = object
                        .spec
                        .upgrade
                        .as_ref()
                        .and_then(|u| u.strategy.as_ref())
                        .and_then(|s| s.retry_interval.clone())
                        .or_else(|| {
                            object
                                .spec
                                .install
                                .as_ref()
                                .and_then(|u| u.strategy.as_ref())
                                .and_then(|s| s.retry_interval.clone())
                        });
                    let after = retry
                        .and_then(|r| ferroflux_runtime::duration::parse(&r).ok())
                        .unwrap_or(Duration::from_secs(300));
                    return Err(HelmError::RetryLater(
                        format!(
                            "retrying after {}",
                            ferroflux_runtime::duration::format(after)
                        ),
                        after,
                    ));
                }
            }
        }
        Err(last_error.unwrap_or_else(|| HelmError::Release {
            reason: "ReconciliationFailed",
            message: "release did not converge".to_owned(),
        }))
    }
}

/// After a successful remediation with no retries left, Flux stalls at once
/// (`RetriesExceeded`) instead of waiting for the next attempt to find out; an uninstall
/// remediating an upgrade is the exception (the next reconciliation installs again).
fn stall_if_exhausted(
    error: HelmError,
    status: &mut HelmReleaseStatus,
    observation: &state::Observation,
    uninstall_after_upgrade: bool,
) -> HelmError {
    let remediated = matches!(
        &error,
        HelmError::Release { reason, .. }
            if *reason == reasons::ROLLBACK_SUCCEEDED || *reason == reasons::UNINSTALL_SUCCEEDED
    );
    if remediated && !uninstall_after_upgrade && state::exhausted(observation) {
        retries_exceeded(status, observation)
    } else {
        error
    }
}

/// Ready of a release out of retries, as Flux's summary: Remediated wins, then a failed
/// TestSuccess, then Released.
fn retries_exceeded(status: &mut HelmReleaseStatus, observation: &state::Observation) -> HelmError {
    let action = if observation.last_action_install {
        "install"
    } else {
        "upgrade"
    };
    let stalled = format!(
        "Failed to {action} after {} attempt(s)",
        observation.failures
    );
    let list = status.conditions_mut();
    let pick = conditions::get(list, "Remediated")
        .or_else(|| {
            conditions::get(list, "TestSuccess")
                .filter(|c| c.status == ferroflux_api::meta::ConditionStatus::False)
        })
        .or_else(|| conditions::get(list, "Released"))
        .cloned();
    match pick {
        Some(condition) => HelmError::RetriesExceeded {
            reason: condition.reason,
            message: condition.message,
            stalled,
        },
        None => HelmError::RetriesExceeded {
            reason: if observation.last_action_install {
                reasons::INSTALL_FAILED
            } else {
                reasons::UPGRADE_FAILED
            }
            .to_owned(),
            message: stalled.clone(),
            stalled,
        },
    }
}

/// Sets (`Some`) or removes (`None`) the Drifted condition.
fn mark_drifted(
    run: &Run<'_>,
    status: &mut HelmReleaseStatus,
    value: Option<(bool, &str, String)>,
) {
    let generation = run.object.metadata.generation.unwrap_or_default();
    let mut conditions = Conditions::new(
        status.conditions_mut(),
        generation,
        run.context.clock.as_ref(),
    );
    match value {
        None => conditions.delete("Drifted"),
        Some((true, reason, message)) => conditions.mark_true("Drifted", reason, message),
        Some((false, reason, message)) => conditions.mark_false("Drifted", reason, message),
    }
}

fn record(
    status: &mut HelmReleaseStatus,
    release: &Release,
    action: &str,
    oci_digest: Option<&str>,
) {
    let history = status.history.get_or_insert_with(Vec::new);
    history::record(history, history::snapshot(release, action, oci_digest));
}

fn metadata(run: &Run<'_>) -> BTreeMap<String, String> {
    let mut metadata = BTreeMap::from([
        (
            "revision".to_owned(),
            run.desired.chart.metadata.version.clone(),
        ),
        ("token".to_owned(), run.desired.config_digest.clone()),
    ]);
    if !run.desired.chart.metadata.app_version.is_empty() {
        metadata.insert(
            "app-version".to_owned(),
            run.desired.chart.metadata.app_version.clone(),
        );
    }
    if let Some(digest) = run.desired.oci_digest {
        metadata.insert("oci-digest".to_owned(), digest.to_owned());
    }
    metadata
}

/// Ready=True from the Released (or TestSuccess) condition; Remediated cleared.
fn in_sync(run: &Run<'_>, status: &mut HelmReleaseStatus, tests: bool) -> Outcome {
    let (post_renderers, common_metadata) = crate::reconciler::render_digests(run.object);
    status.observed_post_renderers_digest = post_renderers;
    status.observed_common_metadata_digest = common_metadata;
    let generation = run.object.metadata.generation.unwrap_or_default();
    let latest = status.history.as_ref().and_then(|h| h.first()).cloned();
    let mut conditions = Conditions::new(
        status.conditions_mut(),
        generation,
        run.context.clock.as_ref(),
    );
    if conditions.get("Remediated").is_some()
        || conditions
            .get("Released")
            .is_none_or(|c| c.status != ferroflux_api::meta::ConditionStatus::True)
    {
        conditions.delete("Remediated");
        if let Some(latest) = &latest {
            let message = format!(
                "Helm upgrade succeeded for release {}/{}.v{} with chart {}@{}",
                latest.namespace,
                latest.name,
                latest.version,
                latest.chart_name,
                latest.chart_version
            );
            conditions.mark_true("Released", reasons::UPGRADE_SUCCEEDED, message);
        }
    }
    if !tests {
        conditions.delete("TestSuccess");
    }
    let summary = conditions
        .get("TestSuccess")
        .filter(|_| tests)
        .or_else(|| conditions.get("Released"))
        .cloned();
    if let Some(summary) = summary {
        conditions.mark_true("Ready", &summary.reason, summary.message);
    }
    Outcome::Done
}

impl Run<'_> {
    /// Drift detection of an in-sync release: Drifted condition, DriftDetected event, and
    /// correction (server-side apply of the release manifest) in mode `enabled`.
    async fn drift(&self, status: &mut HelmReleaseStatus) {
        let drift = self.object.spec.drift_detection.clone().unwrap_or_default();
        let mode = drift.mode.unwrap_or_default();
        if mode == DriftDetectionMode::Disabled {
            mark_drifted(self, status, None);
            return;
        }
        let Ok(Some(release)) = self.helm.storage.last(&self.helm.name).await else {
            return;
        };
        let full = Self::release_display(&release);
        match crate::drift::detect(
            self.helm,
            &release.manifest,
            drift.ignore.as_deref().unwrap_or_default(),
        )
        .await
        {
            Ok(drifts) if drifts.is_empty() => {
                mark_drifted(
                    self,
                    status,
                    Some((
                        false,
                        "NoDriftDetected",
                        "No drift detected against the cluster state".to_owned(),
                    )),
                );
            }
            Ok(drifts) => {
                let summary: Vec<String> = drifts
                    .iter()
                    .map(|(subject, what)| format!("{subject} {what}"))
                    .collect();
                let message = format!(
                    "Cluster state of release {full} has drifted from the desired state:\n{}",
                    summary.join("\n")
                );
                self.context
                    .recorder
                    .publish(
                        self.object,
                        EventType::Warning,
                        "DriftDetected",
                        &message,
                        BTreeMap::new(),
                    )
                    .await;
                mark_drifted(self, status, Some((true, "DriftDetected", message)));
                if mode == DriftDetectionMode::Enabled {
                    self.correct(&release, &full).await;
                }
            }
            Err(error) => tracing::info!(error = %error, "drift detection failed"),
        }
    }

    async fn correct(&self, release: &Release, full: &str) {
        let mut objects = crate::render::objects_of(&release.manifest).unwrap_or_default();
        for object in &mut objects {
            crate::actions::ownership(object, &self.helm.name, &self.helm.namespace);
        }
        let mut options = ferroflux_runtime::ssa::ApplyOptions::flux(crate::source::MANAGER);
        options.force = true;
        match self.helm.manager.apply_all_staged(objects, &options).await {
            Ok(change_set) => {
                let lines: Vec<String> = change_set
                    .entries
                    .iter()
                    .filter(|e| {
                        matches!(
                            e.action,
                            ferroflux_runtime::ssa::Action::Created
                                | ferroflux_runtime::ssa::Action::Configured
                        )
                    })
                    .map(|e| format!("{} {}", e.subject, e.action))
                    .collect();
                if !lines.is_empty() {
                    let message = format!(
                        "Cluster state of release {full} has been corrected:\n{}",
                        lines.join("\n")
                    );
                    self.event(EventType::Normal, "DriftCorrected", &message)
                        .await;
                }
            }
            Err(error) => {
                let message =
                    format!("Failed to correct cluster state of release {full}:\n{error}");
                self.event(EventType::Warning, "DriftCorrectionFailed", &message)
                    .await;
            }
        }
    }

    async fn event(&self, kind: EventType, reason: &str, message: &str) {
        self.context
            .recorder
            .publish(self.object, kind, reason, message, metadata(self))
            .await;
    }

    fn release_display(release: &Release) -> String {
        format!(
            "{}/{}.v{}",
            release.namespace, release.name, release.version
        )
    }

    async fn install(&self, status: &mut HelmReleaseStatus) -> Result<(), HelmError> {
        let started = Instant::now();
        status.last_attempted_release_action = Some(ReleaseAction::Install);
        status.history = None;
        let generation = self.object.metadata.generation.unwrap_or_default();
        {
            let mut conditions = Conditions::new(
                status.conditions_mut(),
                generation,
                self.context.clock.as_ref(),
            );
            conditions.delete("TestSuccess");
            conditions.delete("Remediated");
        }
        let result = self
            .helm
            .install(
                &self.desired.chart,
                self.desired.values,
                &install_options(self.object),
            )
            .await;
        status.last_attempted_release_action_duration = Some(elapsed(started));
        self.after_release(status, result, true).await
    }

    async fn upgrade(&self, status: &mut HelmReleaseStatus) -> Result<(), HelmError> {
        let started = Instant::now();
        status.last_attempted_release_action = Some(ReleaseAction::Upgrade);
        let generation = self.object.metadata.generation.unwrap_or_default();
        {
            let mut conditions = Conditions::new(
                status.conditions_mut(),
                generation,
                self.context.clock.as_ref(),
            );
            conditions.delete("TestSuccess");
        }
        let result = self
            .helm
            .upgrade(
                &self.desired.chart,
                self.desired.values,
                &upgrade_options(self.object),
                self.object
                    .spec
                    .upgrade
                    .as_ref()
                    .and_then(|u| u.cleanup_on_fail)
                    .unwrap_or(false),
            )
            .await;
        status.last_attempted_release_action_duration = Some(elapsed(started));
        self.after_release(status, result, false).await
    }

    async fn after_release(
        &self,
        status: &mut HelmReleaseStatus,
        result: Result<Release, String>,
        install: bool,
    ) -> Result<(), HelmError> {
        let (verb, ok_reason, fail_reason, action) = if install {
            (
                "install",
                reasons::INSTALL_SUCCEEDED,
                reasons::INSTALL_FAILED,
                "install",
            )
        } else {
            (
                "upgrade",
                reasons::UPGRADE_SUCCEEDED,
                reasons::UPGRADE_FAILED,
                "upgrade",
            )
        };
        // Whatever happened, the newest stored revision goes into the history.
        if let Ok(Some(latest)) = self.helm.storage.last(&self.helm.name).await
            && (result.is_ok() || latest.status() == "failed")
            && status
                .history
                .as_ref()
                .is_none_or(|h| h.first().is_none_or(|s| s.version <= latest.version))
        {
            record(status, &latest, action, self.desired.oci_digest);
        }
        match result {
            Ok(release) => {
                let (post_renderers, common_metadata) =
                    crate::reconciler::render_digests(self.object);
                status.observed_post_renderers_digest = post_renderers;
                status.observed_common_metadata_digest = common_metadata;
                let message = format!(
                    "Helm {verb} succeeded for release {} with chart {}",
                    Self::release_display(&release),
                    self.desired.chart_display
                );
                mark(
                    self.context,
                    self.object,
                    status,
                    "Released",
                    true,
                    ok_reason,
                    &message,
                );
                self.event(EventType::Normal, ok_reason, &message).await;
                Ok(())
            }
            Err(error) => {
                let message = format!(
                    "Helm {verb} failed for release {}/{} with chart {}: {error}",
                    self.helm.namespace, self.helm.name, self.desired.chart_display
                );
                status.failures = Some(status.failures.unwrap_or(0) + 1);
                if install {
                    status.install_failures = Some(status.install_failures.unwrap_or(0) + 1);
                } else {
                    status.upgrade_failures = Some(status.upgrade_failures.unwrap_or(0) + 1);
                }
                mark(
                    self.context,
                    self.object,
                    status,
                    "Released",
                    false,
                    fail_reason,
                    &message,
                );
                self.event(EventType::Warning, fail_reason, &message).await;
                Err(HelmError::Release {
                    reason: fail_reason,
                    message,
                })
            }
        }
    }

    async fn test(&self, status: &mut HelmReleaseStatus) -> Result<(), HelmError> {
        let test = self.object.spec.test.clone().unwrap_or_default();
        let filters = test.filters.clone().unwrap_or_default();
        let filter = |name: &str| {
            let includes: Vec<_> = filters
                .iter()
                .filter(|f| !f.exclude.unwrap_or(false))
                .collect();
            let excluded = filters
                .iter()
                .any(|f| f.exclude.unwrap_or(false) && f.name == name);
            !excluded && (includes.is_empty() || includes.iter().any(|f| f.name == name))
        };
        let timeout = test
            .timeout
            .as_deref()
            .and_then(|t| ferroflux_runtime::duration::parse(t).ok())
            .unwrap_or_else(|| install_options(self.object).timeout);
        let action = if status.last_attempted_release_action == Some(ReleaseAction::Upgrade) {
            "upgrade"
        } else {
            "install"
        };
        match self.helm.test(filter, timeout).await {
            Ok((release, count)) => {
                record(status, &release, action, self.desired.oci_digest);
                let message = format!(
                    "Helm test succeeded for release {} with chart {}: {count} test hooks completed successfully",
                    Self::release_display(&release),
                    self.desired.chart_display
                );
                mark(
                    self.context,
                    self.object,
                    status,
                    "TestSuccess",
                    true,
                    reasons::TEST_SUCCEEDED,
                    &message,
                );
                self.event(EventType::Normal, reasons::TEST_SUCCEEDED, &message)
                    .await;
                Ok(())
            }
            Err((release, error)) => {
                if release.version > 0 {
                    record(status, &release, action, self.desired.oci_digest);
                }
                let message = format!(
                    "Helm test failed for release {} with chart {}: {error}",
                    Self::release_display(&release),
                    self.desired.chart_display
                );
                if !test.ignore_failures.unwrap_or(false) {
                    status.failures = Some(status.failures.unwrap_or(0) + 1);
                    if action == "install" {
                        status.install_failures = Some(status.install_failures.unwrap_or(0) + 1);
                    } else {
                        status.upgrade_failures = Some(status.upgrade_failures.unwrap_or(0) + 1);
                    }
                }
                mark(
                    self.context,
                    self.object,
                    status,
                    "TestSuccess",
                    false,
                    reasons::TEST_FAILED,
                    &message,
                );
                self.event(EventType::Warning, reasons::TEST_FAILED, &message)
                    .await;
                Err(HelmError::Release {
                    reason: reasons::TEST_FAILED,
                    message,
                })
            }
        }
    }

    async fn rollback(&self, status: &mut HelmReleaseStatus, version: i64) -> HelmError {
        let target = status
            .history
            .iter()
            .flatten()
            .find(|s| s.version == version)
            .cloned();
        let chart = target
            .as_ref()
            .map(|t| format!("{}@{}", t.chart_name, t.chart_version))
            .unwrap_or_default();
        match self
            .helm
            .rollback(version, &rollback_options(self.object))
            .await
        {
            Ok(release) => {
                record(status, &release, "rollback", self.desired.oci_digest);
                let message = format!(
                    "Helm rollback to previous release {} with chart {chart} succeeded",
                    Self::release_display(&release)
                        .replace(&format!(".v{}", release.version), &format!(".v{version}"))
                );
                mark(
                    self.context,
                    self.object,
                    status,
                    "Remediated",
                    true,
                    reasons::ROLLBACK_SUCCEEDED,
                    &message,
                );
                self.event(EventType::Normal, reasons::ROLLBACK_SUCCEEDED, &message)
                    .await;
                HelmError::Release {
                    reason: reasons::ROLLBACK_SUCCEEDED,
                    message,
                }
            }
            Err(error) => {
                let message = format!(
                    "Helm rollback to previous release {}/{}.v{version} with chart {chart} failed: {error}",
                    self.helm.namespace, self.helm.name
                );
                mark(
                    self.context,
                    self.object,
                    status,
                    "Remediated",
                    false,
                    reasons::ROLLBACK_FAILED,
                    &message,
                );
                self.event(EventType::Warning, reasons::ROLLBACK_FAILED, &message)
                    .await;
                HelmError::Release {
                    reason: reasons::ROLLBACK_FAILED,
                    message,
                }
            }
        }
    }

    async fn remediate_uninstall(&self, status: &mut HelmReleaseStatus) -> HelmError {
        let uninstall = self.object.spec.uninstall.clone().unwrap_or_default();
        let options = ActionOptions {
            timeout: install_options(self.object).timeout,
            wait: !uninstall.disable_wait.unwrap_or(false),
            hooks: !uninstall.disable_hooks.unwrap_or(false),
            force: false,
            crds: CrdPolicy::Skip,
            skip_schema_validation: true,
        };
        match self
            .helm
            .uninstall(
                &options,
                uninstall.keep_history.unwrap_or(false),
                uninstall.deletion_propagation.unwrap_or_default(),
            )
            .await
        {
            Ok(release) => {
                let display = release
                    .as_ref()
                    .map(Self::release_display)
                    .unwrap_or_default();
                if let Some(release) = &release {
                    let mut uninstalled = release.clone();
                    uninstalled.set_status("uninstalled", "Uninstallation complete");
                    record(status, &uninstalled, "uninstall", self.desired.oci_digest);
                }
                let message = format!(
                    "Helm uninstall remediation for release {display} with chart {} succeeded",
                    self.desired.chart_display
                );
                mark(
                    self.context,
                    self.object,
                    status,
                    "Remediated",
                    true,
                    reasons::UNINSTALL_SUCCEEDED,
                    &message,
                );
                self.event(EventType::Normal, reasons::UNINSTALL_SUCCEEDED, &message)
                    .await;
                HelmError::Release {
                    reason: reasons::UNINSTALL_SUCCEEDED,
                    message,
                }
            }
            Err(error) => {
                let message = format!(
                    "Helm uninstall remediation for release {}/{} with chart {} failed: {error}",
                    self.helm.namespace, self.helm.name, self.desired.chart_display
                );
                mark(
                    self.context,
                    self.object,
                    status,
                    "Remediated",
                    false,
                    reasons::UNINSTALL_FAILED,
                    &message,
                );
                self.event(EventType::Warning, reasons::UNINSTALL_FAILED, &message)
                    .await;
                HelmError::Release {
                    reason: reasons::UNINSTALL_FAILED,
                    message,
                }
            }
        }
    }
}
