//! API compatibility of the Rust types and generated CRDs against the real Kubernetes API
//! server started by `cargo xtask testenv up` (set `KUBECONFIG`; the tests never skip).
//!
//! - `objects`: complete examples of every kind, and every Flux object of the shared
//!   fixtures, are accepted, keep every field, and survive server JSON → Rust → JSON.
//! - `rejection`: invalid enums, durations, patterns and missing required fields are refused
//!   with HTTP 422 and the API server's own validation message.
//! - `cel`: every CEL rule of every generated CRD is broken once and refused with its message.
//! - `columns`: `kubectl get` prints Flux's printer columns with values.

mod cel;
mod cluster;
mod columns;
mod fixtures;
mod json;
mod kinds;
mod objects;
mod rejection;
