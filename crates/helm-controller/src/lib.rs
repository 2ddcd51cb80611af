//! helm-controller: installs, upgrades, tests, rolls back and uninstalls HelmReleases with
//! the native Helm engine (crates/helm), storing releases exactly as Helm 3 does.
//!
//! Pipeline: chart source (the generated HelmChart or `chartRef`) → dependencies → values
//! (`valuesFrom`, `values`) → chart download (digest-verified) → release state machine
//! ([`state`]) → Helm actions ([`actions`]: hooks, server-side apply, kstatus waits) →
//! release storage ([`storage`]) → status (conditions, history) and events.

pub mod actions;
pub mod args;
mod atomic;
pub mod clients;
pub mod dependencies;
pub mod drift;
pub mod error;
pub mod history;
pub mod hooks;
pub mod reconciler;
pub mod render;
pub mod run;
pub mod source;
pub mod state;
pub mod storage;
pub mod values;
