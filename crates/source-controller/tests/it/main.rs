//! source-controller against the real API server and real Git servers on loopback.
//! Each test runs the `source-controller` binary restricted to its own namespace.

mod harness;

mod git_auth;
mod git_basics;
mod git_failures;
mod git_verify;
