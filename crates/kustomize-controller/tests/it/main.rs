//! kustomize-controller against the real API server, with the real source-controller and
//! a loopback Git server. Each test runs both binaries restricted to its own namespace.

mod harness;

mod apply;
mod cel;
mod chain;
mod features;
mod sops;
