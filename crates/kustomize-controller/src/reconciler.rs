//! The Kustomization reconciler, phase by phase as Flux's (flux-api.md §4): source →
//! dependencies → fetch → build → apply (staged, server-side) → inventory → prune →
//! health → status and events.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferroflux_api::kustomize::v1::{DeletionPolicy, Kustomization, KustomizationStatus};
use ferroflux_api::meta::{ResourceInventory, Snapshot};
use ferroflux_runtime::cel::StatusReaders;
use ferroflux_runtime::conditions::Conditions;
use ferroflux_runtime::driver::{Context, Outcome, Reconciler};
use ferroflux_runtime::events::EventType;
use ferroflux_runtime::health::CustomHealth;
use ferroflux_runtime::ssa::{
    Action, ApplyOptions, Inventory, InventoryEntry, PruneOptions, ResourceManager, WaitOptions,
};
use ferroflux_runtime::{FluxObject, FluxStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing::info;

use crate::build::{self, BuildSettings, NAME_LABEL, NAMESPACE_LABEL};
use crate::clients::Clients;
use crate::dependencies;
use crate::error::KustomizeError;
use crate::source::{self, SourceSettings};

/// What an apply did.
struct Applied {
    /// The sha256 of the built objects.
    digest: String,
    /// Change-set lines for the event ("Deployment/ns/app configured").
    lines: String,
    /// The manager that applied them (and waits for them).
    manager: ResourceManager,
    /// What happened to each object.
    change_set: ferroflux_runtime::ssa::ChangeSet,
}

/// The field manager of applied objects.
pub const MANAGER: &str = "kustomize-controller";

/// Reconciles Kustomizations.
pub struct KustomizationReconciler {
    /// Source access settings.
    pub sources: SourceSettings,
    /// Build settings.
    pub build: BuildSettings,
    /// Clients for the target cluster (impersonation, remote clusters).
    pub clients: Arc<Clients>,
    /// The manager for objects applied with the controller's own client, created on first
    /// use; its discovery cache is shared by every such Kustomization.
    pub shared_manager: std::sync::OnceLock<ResourceManager>,
}

fn duration_of(value: Option<&str>, fallback: Duration) -> Duration {
    value
        .and_then(|v| ferroflux_runtime::duration::parse(v).ok())
        .unwrap_or(fallback)
}

/// `spec.timeout`, defaulting to the interval minus 30s, at least 30s (Flux).
fn timeout_of(object: &Kustomization) -> Duration {
    let interval = object.interval();
    let fallback = interval
        .saturating_sub(Duration::from_secs(30))
        .max(Duration::from_secs(30));
    duration_of(object.spec.timeout.as_deref(), fallback)
}

impl Reconciler<Kustomization> for KustomizationReconciler {
    type Error = KustomizeError;

    async fn reconcile(
        &self,
        context: &Context,
        object: &Kustomization,
        status: &mut KustomizationStatus,
    ) -> Result<Outcome, KustomizeError> {
        let started = Instant::now();
        let generation = object.metadata.generation.unwrap_or_default();
        let readers = StatusReaders::new(
            object
                .spec
                .health_check_exprs
                .as_deref()
                .unwrap_or_default(),
        )
        .map_err(|e| KustomizeError::InvalidCel(e.to_string()))?;
        let source = source::resolve(&context.client, object, &self.sources).await?;
        let revision = source.artifact.revision.clone();
        dependencies::check(
            &context.client,
            object,
            &revision,
            self.sources.requeue_dependency,
            self.sources.additive_cel_dependency_check,
        )
        .await?;

        let timeout = timeout_of(object);
        let message = format!(
            "Fetching manifests for revision '{revision}' with a timeout of {}",
            ferroflux_runtime::duration::format(timeout)
        );
        context.mark_reconciling(object, status, &message).await?;
        status.last_attempted_revision = Some(revision.clone());

        let result =
            tokio::time::timeout(timeout, self.apply(context, object, status, &source)).await;
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(_) => Err(KustomizeError::Apply(format!(
                "reconciliation timed out after {}",
                ferroflux_runtime::duration::format(timeout)
            ))),
        };
        // Health checks have their own timeout, after the apply (as in Flux).
        let outcome = match outcome {
            Ok(applied) => self
                .check_health(
                    context,
                    object,
                    status,
                    &applied.manager,
                    &applied.change_set,
                    &readers,
                )
                .await
                .map(|()| (applied.digest, applied.lines)),
            Err(error) => Err(error),
        };
        let digest = outcome
            .as_ref()
            .map(|(digest, _)| digest.clone())
            .unwrap_or_default();
        let reason = match &outcome {
            Ok(_) => "ReconciliationSucceeded".to_owned(),
            Err(error) => ferroflux_runtime::ReconcileError::reason(error).to_owned(),
        };
        record_history(
            status,
            &digest,
            &reason,
            &revision,
            started.elapsed(),
            context,
        );
        let changes = outcome?.1;

        let applied = format!("Applied revision: {revision}");
        Conditions::new(status.conditions_mut(), generation, context.clock.as_ref()).mark_true(
            "Ready",
            "ReconciliationSucceeded",
            applied.clone(),
        );
        status.last_applied_revision = Some(revision.clone());
        status.last_applied_origin_revision = source
            .artifact
            .metadata
            .as_ref()
            .and_then(|m| m.get("org.opencontainers.image.revision").cloned());
        let metadata = BTreeMap::from([("revision".to_owned(), revision.clone())]);
        if !changes.is_empty() {
            context
                .recorder
                .publish(
                    object,
                    EventType::Normal,
                    "ReconciliationSucceeded",
                    &changes,
                    metadata.clone(),
                )
                .await;
        }
        let mut finished = metadata;
        finished.insert("commit_status".to_owned(), "update".to_owned());
        let message = format!(
            "Reconciliation finished in {}, next run in {}",
            ferroflux_runtime::duration::format(Duration::from_millis(
                u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
            )),
            ferroflux_runtime::duration::format(object.interval())
        );
        info!(name = %object.name_any(), namespace = object.namespace().unwrap_or_default(), %revision, "{message}");
        context
            .recorder
            .publish(
                object,
                EventType::Normal,
                "ReconciliationSucceeded",
                &message,
                finished,
            )
            .await;
        Ok(Outcome::Done)
    }

    async fn cleanup(
        &self,
        context: &Context,
        object: &Kustomization,
    ) -> Result<(), KustomizeError> {
        let policy = object.spec.deletion_policy.unwrap_or_default();
        let prune = match policy {
            DeletionPolicy::MirrorPrune => object.spec.prune,
            DeletionPolicy::Delete | DeletionPolicy::WaitForTermination => true,
            DeletionPolicy::Orphan => false,
        };
        let inventory = object.status.as_ref().and_then(|s| s.inventory.as_ref());
        if object.suspended() || !prune {
            return Ok(());
        }
        let Some(inventory) = inventory else {
            return Ok(());
        };
        let entries = Inventory::try_from(inventory)
            .map(|i| i.entries)
            .unwrap_or_default();
        let client = match self.clients.for_object(context, object).await {
            Ok(client) => client,
            // A missing ServiceAccount or kubeconfig must not block deletion forever.
            Err(error) => {
                info!(error = %error, "skipping garbage collection of a deleted Kustomization");
                return Ok(());
            }
        };
        let manager = ResourceManager::new(client, MANAGER);
        let (name, namespace) = (object.name_any(), object.namespace().unwrap_or_default());
        manager
            .delete_all(
                &entries,
                &PruneOptions::flux([
                    (NAME_LABEL, name.as_str()),
                    (NAMESPACE_LABEL, namespace.as_str()),
                ]),
            )
            .await
            .map_err(|e| KustomizeError::Prune(e.to_string()))?;
        Ok(())
    }
}

impl KustomizationReconciler {
    /// Fetch, build, apply and prune.
    async fn apply(
        &self,
        context: &Context,
        object: &Kustomization,
        status: &mut KustomizationStatus,
        source: &source::Source,
    ) -> Result<Applied, KustomizeError> {
        let workspace = tempfile::tempdir().map_err(|e| {
            KustomizeError::Build(format!("failed to create temporary directory: {e}"))
        })?;
        source::fetch(source, workspace.path(), &self.sources).await?;
        let objects = build::build(
            ferroflux_runtime::lookup::Lookup::Cluster(&context.client),
            object,
            workspace.path(),
            &self.build,
        )
        .await?;
        let digest = digest_of(&objects);

        let manager = if self.clients.uses_own_client(object) {
            self.shared_manager
                .get_or_init(|| ResourceManager::new(context.client.clone(), MANAGER))
                .clone()
        } else {
            let client = self.clients.for_object(context, object).await?;
            ResourceManager::new(client, MANAGER)
        };
        let mut options = ApplyOptions::flux(MANAGER);
        options.force = object.spec.force.unwrap_or(false);
        let old = status
            .inventory
            .as_ref()
            .and_then(|i| Inventory::try_from(i).ok())
            .unwrap_or_default();
        let change_set = match manager.apply_all_staged(objects, &options).await {
            Ok(change_set) => change_set,
            Err(error) => {
                // A kind may have gone away: resolve kinds afresh next time.
                manager.discovery().clear();
                // Keep the inventory truthful: what was applied plus what we owned before.
                let mut partial = error.change_set.to_inventory();
                for entry in &old.entries {
                    if !partial.contains(&entry.id) {
                        partial.entries.push(entry.clone());
                    }
                }
                status.inventory = Some(ResourceInventory::from(&partial));
                return Err(KustomizeError::Apply(error.to_string()));
            }
        };
        let new = change_set.to_inventory();
        let mut lines: Vec<String> = change_set
            .entries
            .iter()
            .filter(|e| matches!(e.action, Action::Created | Action::Configured))
            .map(|e| format!("{} {}", e.subject, e.action))
            .collect();

        let mut inventory = new.clone();
        if object.spec.prune {
            let stale = old.stale(&new);
            if !stale.is_empty() {
                let (name, namespace) = (object.name_any(), object.namespace().unwrap_or_default());
                let labels = [
                    (NAME_LABEL, name.as_str()),
                    (NAMESPACE_LABEL, namespace.as_str()),
                ];
                match manager
                    .delete_all(&stale, &PruneOptions::flux(labels))
                    .await
                {
                    Ok(deleted) => lines.extend(
                        deleted
                            .entries
                            .iter()
                            .filter(|e| e.action == Action::Deleted)
                            .map(|e| format!("{} deleted", e.subject)),
                    ),
                    Err(error) => {
                        // Failed deletions stay in the inventory and are retried next time.
                        let failed: Vec<InventoryEntry> = stale
                            .into_iter()
                            .filter(|e| !error.change_set.to_inventory().contains(&e.id))
                            .collect();
                        inventory.entries.extend(failed);
                        status.inventory = Some(ResourceInventory::from(&inventory));
                        return Err(KustomizeError::Prune(error.to_string()));
                    }
                }
            }
        }
        status.inventory = Some(ResourceInventory::from(&inventory));
        Ok(Applied {
            digest,
            lines: lines.join("\n"),
            manager,
            change_set,
        })
    }

    async fn check_health(
        &self,
        context: &Context,
        object: &Kustomization,
        status: &mut KustomizationStatus,
        manager: &ResourceManager,
        change_set: &ferroflux_runtime::ssa::ChangeSet,
        readers: &StatusReaders,
    ) -> Result<(), KustomizeError> {
        let generation = object.metadata.generation.unwrap_or_default();
        let wait = object.spec.wait.unwrap_or(false);
        // With `wait`, the objects just applied: those written start from their apply's
        // answer.
        let applied: Vec<ferroflux_runtime::ssa::ChangeSetEntry> = if wait {
            change_set
                .entries
                .iter()
                .filter(|e| e.action != Action::Skipped)
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let entries: Vec<InventoryEntry> = if wait {
            applied
                .iter()
                .map(ferroflux_runtime::ssa::ChangeSetEntry::inventory_entry)
                .collect()
        } else {
            health_check_entries(object)
        };
        if !wait && object.spec.health_checks.as_ref().is_none_or(Vec::is_empty) {
            Conditions::new(status.conditions_mut(), generation, context.clock.as_ref())
                .delete("Healthy");
            return Ok(());
        }
        let timeout = timeout_of(object);
        let started = Instant::now();
        let revision = status.last_attempted_revision.clone().unwrap_or_default();
        Conditions::new(status.conditions_mut(), generation, context.clock.as_ref()).mark_unknown(
            "Healthy",
            "Progressing",
            "Running health checks",
        );
        let message = format!(
            "Running health checks for revision '{revision}' with a timeout of {}",
            ferroflux_runtime::duration::format(timeout)
        );
        context.mark_reconciling(object, status, &message).await?;
        let options = WaitOptions {
            interval: Duration::from_secs(2),
            timeout,
            fail_fast: true,
        };
        let rule = |live: &Value| readers.health(live);
        let custom: Option<CustomHealth<'_>> = if readers.is_empty() {
            None
        } else {
            Some(&rule)
        };
        let waited = if wait {
            manager.wait_for_applied(&applied, &options, custom).await
        } else {
            manager.wait_for_with(&entries, &options, custom).await
        };
        match waited {
            Ok(()) => {
                let message = format!(
                    "Health check passed in {}",
                    ferroflux_runtime::duration::format(round(started.elapsed()))
                );
                Conditions::new(status.conditions_mut(), generation, context.clock.as_ref())
                    .mark_true("Healthy", "Succeeded", message);
                Ok(())
            }
            Err(error) => {
                let message = if error.timed_out {
                    format!(
                        "health check failed after {}: {error}",
                        ferroflux_runtime::duration::format(round(started.elapsed()))
                    )
                } else {
                    format!("health check failed: {error}")
                };
                Conditions::new(status.conditions_mut(), generation, context.clock.as_ref())
                    .mark_false("Healthy", "HealthCheckFailed", message.clone());
                Err(KustomizeError::Health(message))
            }
        }
    }
}

/// The health `spec.healthCheckExprs` decides for `live`, if an expression matches its
/// group and kind.
fn round(duration: Duration) -> Duration {
    Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

/// `spec.healthChecks` as inventory entries (namespace defaulting to the Kustomization's).
fn health_check_entries(object: &Kustomization) -> Vec<InventoryEntry> {
    let own = object.namespace().unwrap_or_default();
    object
        .spec
        .health_checks
        .iter()
        .flatten()
        .map(|check| {
            let api_version = check.api_version.clone().unwrap_or_else(|| "v1".to_owned());
            let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
            let namespace = check.namespace.clone().unwrap_or_else(|| own.clone());
            InventoryEntry {
                id: ferroflux_runtime::ssa::ObjectId::new(
                    &namespace,
                    &check.name,
                    group,
                    &check.kind,
                ),
                version: version.to_owned(),
            }
        })
        .collect()
}

/// The sha256 of the built objects (the history key).
fn digest_of(objects: &[Value]) -> String {
    let mut hasher = Sha256::new();
    for object in objects {
        hasher.update(serde_json::to_vec(object).unwrap_or_default());
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// Upserts the history snapshot keyed by (digest, status), newest first, at most 5.
fn record_history(
    status: &mut KustomizationStatus,
    digest: &str,
    reason: &str,
    revision: &str,
    elapsed: Duration,
    context: &Context,
) {
    if digest.is_empty() {
        return;
    }
    let now = Time(context.clock.now());
    let history = status.history.get_or_insert_with(Vec::new);
    let duration = ferroflux_runtime::duration::format(round(elapsed));
    if let Some(index) = history
        .iter()
        .position(|s| s.digest == digest && s.last_reconciled_status == reason)
    {
        let mut snapshot = history.remove(index);
        snapshot.last_reconciled = now;
        snapshot.last_reconciled_duration = duration;
        snapshot.total_reconciliations += 1;
        history.insert(0, snapshot);
    } else {
        history.insert(
            0,
            Snapshot {
                digest: digest.to_owned(),
                first_reconciled: now.clone(),
                last_reconciled: now,
                last_reconciled_duration: duration,
                last_reconciled_status: reason.to_owned(),
                total_reconciliations: 1,
                metadata: Some(BTreeMap::from([(
                    "revision".to_owned(),
                    revision.to_owned(),
                )])),
            },
        );
    }
    history.truncate(5);
}
