//! notification-controller: forwards Flux events to chat, incident and webhook services,
//! and turns incoming webhooks into reconcile requests.
//!
//! Events in (`--events-addr`, `POST /`): read the body (3 MiB, 413) → decode Flux's event
//! JSON (400) → keep only the event's own metadata ([`event::metadata`]) → drop duplicates
//! per `--rate-limit-interval` (429, [`event::ratelimit`]) → match the Alerts kept in
//! memory by watches ([`index`], [`event::matching`]) → per Alert: combine metadata, read
//! the Provider and its Secrets, build the service's payload ([`provider`]) and send it in
//! the background with the provider's timeout and retries ([`dispatch`]) → 202.
//!
//! Webhooks in (`--receiverAddr`, `/hook/<sha256>`): the Receiver reconciler
//! ([`receiver::reconciler`]) publishes `status.webhookPath`; the server finds the Receiver
//! by path, verifies the request as its sender signs it ([`receiver::validate`]) and
//! annotates the selected objects with `reconcile.fluxcd.io/requestedAt`
//! ([`receiver::annotate`]).

mod args;
mod dispatch;
mod event;
mod filter;
mod http_metrics;
mod index;
mod jwt;
mod provider;
mod receiver;
mod run;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args::Args::parse();
    run::run(args).await
}
