//! # connreq-store
//!
//! The connreq API of `connreq_core::Network` on an embedded sled database.
//!
//! ```
//! use connreq_core::{MemberId, Network, Policy};
//! use connreq_store::{Store, now};
//!
//! let store = Store::temporary(Policy::standard())?;
//! store.register(MemberId(1), Some("ada@example.com"), Some("Ada"), now())?;
//! store.register(MemberId(2), None, Some("Bob"), now())?;
//! let id = store.send(MemberId(1), MemberId(2), None, None, now())?;
//! store.accept(MemberId(2), id, now())?;
//! store.flush()?; // durable from here on
//! assert_eq!(store.connections(MemberId(1))?, vec![MemberId(2)]);
//! # Ok::<(), connreq_core::Error>(())
//! ```
//!
//! ## Guarantees
//! - **Atomic commands.** A command's events are one sled insert: after a crash
//!   either all of a command is there or none of it.
//! - **Durable on flush.** Everything that returned before [`Store::flush`] is
//!   on disk when it returns. Without it, the store's background flush makes writes
//!   durable within `flush_every_ms` (500 ms); see [`Durability`].
//! - **Checked.** [`Store::check`] verifies every invariant and that the state
//!   rebuilt from the log equals the live state.
//! - **Clear errors.** A file, a foreign directory, another format version, a
//!   damaged log or a database open in another process give `StorageError`
//!   saying which; nothing panics.

mod codec;
mod columns;
mod dispatch;
mod errors;
mod flusher;
mod idempotency;
mod legacy;
mod lock;
mod log;
pub mod mail;
mod open;
mod options;
mod snapshot;
mod store;
mod upgrade;

pub use codec::FORMAT;
pub use columns::{EventColumns, OptionalColumn};
pub use connreq_core::{Error, Network};
pub use dispatch::DispatchReport;
pub use idempotency::Recorded;
pub use options::{Durability, OpenOptions};
pub use store::{Store, now};
