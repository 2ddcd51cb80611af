//! `notification.toolkit.fluxcd.io/v1beta3`.
//!
//! Provider and Alert carry no status: the notification-controller reads them when an
//! event comes in and has nothing to report about them.

mod alert;
mod provider;

pub use alert::*;
pub use provider::*;
