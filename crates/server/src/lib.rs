//! # connreq-server
//!
//! connreq as an HTTP service (SPEC §12): `connreq serve` runs it on the
//! embedded database, so many processes and machines use one network.
//!
//! * [`routes`]: the HTTP API v1 on axum, and its OpenAPI document (utoipa).
//!   Handlers translate HTTP to `connreq_core` commands and queries; every
//!   decision is the core's.
//! * [`writer`]: the one thread that carries out commands, with group commit:
//!   an answer is given only after the flush that made the command durable.
//! * [`auth`], [`token`], [`secrets`]: the service key and member tokens.
//! * [`sse`]: live notifications; [`mailer`]: the email loop.
//! * [`feed`]: the event log on NATS JetStream (`--publish`) and the read
//!   replicas fed from it (`--replica-of`).
//! * [`web`]: the web interface for members and moderators at `/` (SPEC §14).
//! * [`client`]: a blocking client of the API (the CLI's `--server`, Python's `Client`).

#![warn(missing_docs)]

pub mod auth;
pub mod client;
pub mod command;
pub mod error;
pub mod extract;
pub mod feed;
pub mod mailer;
pub mod metrics;
pub mod reply;
pub mod routes;
pub mod secrets;
pub mod serve;
pub mod sse;
pub mod state;
pub mod time;
pub mod token;
pub mod web;
pub mod wire;
pub mod writer;

pub use client::{Client, ClientError};
pub use serve::{LogFormat, ServeConfig, serve};
