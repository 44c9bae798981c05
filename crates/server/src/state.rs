//! What every handler shares: the store, the writer, the secrets, the
//! metrics, the live-notification hub and the shutdown signal.

use crate::feed::status::ReplicaStatus;
use crate::metrics::Metrics;
use crate::secrets::Secrets;
use crate::sse::Hub;
use crate::writer::Writer;
use connreq_store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use tokio::sync::watch;

/// The server's shared state.
pub struct App {
    /// The database; queries read its model directly, commands go through `writer`.
    pub store: Arc<Store>,
    /// The one writer thread.
    pub writer: Writer,
    /// Credentials.
    pub secrets: Secrets,
    /// One-click unsubscribe links, when the server has a public URL (SPEC §10).
    pub unsubscribe: Option<connreq_store::unsubscribe::Unsubscribe>,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Open notification streams by member.
    pub hub: Arc<Hub>,
    /// Set when a flush failed: commands are refused, `/healthz` says `degraded`.
    pub degraded: Arc<AtomicBool>,
    /// Becomes `true` when the server shuts down (streams end).
    pub shutdown: watch::Receiver<bool>,
    /// On a read replica, its lag (commands are refused).
    pub replica: Option<Arc<ReplicaStatus>>,
    /// With `--publish`, the last event JetStream acknowledged.
    pub published: Option<Arc<AtomicU64>>,
    /// Whether the web interface offers the demo's sign-in as any member (`serve --demo`).
    pub demo: bool,
}
