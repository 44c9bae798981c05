//! Flushing: every flush of a database goes through one [`Flusher`], which
//! shares flushes between concurrent commands (group commit) and runs the
//! background flush of [`crate::Durability::Background`].
//!
//! **Group commit.** The flusher counts writes: each write takes the next
//! *write generation* (after sled has it), and the flusher remembers the
//! *durable generation*, the highest write generation a completed flush
//! covers. A flush covers every generation taken before it started, so a
//! command waiting for generation `g` returns as soon as a flush that started
//! after its write has completed, whoever ran it; it flushes itself only when
//! no flush in progress or completed covers it. While one flush runs, the
//! commands that finish writing meanwhile wait for it, and the next flush
//! covers them all: under load, one flush serves many commands.
//!
//! **One flush at a time.** sled 0.34 has its own background flusher
//! (`flush_every_ms`), but that thread can race an explicit `flush()` from
//! another thread and read an I/O buffer the other flush has just freed (a use
//! after free seen under AddressSanitizer). connreq therefore never turns
//! sled's flusher on, and runs at most one sled flush at a time: its own
//! thread flushes on the interval, through the same path as every command,
//! `flush()` and `close()`.
//!
//! **To the disk.** On Linux sled writes with `sync_file_range`, which waits
//! for the data to reach the device but neither for the device's cache nor
//! for the file's new length (an append) to be recorded. A flush of a database
//! on disk therefore ends with `fdatasync` of sled's file, so a durable
//! command survives the loss of power too, not only the death of the process.

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// The flush state shared by the writers, `flush` and the background thread.
struct State {
    /// The highest write generation a completed flush covers.
    durable: u64,
    /// Whether a flush is running (then the others wait for it).
    flushing: bool,
}

struct Shared {
    db: sled::Db,
    /// sled's data file, synced after each flush (`None` for a temporary database).
    file: Option<File>,
    /// The last write generation handed out.
    written: AtomicU64,
    state: Mutex<State>,
    /// Signalled when a flush ends.
    flushed: Condvar,
    /// Flushes actually run (for tests and the benchmark).
    flushes: AtomicU64,
}

/// Serialises and shares the flushes of one database and runs its background flush.
pub(crate) struct Flusher {
    shared: Arc<Shared>,
    /// `true` once the background thread is asked to stop.
    stop: Arc<(Mutex<bool>, Condvar)>,
    background: Option<JoinHandle<()>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// Waits until a flush covering generation `target` has completed, running
    /// one if none that could cover it is in progress.
    fn flush_through(&self, target: u64) -> sled::Result<()> {
        let mut state = locked(&self.state);
        loop {
            if state.durable >= target {
                return Ok(());
            }
            if state.flushing {
                // The flush in progress may have started before `target` was
                // written; if so, the next round flushes again.
                state = self.flushed.wait(state).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            state.flushing = true;
            drop(state);
            // Every write that took a generation up to here is in sled already.
            let covers = self.written.load(Ordering::Acquire);
            let result = self.run_flush();
            state = locked(&self.state);
            state.flushing = false;
            if result.is_ok() {
                state.durable = state.durable.max(covers);
            }
            self.flushed.notify_all();
            // A failure is reported to this caller; the others waiting try
            // themselves (and most likely report it too).
            result?;
        }
    }

    fn run_flush(&self) -> sled::Result<()> {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.db.flush()?;
        if let Some(file) = &self.file {
            file.sync_data()?;
        }
        Ok(())
    }
}

impl Flusher {
    /// Flushes of `db` (whose data file is `file`, synced after each flush
    /// when given); with `every`, a thread also flushes it at that interval.
    pub(crate) fn new(db: sled::Db, file: Option<File>, every: Option<Duration>) -> Self {
        let shared = Arc::new(Shared {
            db,
            file,
            written: AtomicU64::new(0),
            state: Mutex::new(State { durable: 0, flushing: false }),
            flushed: Condvar::new(),
            flushes: AtomicU64::new(0),
        });
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let background = every.and_then(|every| {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::Builder::new()
                .name("connreq-flush".into())
                .spawn(move || {
                    let (stopped, wake) = &*stop;
                    let mut guard = locked(stopped);
                    while !*guard {
                        guard = wake.wait_timeout(guard, every).unwrap_or_else(|p| p.into_inner()).0;
                        if *guard {
                            break;
                        }
                        drop(guard);
                        // Only when something was written since the last flush.
                        // A failed background flush is retried on the next
                        // tick; an explicit flush reports the error.
                        let _ = shared.flush_through(shared.written.load(Ordering::Acquire));
                        guard = locked(stopped);
                    }
                })
                // Without a thread, writes still become durable on every
                // explicit flush and on close.
                .ok()
        });
        Self { shared, stop, background }
    }

    /// Records that a write has been handed to sled; returns its generation,
    /// to wait for with [`Flusher::flush_through`]. Call it after the write.
    pub(crate) fn wrote(&self) -> u64 {
        self.shared.written.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Makes the write of generation `generation` (and all before it) durable,
    /// sharing a flush with concurrent callers where one covers it.
    pub(crate) fn flush_through(&self, generation: u64) -> sled::Result<()> {
        self.shared.flush_through(generation)
    }

    /// Makes every write made before the call durable, whether or not it took
    /// a generation (metadata, merges): waits for a flush that starts after
    /// the call.
    pub(crate) fn flush(&self) -> sled::Result<()> {
        let generation = self.wrote();
        self.flush_through(generation)
    }

    /// How many flushes have run.
    pub(crate) fn flushes(&self) -> u64 {
        self.shared.flushes.load(Ordering::Relaxed)
    }

    /// Whether a background thread is flushing.
    #[cfg(test)]
    fn runs_in_background(&self) -> bool {
        self.background.is_some()
    }

    /// Stops the background thread (if any) and waits for it to end.
    pub(crate) fn stop(&mut self) {
        {
            let (stopped, wake) = &*self.stop;
            *locked(stopped) = true;
            wake.notify_all();
        }
        if let Some(thread) = self.background.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> sled::Db {
        sled::Config::new().temporary(true).flush_every_ms(None).open().unwrap()
    }

    #[test]
    fn stopping_ends_the_background_thread_at_once_and_twice_is_fine() {
        let mut f = Flusher::new(db(), None, Some(Duration::from_secs(3600)));
        assert!(f.runs_in_background());
        f.stop();
        assert!(!f.runs_in_background());
        f.stop();
    }

    #[test]
    fn explicit_flushes_from_many_threads_beside_the_background_one_all_succeed() {
        let database = db();
        let f = Arc::new(Flusher::new(database.clone(), None, Some(Duration::from_millis(1))));
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let (f, database) = (f.clone(), database.clone());
                s.spawn(move || {
                    for i in 0..200u64 {
                        database.insert((t * 1000 + i).to_be_bytes(), vec![0u8; 64]).unwrap();
                        f.flush().unwrap();
                    }
                });
            }
        });
        assert_eq!(database.len(), 800);
    }

    #[test]
    fn a_write_already_covered_by_a_completed_flush_does_not_flush_again() {
        let f = Flusher::new(db(), None, None);
        let (a, b) = (f.wrote(), f.wrote());
        f.flush_through(b).unwrap();
        assert_eq!(f.flushes(), 1);
        // `a` was written before the flush that covered `b` started.
        f.flush_through(a).unwrap();
        f.flush_through(b).unwrap();
        assert_eq!(f.flushes(), 1);
        // A later write needs a flush of its own.
        let c = f.wrote();
        f.flush_through(c).unwrap();
        assert_eq!(f.flushes(), 2);
        // `flush()` always waits for a flush that starts after it is called.
        f.flush().unwrap();
        assert_eq!(f.flushes(), 3);
    }

    #[test]
    fn concurrent_writers_share_flushes() {
        const THREADS: u64 = 8;
        const EACH: u64 = 200;
        let database = db();
        let f = Arc::new(Flusher::new(database.clone(), None, None));
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (f, database) = (f.clone(), database.clone());
                s.spawn(move || {
                    for i in 0..EACH {
                        database.insert((t * 1000 + i).to_be_bytes(), vec![0u8; 64]).unwrap();
                        let generation = f.wrote();
                        f.flush_through(generation).unwrap();
                    }
                });
            }
        });
        assert_eq!(database.len() as u64, THREADS * EACH);
        // Every write was covered, by at most one flush each; usually far fewer.
        assert!(f.flushes() <= THREADS * EACH, "{} flushes", f.flushes());
    }
}
