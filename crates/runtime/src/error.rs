//! How a failed reconciliation is handled, decided by the error itself.

use std::time::Duration;

/// What the driver does with a failed reconciliation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Retrying cannot help until the spec changes: `Stalled=True`, a Warning event, no
    /// requeue (Flux's terminal errors, e.g. an invalid URL or CEL expression).
    Stalled,
    /// Not an error, something to wait for: `Ready=False` with the reason, a Normal event,
    /// requeue after the given time (e.g. a dependency that is not ready yet).
    Wait(Duration),
    /// A transient failure: `Ready=False`, a Warning event, requeue after the object's
    /// retry interval.
    Retry,
}

/// An error a reconciler returns: it names Flux's reason and how to handle it.
pub trait ReconcileError: std::error::Error + Send + Sync + 'static {
    /// Flux's reason string for the `Ready` (and `Stalled`) condition.
    fn reason(&self) -> &str;
    /// How the driver handles the error.
    fn disposition(&self) -> Disposition;
    /// Whether the failure is also published as an event. Flux only logs some waits (a
    /// source that has no artifact yet): the watch on the source brings the object back.
    fn emits_event(&self) -> bool {
        true
    }
    /// The reason and message of the `Stalled` condition when they differ from `Ready`'s
    /// (Flux's `RetriesExceeded`: Ready keeps the last failure, Stalled says why it stops).
    fn stalled_condition(&self) -> Option<(&str, String)> {
        None
    }
}
