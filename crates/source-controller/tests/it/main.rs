//! source-controller against the real API server and real Git servers on loopback.
//! Each test runs the `source-controller` binary restricted to its own namespace.

mod harness;
mod helm_harness;

mod bucket_basics;
mod git_auth;
mod git_basics;
mod git_failures;
mod git_verify;
mod helm_chart;
mod helm_repository;
mod oci_basics;
mod oci_failures;
mod oci_support;
