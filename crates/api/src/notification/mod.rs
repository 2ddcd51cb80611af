//! The `notification.toolkit.fluxcd.io` API group: events sent out (Provider, Alert) and
//! webhooks taken in (Receiver).

pub mod v1;
pub mod v1beta3;

/// The API group of the notification kinds.
pub const GROUP: &str = "notification.toolkit.fluxcd.io";
