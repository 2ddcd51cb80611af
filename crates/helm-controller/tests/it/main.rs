//! Integration tests of the helm-controller against the real control plane and the real
//! `helm` CLI.

mod e2e;
mod features;
mod harness;
mod release;
mod remediation;
