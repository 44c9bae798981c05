//! Hostile and heavy input: each gets a clear error and leaves the database
//! sound (`check()` passes afterwards).

use connreq_core::{Error, MemberId, Network, Policy, Seq, Timestamp};
use connreq_store::Store;

const T: Timestamp = Timestamp(1_790_000_000_000);

/// A tmpfs of a chosen size mounted for one test (needs root, as the tests
/// and CI run here), unmounted when dropped.
struct SmallFs {
    _dir: tempfile::TempDir,
    mount: std::path::PathBuf,
}

impl SmallFs {
    fn new(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("fs");
        std::fs::create_dir(&mount).unwrap();
        let fs = Self { _dir: dir, mount };
        fs.mount(&["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]);
        fs
    }

    fn mount(&self, args: &[&str]) {
        let status = std::process::Command::new("mount").args(args).arg(&self.mount).status().unwrap();
        assert!(status.success(), "mount {args:?} (the tests run as root, as CI does)");
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.mount).status();
    }
}

fn store_with_two() -> Store {
    let store = Store::temporary(Policy::standard()).unwrap();
    store.register(MemberId(1), Some("a@example.com"), None, T).unwrap();
    store.register(MemberId(u64::MAX), Some("z@example.com"), None, T).unwrap();
    store
}

#[test]
fn a_one_megabyte_note_is_too_long_and_changes_nothing() {
    let store = store_with_two();
    let note = "x".repeat(1 << 20);
    match store.send(MemberId(1), MemberId(u64::MAX), Some(&note), None, T) {
        Err(Error::NoteTooLong { chars, max }) => assert_eq!((chars, max), (1 << 20, 300)),
        other => panic!("{other:?}"),
    }
    let message = "y".repeat(1 << 20);
    let id = store.send(MemberId(1), MemberId(u64::MAX), None, None, T).unwrap();
    assert!(matches!(
        store.decline(MemberId(u64::MAX), id, Some(&message), T),
        Err(Error::NoteTooLong { .. })
    ));
    assert_eq!(store.events(Seq(0), None).unwrap().len(), 3);
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[test]
fn a_ten_million_character_name_is_refused_at_once() {
    let store = store_with_two();
    let name = "n".repeat(10_000_000);
    match store.register(MemberId(7), None, Some(&name), T) {
        Err(Error::InvalidInput(m)) => assert!(m.contains("longer than 200"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(store.standing(MemberId(7)), Err(Error::UnknownMember(_))));
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[test]
fn ids_at_the_limits_of_u64_work_like_any_other() {
    let store = store_with_two();
    store.register(MemberId(0), None, None, T).unwrap();
    let id = store.send(MemberId(0), MemberId(u64::MAX), None, None, T).unwrap();
    store.accept(MemberId(u64::MAX), id, T).unwrap();
    assert_eq!(store.connections(MemberId(u64::MAX)).unwrap(), vec![MemberId(0)]);
    assert!(matches!(store.request(connreq_core::RequestId(u64::MAX)), Err(Error::NotFound(_))));
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

/// A database on a 3 MB file system: commands fail with `StorageError` once
/// the disk is full, never a panic, and the database reopens sound with
/// every command that succeeded.
#[test]
fn a_full_disk_gives_storage_errors_and_loses_nothing_that_succeeded() {
    let fs = SmallFs::new("3m");
    let path = fs.mount.join("db");
    let note = "a note long enough to fill a small disk quickly ".repeat(6);
    let (mut ok, mut failed) = (0u64, None);
    {
        let store = match Store::open(&path, Policy::standard()) {
            Ok(s) => s,
            Err(e) => panic!("a fresh database fits in 3 MB: {e}"),
        };
        store.register(MemberId(1), None, None, T).unwrap();
        for m in 2..200_000u64 {
            let result = store
                .register(MemberId(m), Some(&format!("m{m}@example.com")), None, T)
                .and_then(|()| store.send(MemberId(m), MemberId(1), Some(note.trim()), None, T).map(drop))
                .and_then(|()| store.flush());
            match result {
                Ok(()) => ok = m,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let _ = store.close();
    }
    match failed {
        Some(Error::StorageError(m)) => assert!(!m.is_empty()),
        other => panic!("expected a StorageError when the disk filled, got {other:?} after {ok} members"),
    }
    // On the full disk, reopening says so instead of failing somewhere else.
    match Store::open_with(&path, connreq_store::OpenOptions::default()) {
        Err(Error::StorageError(m)) => assert!(m.contains("No space left"), "{m}"),
        Err(other) => panic!("{other:?}"),
        Ok(store) => assert_eq!(store.check().unwrap(), Vec::<String>::new()),
    }
    // Once there is room again, everything that succeeded is there and sound.
    fs.mount(&["-o", "remount,size=32m"]);
    let store = Store::open_with(&path, connreq_store::OpenOptions::default()).unwrap();
    assert!(ok > 100, "the disk held only {ok} members");
    assert!(store.stats().unwrap().requests["pending"] >= ok - 1);
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

/// A database on a file system mounted read-only (file permissions do not
/// stop root, a read-only mount does): opening gives `StorageError`, the
/// database is untouched, and it opens sound once writable again.
#[test]
fn a_read_only_database_is_refused_clearly_and_left_intact() {
    let fs = SmallFs::new("16m");
    let path = fs.mount.join("db");
    {
        let store = Store::open(&path, Policy::standard()).unwrap();
        store.register(MemberId(1), None, None, T).unwrap();
        store.register(MemberId(2), None, None, T).unwrap();
        store.send(MemberId(1), MemberId(2), None, None, T).unwrap();
        store.close().unwrap();
    }
    fs.mount(&["-o", "remount,ro"]);
    match Store::open(&path, Policy::standard()) {
        Err(Error::StorageError(m)) => assert!(m.contains("Read-only") || m.contains("permission"), "{m}"),
        other => panic!("expected StorageError, got {other:?}"),
    }
    fs.mount(&["-o", "remount,rw"]);
    let store = Store::open(&path, Policy::standard()).unwrap();
    assert_eq!(store.stats().unwrap().requests["pending"], 1);
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[test]
fn bidirectional_controls_are_refused_in_names_notes_and_messages_and_nothing_is_stored() {
    let store = store_with_two();
    for c in [
        '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}',
        '\u{2069}',
    ] {
        let text = format!("Ada{c}gpj.exe");
        let invalid = |what: &str, r: Result<(), Error>| match r {
            Err(Error::InvalidInput(m)) => {
                assert!(m.contains(&format!("U+{:04X}", u32::from(c))), "{what}: {m}")
            }
            other => panic!("{what} with U+{:04X}: {other:?}", u32::from(c)),
        };
        invalid("name", store.register(MemberId(50), None, Some(&text), T));
        invalid("note", store.send(MemberId(1), MemberId(u64::MAX), Some(&text), None, T).map(|_| ()));
        let id = store.send(MemberId(1), MemberId(u64::MAX), None, None, T).unwrap();
        invalid("decline message", store.decline(MemberId(u64::MAX), id, Some(&text), T));
        invalid("withdraw message", store.withdraw(MemberId(1), id, Some(&text), T));
        store.withdraw(MemberId(1), id, None, T).unwrap();
    }
    // Nothing holding one was stored.
    for e in store.events(Seq(0), None).unwrap() {
        assert!(!e.detail.chars().any(connreq_core::text::is_bidi_control), "{e:?}");
    }
    assert!(store.public_profile(MemberId(50)).is_err());
}
