//! `source.toolkit.fluxcd.io/v1`.

mod git_repository;

pub use git_repository::*;
