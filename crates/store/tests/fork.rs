//! A store opened before `fork()` (gunicorn --preload, multiprocessing) is
//! refused in the child with `StorageError`, at once and without hanging,
//! while the parent keeps working and loses nothing.

use connreq_core::{Error, MemberId, Network, Policy, Seq, Timestamp};
use connreq_store::{Durability, OpenOptions, Store};
use std::io::Read;
use std::os::fd::FromRawFd;
use std::time::{Duration, Instant};

const T: Timestamp = Timestamp(1_790_000_000_000);

/// What every use of the store must answer in the child.
fn refused(what: &str, result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::StorageError(m))
            if m == "opened in another process; open the database in each worker, or use the server" =>
        {
            String::new()
        }
        other => format!("{what}: {other:?}\n"),
    }
}

/// Forks; in the child runs `child` (which returns what went wrong, empty when
/// nothing did), sends its answer through a pipe and exits without running
/// destructors. The parent waits for it with a deadline (a hang is a failure)
/// and returns the answer.
fn in_forked_child(child: impl FnOnce() -> String) -> String {
    let mut fds = [0i32; 2];
    // SAFETY: plain system calls; the child only runs `child`, writes and exits.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        unsafe { libc::close(fds[0]) };
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child))
            .unwrap_or_else(|_| "the child panicked".to_owned());
        let bytes = answer.as_bytes();
        unsafe {
            libc::write(fds[1], bytes.as_ptr().cast(), bytes.len());
            libc::_exit(0);
        }
    }
    unsafe { libc::close(fds[1]) };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut status = 0;
    loop {
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if done == pid {
            break;
        }
        if Instant::now() > deadline {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            unsafe { libc::waitpid(pid, &mut status, 0) };
            panic!("the forked child hung");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the child died: status {status}");
    let mut answer = String::new();
    // SAFETY: the read end of the pipe made above, owned from here on.
    unsafe { std::fs::File::from_raw_fd(fds[0]) }.read_to_string(&mut answer).unwrap();
    answer
}

fn invite(store: &Store, from: u64, to: u64) -> Vec<u64> {
    (from..to)
        .map(|m| {
            store.register(MemberId(m), None, None, T).unwrap();
            store.send(MemberId(1), MemberId(m), None, None, T).unwrap().0
        })
        .collect()
}

#[test]
fn a_store_opened_before_fork_is_refused_in_the_child_and_the_parent_carries_on() {
    for durability in Durability::ALL {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let options = OpenOptions { policy: Some(Policy::standard()), durability, ..OpenOptions::default() };
        let store = Store::open_with(&path, options.clone()).unwrap();
        store.register(MemberId(1), None, None, T).unwrap();
        let before = invite(&store, 2, 42);
        let answer = in_forked_child(|| {
            let mut wrong = String::new();
            wrong += &refused("register", store.register(MemberId(100), None, None, T));
            wrong += &refused("send", store.send(MemberId(1), MemberId(2), None, None, T));
            wrong += &refused("stats", store.stats());
            wrong += &refused("events", store.events(Seq(0), None));
            wrong += &refused("check", store.check());
            wrong += &refused("flush", store.flush());
            wrong += &refused("backup", store.backup(path.with_file_name("copy")));
            wrong += &refused("repair", store.repair());
            wrong += &refused("close", store.close());
            // Dropping it in the child leaves the parent's files and threads alone.
            // SAFETY: the child's own copy of the store (the parent's is in
            // another address space); the child never uses `store` again.
            drop(unsafe { std::ptr::read(&store) });
            wrong
        });
        assert_eq!(answer, "", "{durability}");
        // The parent goes on: it hands out the next ids and keeps all of them.
        let after = invite(&store, 42, 82);
        assert_eq!(before, (1..=40).collect::<Vec<_>>());
        assert_eq!(after, (41..=80).collect::<Vec<_>>());
        assert_eq!(store.check().unwrap(), Vec::<String>::new());
        store.close().unwrap();
        drop(store);
        let reopened = Store::open_with(&path, OpenOptions::default()).unwrap();
        assert_eq!(reopened.stats().unwrap().requests["pending"], 80, "{durability}");
        assert_eq!(reopened.check().unwrap(), Vec::<String>::new());
        assert!(!std::fs::exists(path.with_file_name("copy")).unwrap(), "the child's backup wrote nothing");
    }
}

#[test]
fn opening_a_database_in_a_child_forked_after_one_was_opened_is_refused_not_hung() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let store = Store::open(&path, Policy::standard()).unwrap();
    store.register(MemberId(1), None, None, T).unwrap();
    store.close().unwrap();
    drop(store);
    // sled's I/O threads started in this process; a child has none of them.
    let answer = in_forked_child(|| {
        let inherited = |what: &str, result: Result<Store, Error>| match result {
            Err(Error::StorageError(m)) if m.contains("forked from one that had already opened") => {
                String::new()
            }
            Err(other) => format!("{what}: {other}\n"),
            Ok(_) => format!("{what}: opened\n"),
        };
        inherited("open", Store::open(&path, Policy::standard()))
            + &inherited("temporary", Store::temporary(Policy::standard()))
    });
    assert_eq!(answer, "");
    let store = Store::open_with(&path, OpenOptions::default()).unwrap();
    assert_eq!(store.stats().unwrap().events, 1);
}

/// The helper of the next test, run as a fresh process that has opened no
/// database: forks first, then the child opens the database and writes.
#[test]
fn helper_forking_before_opening() {
    let Ok(path) = std::env::var("CONNREQ_FORK_BEFORE_OPEN") else { return };
    let answer = in_forked_child(|| {
        let result = Store::open(&path, Policy::standard()).and_then(|store| {
            store.register(MemberId(7), None, None, T)?;
            store.close()
        });
        result.err().map(|e| e.to_string()).unwrap_or_default()
    });
    println!("child said: [{answer}]");
}

#[test]
fn a_worker_forked_before_any_database_was_opened_opens_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "helper_forking_before_opening", "--nocapture", "--test-threads=1"])
        .env("CONNREQ_FORK_BEFORE_OPEN", &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("child said: []"), "{stdout}");
    let store = Store::open_with(&path, OpenOptions::default()).unwrap();
    assert!(store.public_profile(MemberId(7)).is_ok());
}
