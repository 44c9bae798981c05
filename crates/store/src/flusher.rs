//! Flushing: every flush of a database goes through one [`Flusher`], which
//! also runs the background flush of [`crate::Durability::Background`].
//!
//! sled 0.34 has its own background flusher (`flush_every_ms`), but that
//! thread can race an explicit `flush()` from another thread and read an I/O
//! buffer the other flush has just freed (a use after free seen under
//! AddressSanitizer). connreq therefore never turns sled's flusher on: its own
//! thread flushes on the interval, and it and every explicit flush (`flush`,
//! `close`, per-command durability) take the same lock, so two sled flushes
//! never run at once.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// Serialises the flushes of one database and runs its background flush.
pub(crate) struct Flusher {
    db: sled::Db,
    /// Held for the length of every flush.
    lock: Arc<Mutex<()>>,
    /// `true` once the background thread is asked to stop.
    stop: Arc<(Mutex<bool>, Condvar)>,
    background: Option<JoinHandle<()>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Flusher {
    /// Flushes of `db`; with `every`, a thread also flushes it at that interval.
    pub(crate) fn new(db: sled::Db, every: Option<Duration>) -> Self {
        let lock = Arc::new(Mutex::new(()));
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let background = every.and_then(|every| {
            let (db, lock, stop) = (db.clone(), lock.clone(), stop.clone());
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
                        {
                            let _flushing = locked(&lock);
                            // A failed background flush is retried on the next
                            // tick; an explicit flush reports the error.
                            let _ = db.flush();
                        }
                        guard = locked(stopped);
                    }
                })
                // Without a thread, writes still become durable on every
                // explicit flush and on close.
                .ok()
        });
        Self { db, lock, stop, background }
    }

    /// Makes every write made before the call durable.
    pub(crate) fn flush(&self) -> sled::Result<usize> {
        let _flushing = locked(&self.lock);
        self.db.flush()
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
        let mut f = Flusher::new(db(), Some(Duration::from_secs(3600)));
        assert!(f.runs_in_background());
        f.stop();
        assert!(!f.runs_in_background());
        f.stop();
    }

    #[test]
    fn explicit_flushes_from_many_threads_beside_the_background_one_all_succeed() {
        let database = db();
        let f = Arc::new(Flusher::new(database.clone(), Some(Duration::from_millis(1))));
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
}
