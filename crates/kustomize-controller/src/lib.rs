//! kustomize-controller: builds Kustomizations from source artifacts and applies them.
//!
//! Pipeline: source artifact (download, digest check, safe extraction) → dependencies →
//! kustomization.yaml (Flux's generator and spec overlays) → native kustomize build →
//! postBuild substitution → server-side apply in stages → inventory and prune → health
//! checks → status (`Ready`, `Healthy`, inventory, history) and events.
//!
//! The library holds the pipeline so that `ferroflux build` renders Kustomizations offline
//! with the same code.

pub mod args;
pub mod build;
pub mod clients;
pub mod decrypt;
pub mod dependencies;
pub mod error;
pub mod generator;
pub mod reconciler;
pub mod run;
pub mod sops;
pub mod source;
pub mod substitute;
