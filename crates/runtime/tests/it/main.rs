//! Runtime tests against the real API server (`cargo xtask testenv up`).

mod driver;
mod events;
mod health;
mod leader;
mod ssa;
