//! Fork detection: a store opened before `fork()` is refused in the child.
//!
//! After `fork()` the child has a copy of the store's memory but none of its
//! threads, and shares the parent's open files: writing there would put a
//! second, diverging history into the same database (two workers handing out
//! the same request ids), and a flush waits for sled's threads, which do not
//! exist in the child (a hang). So the child must not touch the store at all.
//!
//! A `pthread_atfork` child handler, registered when the first store opens,
//! bumps a process-wide *fork generation*. Each store remembers the generation
//! it was opened in and compares it, with one relaxed atomic load (no system
//! call), before every use: in a child the numbers differ and the store
//! answers `StorageError` before taking any lock (a lock held by a parent's
//! thread at the fork would never be released in the child). Dropping such a
//! store in the child leaks its sled handles and model instead of closing
//! them: closing would flush and join threads that are not there.
//!
//! sled 0.34 also keeps a process-wide pool of I/O threads, started the first
//! time any database is opened and never again: in a child forked after that,
//! the pool's bookkeeping says its threads are waiting for work, but they do
//! not exist, so opening *any* database there waits for ever. [`may_start_sled`]
//! refuses that open with `StorageError` instead. Databases can be opened in
//! workers forked before the parent opened one (or in processes started
//! afresh: multiprocessing's "spawn" and "forkserver").

use connreq_core::Error;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

/// The number of forks this process is removed from its first ancestor that
/// registered the handler.
static GENERATION: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();

/// The fork generation in which sled's threads were started (`u64::MAX`: not yet).
static SLED_STARTED_IN: AtomicU64 = AtomicU64::new(u64::MAX);

/// What opening a database answers in a child forked after sled's threads started.
pub(crate) const INHERITED: &str = "this process was forked from one that had already opened a connreq \
     database, and the storage threads that opening started there do not exist here; open databases \
     only in processes forked before the parent opened any (for example in each worker, never in the \
     parent), or started afresh (multiprocessing's \"spawn\" or \"forkserver\"), or use the server";

/// Call before sled opens a database: refuses when sled's threads were
/// started before a fork (opening would hang), records the start otherwise.
pub(crate) fn may_start_sled() -> Result<(), Error> {
    let now = generation();
    match SLED_STARTED_IN.compare_exchange(u64::MAX, now, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => Ok(()),
        Err(started) if started == now => Ok(()),
        Err(_) => Err(Error::StorageError(INHERITED.to_owned())),
    }
}

/// What a store opened in another process answers.
pub(crate) const MESSAGE: &str =
    "opened in another process; open the database in each worker, or use the server";

#[cfg(unix)]
extern "C" fn in_child() {
    // Runs in the child, in the thread that called fork(), before fork returns.
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The current fork generation, registering the handler on first use; stores
/// call it when they open.
pub(crate) fn generation() -> u64 {
    REGISTER.call_once(|| {
        #[cfg(unix)]
        // SAFETY: registers a handler that only bumps an atomic, which is
        // async-signal-safe, as a handler run in a forked child must be.
        unsafe {
            libc::pthread_atfork(None, None, Some(in_child));
        }
    });
    GENERATION.load(Ordering::Relaxed)
}

/// Whether the process has forked since `opened_in` (a [`generation`]).
#[inline]
pub(crate) fn forked_since(opened_in: u64) -> bool {
    GENERATION.load(Ordering::Relaxed) != opened_in
}

/// The error a store opened before a fork answers in the child.
pub(crate) fn error() -> Error {
    Error::StorageError(MESSAGE.to_owned())
}
