//! source-controller against the real API server and real Git servers on loopback.
//! Each test runs the `source-controller` binary restricted to its own namespace.

mod harness;
mod helm_harness;

mod bucket_basics;
mod git_auth;
mod git_bad_input;
mod git_basics;
mod git_events;
mod git_failures;
mod git_github_app;
mod git_mtls;
mod git_proxy;
mod git_submodules;
mod git_support;
mod git_verify;
mod helm_chart;
mod helm_deps;
mod helm_oci;
mod helm_repository;
mod oci_basics;
mod oci_failures;
mod oci_support;
mod oci_verify;
