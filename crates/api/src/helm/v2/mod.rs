//! `helm.toolkit.fluxcd.io/v2`.
//!
//! The spec lives in `helm_release`, the options of each Helm action in a module of its
//! own, and the observed state with its release history in `status`.

mod helm_release;
mod install;
mod rollback;
mod status;
mod test;
mod uninstall;
mod upgrade;

pub use helm_release::*;
pub use install::*;
pub use rollback::*;
pub use status::*;
pub use test::*;
pub use uninstall::*;
pub use upgrade::*;

pub use crate::meta::{IgnoreRule, ResourceInventory, ResourceRef};
