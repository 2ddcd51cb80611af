//! Shared machinery of the ferroflux controllers, with the semantics of Flux's
//! `fluxcd/pkg/runtime`.
//!
//! A controller binary parses [`flags::RuntimeArgs`], installs [`logging`], starts the
//! [`server`]s for metrics and health, waits for [`leader`]ship, and hands each object
//! to [`driver::reconcile`], which runs the kind's [`driver::Reconciler`] and then —
//! on every path — derives [`conditions`] from the outcome and its
//! [`error::Disposition`], records [`events`] and [`metrics`], and patches the status.

pub mod bootstrap;
pub mod cel;
pub mod clients;
pub mod clock;
pub mod conditions;
pub mod driver;
pub mod duration;
pub mod error;
pub mod events;
pub mod flags;
pub mod health;
pub mod leader;
pub mod logging;
pub mod lookup;
pub mod metrics;
pub mod object;
pub mod server;
pub mod ssa;
pub mod watches;

pub use driver::{Context, Outcome, Reconciler};
pub use error::{Disposition, ReconcileError};
pub use object::{FluxObject, FluxStatus};
