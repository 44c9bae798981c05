//! How a store is opened: policy, durability, cache.

use connreq_core::Policy;

/// When a command's write reaches the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every write is atomic at once and durable within `flush_every_ms`
    /// (500 ms by default) through the store's background flush, or at once on
    /// [`crate::Store::flush`]. A crash loses at most that window, never half a command.
    #[default]
    Background,
    /// Every command is durable before it returns (an fsync per command;
    /// concurrent commands share flushes).
    EveryCommand,
    /// Nothing is flushed in the background; only [`crate::Store::flush`] (and
    /// closing) makes writes durable. For bulk loads.
    Manual,
}

/// Options for [`crate::Store::open_with`].
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// The policy to run under. `None` keeps the database's own (the standard
    /// policy for a new database). A policy different from the stored one is
    /// recorded as a `policy_changed` event and applies from then on.
    pub policy: Option<Policy>,
    /// When writes become durable.
    pub durability: Durability,
    /// Background flush interval for [`Durability::Background`], in milliseconds.
    pub flush_every_ms: u64,
    /// sled's page cache, in bytes. The state the rules need is held in memory
    /// by the store itself, so a small cache is enough.
    pub cache_capacity: u64,
    /// The `From:` address of emails.
    pub mail_from: String,
    /// On close, save a snapshot of the model if at least this many events
    /// were added since the last one, so the next open need not replay them.
    pub snapshot_after_events: u64,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            policy: None,
            durability: Durability::Background,
            flush_every_ms: 500,
            cache_capacity: 16 * 1024 * 1024,
            mail_from: "connreq <notifications@localhost>".to_owned(),
            snapshot_after_events: 10_000,
        }
    }
}

impl OpenOptions {
    /// Defaults, with `policy` applied.
    pub fn with_policy(policy: Policy) -> Self {
        Self { policy: Some(policy), ..Self::default() }
    }
}
