//! sled's file lock: one process at a time holds a database. sled releases
//! it from background threads a moment after the last handle is dropped, so
//! closing waits for that and opening waits a moment before calling a lock taken.

use std::path::Path;

/// Whether an I/O error is sled failing to take the database's file lock.
pub(crate) fn is_lock_error(e: &std::io::Error) -> bool {
    e.to_string().contains("lock")
}

/// Waits until no sled handle in this process holds the lock of the database at
/// `path`. sled releases it from background threads shortly after the last
/// handle is dropped; closing waits for that, so reopening right after a close
/// succeeds. Bounded: after 10 s the lock is left to whoever holds it.
pub(crate) fn wait_for_release(path: &Path) {
    let Ok(file) = std::fs::File::open(path.join("db")) else { return };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if file.try_lock().is_ok() {
            let _ = file.unlock();
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}
