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
//! - **Durable before it returns.** By default every command is on disk
//!   before it returns; concurrent commands share flushes (group commit).
//!   `Durability::Background` (within 500 ms) and `Durability::Manual` (on
//!   [`Store::flush`] only) trade that for speed; see [`Durability`].
//! - **One process.** A store opened before `fork()` is refused in the child
//!   with `StorageError`; the parent carries on.
//! - **Read-only opens write nothing** ([`OpenOptions::read_only`]).
//! - **Damage is reported, and repaired.** A database whose log is damaged
//!   behind its snapshot opens with [`Store::damage`] set, serves the state
//!   it can trust and refuses commands until [`Store::repair`] rewrites it.
//! - **Online backup.** [`Store::backup`] writes a consistent copy while the
//!   store keeps serving.
//! - **Checked.** [`Store::check`] verifies every invariant and that the state
//!   rebuilt from the log equals the live state.
//! - **Clear errors.** A file, a foreign directory, another format version, a
//!   damaged log or a database open in another process give `StorageError`
//!   saying which; nothing panics.

mod backup;
mod codec;
mod columns;
mod damage;
mod dispatch;
mod erasure;
mod errors;
mod flusher;
mod fork;
mod idempotency;
mod legacy;
mod legacy3;
mod lock;
mod log;
pub mod mail;
mod open;
mod options;
mod recovery;
mod repair;
mod replica;
mod snapshot;
mod store;
pub mod unsubscribe;
mod upgrade;

pub use backup::BackupReport;
pub use codec::FORMAT;
pub use columns::{EventColumns, OptionalColumn};
pub use connreq_core::{Error, Network};
pub use damage::Damage;
pub use dispatch::{Delivery, DispatchReport};
pub use idempotency::Recorded;
pub use options::{Durability, OpenOptions};
pub use repair::RepairReport;
pub use store::{Store, now};
