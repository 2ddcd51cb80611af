//! GitRepository: Git operations and the reconciler.

pub mod auth;
pub mod checkout;
pub mod known_hosts;
pub mod reconciler;
pub mod tls;
pub mod verify;
