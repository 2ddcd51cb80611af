//! notification-controller against the real API server: each test runs the
//! `notification-controller` binary restricted to its own namespace, with loopback HTTP
//! sinks standing in for Slack and webhook services.

mod harness;
mod sink;

mod alerts;
mod gitops_loop;
mod providers;
mod receivers;
mod servers;
