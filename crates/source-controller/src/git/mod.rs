//! GitRepository: Git operations and the reconciler.

pub mod auth;
pub mod bridge;
pub mod checkout;
pub mod github_app;
pub mod known_hosts;
pub mod proxy;
pub mod reconciler;
pub mod remote;
pub mod securejoin;
pub mod tls;
pub mod tunnel;
pub mod verify;
