//! Helm's actions on one release — install, upgrade, rollback, uninstall, test, unlock —
//! with Helm 3's storage records, hooks and waiting, applying with server-side apply as
//! Flux's Helm 4 SDK does.

use std::fmt::Write as _;
use std::time::Duration;

use ferroflux_api::helm::v2::DeletionPropagation;
use ferroflux_helm::Chart;
use ferroflux_helm::kube::KubeVersion;
use ferroflux_runtime::ssa::{
    ApplyOptions, InventoryEntry, ObjectId, PruneOptions, ResourceManager, WaitOptions,
};
use kube::Client;
use serde_json::{Map, Value};

use crate::hooks;
use crate::render::{self, PostRender, RenderOptions};
use crate::storage::SecretStorage;
use crate::storage::release::{self, Info, Release, status};

/// CRD handling (`spec.install.crds` / `spec.upgrade.crds`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrdPolicy {
    /// Leave CRDs alone.
    Skip,
    /// Create missing CRDs.
    Create,
    /// Create missing and update existing CRDs.
    CreateReplace,
}

/// Options shared by the actions.
#[derive(Clone, Debug)]
pub struct ActionOptions {
    /// Time limit of waits and hooks.
    pub timeout: Duration,
    /// Wait for the release's resources to be ready.
    pub wait: bool,
    /// Run hooks.
    pub hooks: bool,
    /// Recreate objects whose immutable fields changed.
    pub force: bool,
    /// CRD policy.
    pub crds: CrdPolicy,
    /// Skip `values.schema.json`.
    pub skip_schema_validation: bool,
}

/// One release and everything needed to act on it.
pub struct Helm {
    /// `spec.healthCheckExprs`, consulted before the built-in health rules when waiting.
    pub health: Option<std::sync::Arc<ferroflux_runtime::cel::StatusReaders>>,
    /// Client for the target cluster (impersonated when configured).
    pub client: Client,
    /// Applies and waits with field manager `helm-controller`.
    pub manager: ResourceManager,
    /// Release storage.
    pub storage: SecretStorage,
    /// Release name.
    pub name: String,
    /// Release (target) namespace.
    pub namespace: String,
    /// The cluster's version.
    pub kube_version: KubeVersion,
    /// Post-render metadata.
    pub post_render: PostRender,
    /// Revisions kept in storage (`spec.maxHistory`, 0: unlimited).
    pub max_history: usize,
}

/// The annotations and label Helm puts on every object it manages.
pub(crate) fn ownership(object: &mut Value, name: &str, namespace: &str) {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(a) = annotations.as_object_mut() {
        a.insert(
            "meta.helm.sh/release-name".to_owned(),
            Value::String(name.to_owned()),
        );
        a.insert(
            "meta.helm.sh/release-namespace".to_owned(),
            Value::String(namespace.to_owned()),
        );
    }
    let labels = metadata
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(l) = labels.as_object_mut() {
        l.insert(
            "app.kubernetes.io/managed-by".to_owned(),
            Value::String("Helm".to_owned()),
        );
    }
    if !metadata.contains_key("namespace") {
        metadata.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
    }
}

fn entry_of(object: &Value) -> InventoryEntry {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("v1");
    let version = api_version.rsplit_once('/').map_or(api_version, |(_, v)| v);
    InventoryEntry {
        id: ObjectId::of(object),
        version: version.to_owned(),
    }
}

/// How releases apply their objects: as Helm 4 installs and upgrades, one server-side apply
/// per object without a dry-run before it (a chart that does not render never reaches this
/// point; an object the API server refuses fails the release, which remediation handles).
pub(crate) fn apply_options() -> ApplyOptions {
    ApplyOptions {
        dry_run: false,
        ..ApplyOptions::flux(crate::source::MANAGER)
    }
}

fn kept(object: &Value) -> bool {
    object
        .pointer("/metadata/annotations/helm.sh~1resource-policy")
        .and_then(Value::as_str)
        == Some("keep")
}

impl Helm {
    fn render(
        &self,
        chart: &Chart,
        values: &Map<String, Value>,
        revision: i64,
        is_upgrade: bool,
        options: &ActionOptions,
    ) -> Result<render::Rendered, String> {
        render::render(
            chart,
            &RenderOptions {
                release_name: &self.name,
                namespace: &self.namespace,
                revision,
                is_upgrade,
                values,
                kube_version: &self.kube_version,
                skip_schema_validation: options.skip_schema_validation,
                post_render: &self.post_render,
            },
        )
    }

    /// Applies the objects of `manifest` and waits for them when asked; returns their
    /// inventory entries.
    async fn apply_manifest(
        &self,
        manifest: &str,
        options: &ActionOptions,
    ) -> Result<Vec<InventoryEntry>, String> {
        let mut objects = render::objects_of(manifest)?;
        for object in &mut objects {
            ownership(object, &self.name, &self.namespace);
        }
        let mut apply = apply_options();
        apply.force = options.force;
        let change_set = self
            .manager
            .apply_all_staged(objects, &apply)
            .await
            .map_err(|e| e.to_string())?;
        let entries: Vec<InventoryEntry> = change_set
            .entries
            .iter()
            .map(ferroflux_runtime::ssa::ChangeSetEntry::inventory_entry)
            .collect();
        if options.wait {
            let wait = WaitOptions {
                interval: Duration::from_secs(2),
                timeout: options.timeout,
                fail_fast: true,
            };
            let rule = |live: &Value| self.health.as_ref().and_then(|r| r.health(live));
            let custom: Option<ferroflux_runtime::health::CustomHealth<'_>> =
                self.health.as_ref().map(|_| &rule as _);
            self.manager
                .wait_for_applied(&change_set.entries, &wait, custom)
                .await
                .map_err(|e| {
                    if e.timed_out {
                        format!("context deadline exceeded: {e}")
                    } else {
                        e.to_string()
                    }
                })?;
        }
        Ok(entries)
    }

    /// Deletes the objects of `old` that `new` does not have (Helm's upgrade cleanup).
    async fn delete_removed(&self, old: &str, new: &str) -> Result<(), String> {
        let new_ids: Vec<ObjectId> = render::objects_of(new)?
            .iter()
            .map(|o| {
                let mut o = o.clone();
                ownership(&mut o, &self.name, &self.namespace);
                ObjectId::of(&o)
            })
            .collect();
        let stale: Vec<InventoryEntry> = render::objects_of(old)?
            .into_iter()
            .filter(|o| !kept(o))
            .map(|mut o| {
                ownership(&mut o, &self.name, &self.namespace);
                entry_of(&o)
            })
            .filter(|e| !new_ids.contains(&e.id))
            .collect();
        self.delete_entries(&stale, None).await
    }

    async fn delete_entries(
        &self,
        entries: &[InventoryEntry],
        propagation: Option<kube::api::PropagationPolicy>,
    ) -> Result<(), String> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut options = PruneOptions::flux([]);
        options.propagation = propagation;
        self.manager
            .delete_all(entries, &options)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn apply_crds(&self, crds: Vec<Value>, policy: CrdPolicy) -> Result<(), String> {
        if policy == CrdPolicy::Skip || crds.is_empty() {
            return Ok(());
        }
        let mut wanted = Vec::new();
        let api: kube::Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> = kube::Api::all(self.client.clone());
        for crd in crds {
            let name = crd
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            // Create: only missing CRDs; CreateReplace: all of them.
            if policy == CrdPolicy::CreateReplace
                || api
                    .get_opt(&name)
                    .await
                    .map_err(|e| e.to_string())?
                    .is_none()
            {
                wanted.push(crd);
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let apply = ApplyOptions::flux(crate::source::MANAGER);
        self.manager
            .apply_all_staged(wanted, &apply)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn run_hooks(
        &self,
        release: &mut Release,
        event: &str,
        options: &ActionOptions,
    ) -> Result<(), String> {
        if !options.hooks {
            return Ok(());
        }
        hooks::run(
            &self.client,
            &self.manager,
            &self.namespace,
            &mut release.hooks,
            event,
            options.timeout,
        )
        .await
    }

    /// Stores a new revision, first deleting the oldest ones past `max_history` (Helm's
    /// `MaxHistory`).
    async fn create_record(&self, release: &Release) -> Result<(), String> {
        if self.max_history > 0 {
            self.storage
                .prune(&self.name, self.max_history - 1)
                .await
                .map_err(|e| e.to_string())?;
        }
        self.storage
            .create(release)
            .await
            .map_err(|e| e.to_string())
    }

    /// Marks `release` failed with `description` and stores it.
    async fn fail(&self, release: &mut Release, description: String) -> String {
        release.set_status(status::FAILED, description.clone());
        if let Some(info) = release.info.as_mut() {
            info.last_deployed = release::now();
        }
        if let Err(e) = self.storage.update(release).await {
            return format!("{description}: {e}");
        }
        description
    }

    /// `helm install`.
    pub async fn install(
        &self,
        chart: &Chart,
        values: &Map<String, Value>,
        options: &ActionOptions,
    ) -> Result<Release, String> {
        let last = self
            .storage
            .last(&self.name)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(last) = &last
            && last.status() != status::UNINSTALLED
            && last.status() != status::FAILED
        {
            return Err("cannot re-use a name that is still in use".to_owned());
        }
        let version = last.as_ref().map_or(1, |l| l.version + 1);
        let rendered = self.render(chart, values, version, false, options)?;
        self.apply_crds(rendered.crds.clone(), options.crds).await?;
        let now = release::now();
        let mut release = Release {
            name: self.name.clone(),
            info: Some(Info {
                first_deployed: now.clone(),
                last_deployed: now,
                status: status::PENDING_INSTALL.to_owned(),
                description: "Initial install underway".to_owned(),
                notes: rendered.notes.clone(),
                ..Info::default()
            }),
            chart: Some(render::chart_record(chart)),
            config: values.clone(),
            manifest: rendered.manifest.clone(),
            hooks: rendered.hooks.clone(),
            version,
            namespace: self.namespace.clone(),
        };
        self.create_record(&release).await?;
        let result = async {
            self.run_hooks(&mut release, "pre-install", options).await?;
            self.apply_manifest(&release.manifest, options).await?;
            self.run_hooks(&mut release, "post-install", options).await
        }
        .await;
        if let Err(error) = result {
            let description = format!("Release \"{}\" failed: {error}", self.name);
            self.fail(&mut release, description).await;
            return Err(error);
        }
        release.set_status(status::DEPLOYED, "Install complete");
        self.storage
            .update(&release)
            .await
            .map_err(|e| e.to_string())?;
        Ok(release)
    }

    /// `helm upgrade`.
    pub async fn upgrade(
        &self,
        chart: &Chart,
        values: &Map<String, Value>,
        options: &ActionOptions,
        cleanup_on_fail: bool,
    ) -> Result<Release, String> {
        let history = self
            .storage
            .history(&self.name)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = history.last().map(|s| s.release.clone()) else {
            return Err(format!("\"{}\" has no deployed releases", self.name));
        };
        let current = history
            .iter()
            .rev()
            .find(|s| s.release.status() == status::DEPLOYED)
            .map_or_else(|| last.clone(), |s| s.release.clone());
        let version = last.version + 1;
        let rendered = self.render(chart, values, version, true, options)?;
        self.apply_crds(rendered.crds.clone(), options.crds).await?;
        let now = release::now();
        let first = current
            .info
            .as_ref()
            .map_or_else(|| now.clone(), |i| i.first_deployed.clone());
        let mut release = Release {
            name: self.name.clone(),
            info: Some(Info {
                first_deployed: first,
                last_deployed: now,
                status: status::PENDING_UPGRADE.to_owned(),
                description: "Preparing upgrade".to_owned(),
                notes: rendered.notes.clone(),
                ..Info::default()
            }),
            chart: Some(render::chart_record(chart)),
            config: values.clone(),
            manifest: rendered.manifest.clone(),
            hooks: rendered.hooks.clone(),
            version,
            namespace: self.namespace.clone(),
        };
        self.create_record(&release).await?;
        let result = async {
            self.run_hooks(&mut release, "pre-upgrade", options).await?;
            self.apply_manifest(&release.manifest, options).await?;
            self.delete_removed(&current.manifest, &release.manifest)
                .await?;
            self.run_hooks(&mut release, "post-upgrade", options).await
        }
        .await;
        if let Err(error) = result {
            let mut description = format!("Upgrade \"{}\" failed: {error}", self.name);
            if cleanup_on_fail {
                // Helm's --cleanup-on-fail: the objects this upgrade added go again.
                if let Err(cleanup) = self
                    .delete_removed(&release.manifest, &current.manifest)
                    .await
                {
                    let _ = write!(description, " && cleanup error: {cleanup}");
                }
            }
            self.fail(&mut release, description).await;
            return Err(error);
        }
        self.supersede(&history, version).await?;
        release.set_status(status::DEPLOYED, "Upgrade complete");
        self.storage
            .update(&release)
            .await
            .map_err(|e| e.to_string())?;
        Ok(release)
    }

    /// Marks every deployed revision other than `except` superseded.
    async fn supersede(
        &self,
        history: &[crate::storage::Stored],
        except: i64,
    ) -> Result<(), String> {
        for stored in history {
            if stored.release.version != except && stored.release.status() == status::DEPLOYED {
                let mut old = stored.release.clone();
                old.set_status(status::SUPERSEDED, "Superseded");
                self.storage.update(&old).await.map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// `helm rollback <version>`.
    pub async fn rollback(&self, to: i64, options: &ActionOptions) -> Result<Release, String> {
        let history = self
            .storage
            .history(&self.name)
            .await
            .map_err(|e| e.to_string())?;
        let Some(current) = history.last().map(|s| s.release.clone()) else {
            return Err(format!("release: not found: {}", self.name));
        };
        let Some(target) = history
            .iter()
            .find(|s| s.release.version == to)
            .map(|s| s.release.clone())
        else {
            return Err(format!("release has no {to} version"));
        };
        let version = current.version + 1;
        let now = release::now();
        let mut release = target.clone();
        release.version = version;
        release
            .hooks
            .iter_mut()
            .for_each(|h| h.last_run = release::HookExecution::default());
        release.info = Some(Info {
            first_deployed: current
                .info
                .as_ref()
                .map_or_else(|| now.clone(), |i| i.first_deployed.clone()),
            last_deployed: now,
            status: status::PENDING_ROLLBACK.to_owned(),
            description: format!("Rollback to {to}"),
            notes: target
                .info
                .as_ref()
                .map(|i| i.notes.clone())
                .unwrap_or_default(),
            ..Info::default()
        });
        self.create_record(&release).await?;
        let result = async {
            self.run_hooks(&mut release, "pre-rollback", options)
                .await?;
            self.apply_manifest(&release.manifest, options).await?;
            self.delete_removed(&current.manifest, &release.manifest)
                .await?;
            self.run_hooks(&mut release, "post-rollback", options).await
        }
        .await;
        if let Err(error) = result {
            let description = format!("Rollback \"{}\" failed: {error}", self.name);
            self.fail(&mut release, description).await;
            return Err(error);
        }
        if current.status() == status::DEPLOYED || current.status() == status::FAILED {
            let mut old = current.clone();
            old.set_status(status::SUPERSEDED, "Superseded");
            self.storage.update(&old).await.map_err(|e| e.to_string())?;
        }
        self.supersede(&history, version).await?;
        release.set_status(status::DEPLOYED, format!("Rollback to {to}"));
        self.storage
            .update(&release)
            .await
            .map_err(|e| e.to_string())?;
        Ok(release)
    }

    /// `helm uninstall`; `Ok(None)` when there is no release.
    pub async fn uninstall(
        &self,
        options: &ActionOptions,
        keep_history: bool,
        propagation: DeletionPropagation,
    ) -> Result<Option<Release>, String> {
        let history = self
            .storage
            .history(&self.name)
            .await
            .map_err(|e| e.to_string())?;
        let Some(mut release) = history.last().map(|s| s.release.clone()) else {
            return Ok(None);
        };
        if release.status() == status::UNINSTALLED {
            if !keep_history {
                self.purge(&history).await?;
            }
            return Ok(Some(release));
        }
        release.set_status(
            status::UNINSTALLING,
            "Deletion in progress (or silently failing)",
        );
        if let Some(info) = release.info.as_mut() {
            info.deleted = release::now();
        }
        self.storage
            .update(&release)
            .await
            .map_err(|e| e.to_string())?;
        self.run_hooks(&mut release, "pre-delete", options).await?;
        let entries: Vec<InventoryEntry> = render::objects_of(&release.manifest)?
            .into_iter()
            .filter(|o| !kept(o))
            .map(|mut o| {
                ownership(&mut o, &self.name, &self.namespace);
                entry_of(&o)
            })
            .collect();
        let policy = match propagation {
            DeletionPropagation::Background => kube::api::PropagationPolicy::Background,
            DeletionPropagation::Foreground => kube::api::PropagationPolicy::Foreground,
            DeletionPropagation::Orphan => kube::api::PropagationPolicy::Orphan,
        };
        self.delete_entries(&entries, Some(policy)).await?;
        self.run_hooks(&mut release, "post-delete", options).await?;
        release.set_status(status::UNINSTALLED, "Uninstallation complete");
        if keep_history {
            self.storage
                .update(&release)
                .await
                .map_err(|e| e.to_string())?;
        } else {
            self.purge(&history).await?;
        }
        Ok(Some(release))
    }

    async fn purge(&self, history: &[crate::storage::Stored]) -> Result<(), String> {
        for stored in history {
            self.storage
                .delete(&self.name, stored.release.version)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// `helm test`: runs the test hooks (minus filtered ones), records their last run.
    pub async fn test(
        &self,
        filter: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Result<(Release, usize), (Release, String)> {
        let Ok(Some(mut release)) = self.storage.last(&self.name).await else {
            return Err((
                Release::default(),
                format!("release: not found: {}", self.name),
            ));
        };
        let mut selected: Vec<_> = release
            .hooks
            .iter()
            .filter(|h| h.events.iter().any(|e| e == "test") && filter(&h.name))
            .cloned()
            .collect();
        let count = selected.len();
        let options = ActionOptions {
            timeout,
            wait: true,
            hooks: true,
            force: false,
            crds: CrdPolicy::Skip,
            skip_schema_validation: true,
        };
        let result = hooks::run(
            &self.client,
            &self.manager,
            &self.namespace,
            &mut selected,
            "test",
            options.timeout,
        )
        .await;
        for hook in &mut release.hooks {
            if let Some(ran) = selected
                .iter()
                .find(|s| s.name == hook.name && s.kind == hook.kind)
            {
                hook.last_run = ran.last_run.clone();
            }
        }
        if let Err(e) = self.storage.update(&release).await {
            return Err((release, e.to_string()));
        }
        match result {
            Ok(()) => Ok((release, count)),
            Err(error) => Err((release, error)),
        }
    }

    /// Marks a pending release failed (Flux's unlock).
    pub async fn unlock(&self) -> Result<Option<Release>, String> {
        let Some(mut release) = self
            .storage
            .last(&self.name)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let previous = release.status().to_owned();
        release.set_status(
            status::FAILED,
            format!("Release unlocked from stale '{previous}' state"),
        );
        self.storage
            .update(&release)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Some(release))
    }
}
