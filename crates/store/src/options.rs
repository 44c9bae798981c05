//! How a store is opened: policy, durability, cache.

use connreq_core::Policy;

/// When a command's write reaches the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// `"command"`, the default: every command is durable before it returns
    /// (as SQLite and PostgreSQL commit by default). Concurrent commands share
    /// flushes (group commit), so many threads together pay for far fewer
    /// flushes than commands.
    #[default]
    Command,
    /// `"background"`: every write is atomic at once and durable within
    /// `flush_every_ms` (500 ms by default) through the store's background
    /// flush, or at once on [`crate::Store::flush`]. A crash loses at most
    /// that window, never half a command.
    Background,
    /// `"manual"`: nothing is flushed until [`crate::Store::flush`] or
    /// closing. For bulk loads and simulations that flush at the end.
    Manual,
}

impl Durability {
    /// Every mode, with its name.
    pub const ALL: [Durability; 3] = [Durability::Command, Durability::Background, Durability::Manual];

    /// The mode's name: `"command"`, `"background"` or `"manual"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Command => "command",
            Durability::Background => "background",
            Durability::Manual => "manual",
        }
    }

    /// The mode named `name`; `InvalidInput` naming the choices otherwise.
    pub fn parse(name: &str) -> Result<Self, connreq_core::Error> {
        Self::ALL.into_iter().find(|d| d.as_str() == name).ok_or_else(|| {
            connreq_core::Error::InvalidInput(format!(
                "durability must be \"command\", \"background\" or \"manual\", not {name:?}"
            ))
        })
    }
}

impl std::fmt::Display for Durability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Options for [`crate::Store::open_with`].
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// The policy to run under. `None` keeps the database's own (the standard
    /// policy for a new database). A policy different from the stored one is
    /// recorded as a `policy_changed` event and applies from then on.
    pub policy: Option<Policy>,
    /// When writes become durable (default: every command before it returns).
    pub durability: Durability,
    /// Open for reading only: commands are refused with `StorageError`, and
    /// opening and closing write nothing (no policy change, no format or id
    /// record, no merge, no snapshot). A database that does not exist is not
    /// created. `policy` must then be `None` or the database's own.
    pub read_only: bool,
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
    /// The id of a database this open creates (`None`: 16 new random bytes).
    /// A read replica takes its primary's, so that it names the same network
    /// (its feed, Message-IDs, unsubscribe links) and can be promoted in its
    /// place. Ignored when the database exists.
    pub database_id: Option<[u8; 16]>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            policy: None,
            durability: Durability::Command,
            read_only: false,
            flush_every_ms: 500,
            cache_capacity: 16 * 1024 * 1024,
            mail_from: "connreq <notifications@localhost>".to_owned(),
            snapshot_after_events: 10_000,
            database_id: None,
        }
    }
}

impl OpenOptions {
    /// Defaults, with `policy` applied.
    pub fn with_policy(policy: Policy) -> Self {
        Self { policy: Some(policy), ..Self::default() }
    }

    /// Defaults, for reading only (see [`OpenOptions::read_only`]).
    pub fn read_only() -> Self {
        Self { read_only: true, ..Self::default() }
    }
}
