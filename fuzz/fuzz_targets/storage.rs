//! Damaged databases: a foreign record in the event log, or bytes of the sled
//! `db` file overwritten. Opening must give a store (whose `check()` runs) or
//! `StorageError`; never a panic, never a hang.
//!
//! The store turns panics it catches while reading a damaged database into
//! `StorageError`, so this target reports only panics that reach the caller.
//! With `CONNREQ_FUZZ_DEEP=1` it also runs every query on a database that
//! opened, and then any panic there is a finding too.

#![no_main]

mod common;

use arbitrary::Arbitrary;
use common::{FuzzPolicy, START, Text};
use connreq_core::{
    Decision, EmailAddress, EmailId, EmailPlan, Error, Event, EventBody, FlagId, FlagRule, InvitationSetting,
    Locale, MemberId, Network, Notice, NotificationId, OutcomeWindow, ReportReason, RequestId, Seq,
    SkipReason, Standing, StandingCause, Timestamp,
};
use connreq_store::{OpenOptions, Store};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The snapshot's file name in a database directory.
const SNAPSHOT: &str = "connreq.snapshot";
/// The snapshot's header: magic, database id, last event.
const SNAPSHOT_HEADER: usize = b"CONNREQ-SNAPSHOT-2".len() + 16 + 8;

/// A small valid database, made once; every execution works on a copy.
struct Template {
    _dir: tempfile::TempDir,
    path: PathBuf,
    /// The first sequence number of each stored record, with the tree that
    /// holds it (`log`, or the tail's tree for records not merged yet).
    keys: Vec<(Vec<u8>, u64)>,
    /// The tree the next command's record would go to: the tail's, if any.
    end: Vec<u8>,
    /// The last event's sequence number.
    last: u64,
}

/// The template without a snapshot (`false`: opening replays the whole log) or
/// with one (`true`: opening starts from the snapshot and replays the rest).
fn template(snapshot: bool) -> &'static Template {
    static T: [OnceLock<Template>; 2] = [OnceLock::new(), OnceLock::new()];
    T[usize::from(snapshot)].get_or_init(|| {
        remove_stale_dirs();
        let prefix = format!("connreq-fuzz-{}-template-", std::process::id());
        let dir = tempfile::Builder::new().prefix(&prefix).tempdir().unwrap();
        let path = dir.path().join("db");
        let t = START;
        let (a, b, c) = (MemberId(1), MemberId(2), MemberId(3));
        let options = OpenOptions {
            policy: Some(common::tight()),
            snapshot_after_events: if snapshot { 1 } else { u64::MAX },
            ..OpenOptions::default()
        };
        let store = Store::open_with(&path, options).unwrap();
        store.register(a, Some("a@example.com"), Some("Ada"), t).unwrap();
        store.register(b, Some("b@example.com"), None, t).unwrap();
        store.register(c, None, Some("Cy"), t).unwrap();
        let r1 = store.send(a, b, Some("hello <b>"), None, t).unwrap();
        store.accept(b, r1, t).unwrap();
        let r2 = store.send(a, c, None, None, t).unwrap();
        store.withdraw(a, r2, Some("sorry"), t).unwrap();
        let r3 = store.send(c, b, None, None, Timestamp(t.0 + 3 * 86_400_000)).unwrap();
        store.decline(b, r3, Some("no"), Timestamp(t.0 + 4 * 86_400_000)).unwrap();
        store.send(b, c, None, None, Timestamp(t.0 + 5 * 86_400_000)).unwrap();
        store.report(b, a, ReportReason::Spam, None, Timestamp(t.0 + 5 * 86_400_000)).unwrap();
        store.report(c, a, ReportReason::Harassment, None, Timestamp(t.0 + 5 * 86_400_000)).unwrap();
        store.expire(Timestamp(t.0 + 20 * 86_400_000)).unwrap();
        store.block(c, a, Timestamp(t.0 + 21 * 86_400_000)).unwrap();
        let keys = store.raw_events(Seq(0), None).unwrap();
        let last = keys.last().map_or(0, |e| e.seq.0);
        assert!(store.check().unwrap().is_empty());
        store.close().unwrap();
        drop(store);
        let db = sled::open(&path).unwrap();
        let tail = db.tree_names().into_iter().map(|n| n.to_vec()).find(|n| n.starts_with(b"tail:"));
        let mut keys = Vec::new();
        for tree in std::iter::once(b"log".to_vec()).chain(tail.clone()) {
            for k in db.open_tree(&tree).unwrap().iter().keys() {
                keys.push((tree.clone(), u64::from_be_bytes(k.unwrap().as_ref().try_into().unwrap())));
            }
        }
        assert!(!keys.is_empty(), "the template's log has records");
        let end = tail.unwrap_or_else(|| b"log".to_vec());
        drop(db);
        wait_for_release(&path);
        settle(&path);
        assert_eq!(path.join(SNAPSHOT).exists(), snapshot, "the template's snapshot");
        Template { _dir: dir, path, keys, end, last }
    })
}

/// Removes the directories of fuzzer processes that are gone: libFuzzer ends
/// with `exit`, which never drops the templates, and a finding aborts.
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("connreq-fuzz-")) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Waits until sled's background threads stop changing the directory's files
/// (they may still write or remove files after the last handle is dropped).
fn settle(path: &Path) {
    let listing = || {
        let mut files = Vec::new();
        collect_files(path, &mut files);
        let mut out: Vec<_> = files
            .into_iter()
            .map(|f| {
                let m = std::fs::metadata(&f).ok();
                (f, m.as_ref().map(|m| m.len()), m.and_then(|m| m.modified().ok()))
            })
            .collect();
        out.sort();
        out
    };
    let mut last = listing();
    let mut stable = 0;
    for _ in 0..200 {
        std::thread::sleep(std::time::Duration::from_millis(25));
        let now = listing();
        stable = if now == last { stable + 1 } else { 0 };
        if stable >= 4 {
            return;
        }
        last = now;
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Waits until no handle in this process holds sled's lock on the database.
fn wait_for_release(path: &Path) {
    let Ok(file) = std::fs::File::open(path.join("db")) else { return };
    for _ in 0..10_000 {
        if file.try_lock().is_ok() {
            let _ = file.unlock();
            return;
        }
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    panic!("sled kept its lock for two seconds after the database was dropped");
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Whether the database has a snapshot.
    snapshot: bool,
    change: Change,
}

#[derive(Arbitrary, Debug)]
enum Change {
    /// A record written into the log tree.
    Record { key: Key, record: Record },
    /// Bytes of a database file overwritten (xor), or the file cut short.
    Damage { file: u8, offset: u32, xor: Vec<u8>, truncate: Option<u32> },
    /// The snapshot's model changed (xor at an offset into it), its header's
    /// last event replaced, and its checksum made to match again or not.
    Snapshot { offset: u16, xor: Vec<u8>, last: Option<u64>, fix_crc: bool, truncate: Option<u16> },
}

#[derive(Arbitrary, Debug)]
enum Key {
    /// Where the next command's record would go.
    Next,
    /// Over an existing record.
    Existing(u8),
    /// Any key.
    Raw(u64),
    /// A key that is not 8 bytes.
    Odd(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Record {
    /// Any bytes.
    Raw(Vec<u8>),
    /// Well-formed events (numbered from `first`, or from the key) whose content is arbitrary.
    Events { first: Option<u64>, gap: bool, events: Vec<FuzzEvent> },
    /// Well-formed events, then some bytes changed.
    Flipped { events: Vec<FuzzEvent>, flips: Vec<(u16, u8)>, cut: Option<u16> },
}

#[derive(Arbitrary, Debug)]
struct FuzzEvent {
    at: At,
    body: Body,
}

#[derive(Arbitrary, Debug)]
enum At {
    AfterLast(u32),
    Raw(i64),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct M(u8);
impl M {
    fn get(self) -> MemberId {
        match self.0 {
            255 => MemberId(u64::MAX),
            n => MemberId(u64::from(n % 6)),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Id(u8);
impl Id {
    fn get(self) -> u64 {
        match self.0 {
            255 => u64::MAX,
            254 => 1 << 63,
            n => u64::from(n % 24),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Body {
    MemberRegistered {
        member: M,
        email: Option<Text>,
        name: Option<Text>,
        locale: Option<u8>,
    },
    InvitationSettingChanged {
        member: M,
        setting: u8,
    },
    ContactsImported {
        member: M,
        emails: Vec<Text>,
    },
    InvitationSent {
        request: Id,
        sender: M,
        recipient: M,
        note: Option<Text>,
        notice: FuzzNotice,
        reminders: Vec<i64>,
    },
    InvitationAccepted {
        request: Id,
        notice: FuzzNotice,
        window: Option<u8>,
    },
    InvitationIgnored {
        request: Id,
        window: Option<u8>,
    },
    InvitationDeclined {
        request: Id,
        message: Option<Text>,
        notice: Option<FuzzNotice>,
        window: Option<u8>,
    },
    InvitationWithdrawn {
        request: Id,
        message: Option<Text>,
        notice: Option<FuzzNotice>,
    },
    InvitationExpired {
        request: Id,
        notice: FuzzNotice,
        window: Option<u8>,
    },
    InvitationCancelled {
        request: Id,
        blocker: M,
    },
    ConnectionRemoved {
        member: M,
        other: M,
    },
    MemberBlocked {
        blocker: M,
        blocked: M,
    },
    MemberUnblocked {
        blocker: M,
        blocked: M,
    },
    MemberReported {
        reporter: M,
        reported: M,
        reason: u8,
        request: Option<Id>,
    },
    AccountFlagged {
        flag: Id,
        member: M,
        rule: u8,
        evidence: Vec<Id>,
    },
    FlagEvidenceAdded {
        flag: Id,
        member: M,
        evidence: Vec<Id>,
    },
    FlagResolved {
        flag: Id,
        member: M,
        restrict: bool,
        moderator: Option<M>,
        note: Option<Text>,
    },
    StandingChanged {
        member: M,
        from: u8,
        to: u8,
        cause: u8,
        flag: Id,
    },
    NotificationsRead {
        member: M,
        ids: Vec<Id>,
    },
    EmailSent {
        email: Id,
        member: M,
    },
    PolicyChanged(FuzzPolicy),
    EmailsSkipped {
        emails: Vec<Id>,
        reason: u8,
    },
    LocaleChanged {
        member: M,
        locale: u8,
    },
    MemberUpdated {
        member: M,
        email: Option<Option<Text>>,
        name: Option<Option<Text>>,
    },
    MemberErased {
        member: M,
        scrub_contacts: bool,
    },
    RestrictionLifted {
        member: M,
        moderator: Option<M>,
        note: Option<Text>,
    },
}

/// A notice: no email, an email due some milliseconds after the event, or a
/// place in a digest due at a time.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum FuzzNotice {
    NoEmail,
    After(u64),
    Digest(i64),
}
impl FuzzNotice {
    fn get(self) -> Notice {
        Notice {
            email: match self {
                FuzzNotice::NoEmail => EmailPlan::None,
                FuzzNotice::After(ms) => EmailPlan::After(ms),
                FuzzNotice::Digest(t) => EmailPlan::Digest(Timestamp(t)),
            },
        }
    }
}

fn window(w: Option<u8>) -> Option<OutcomeWindow> {
    w.map(|keep| OutcomeWindow { keep: u32::from(keep) })
}

fn pick<T: Copy>(all: &[T], i: u8) -> T {
    all[usize::from(i) % all.len()]
}

fn email(t: &Text) -> EmailAddress {
    EmailAddress::parse(t.as_str()).unwrap_or_else(|_| EmailAddress::parse("x@example.com").unwrap())
}

impl Body {
    fn build(&self) -> EventBody {
        use Body as B;
        use EventBody as E;
        let seqs = |v: &Vec<Id>| v.iter().take(8).map(|i| Seq(i.get())).collect::<Vec<_>>();
        match self {
            B::MemberRegistered { member, email: e, name, locale } => E::MemberRegistered {
                member: member.get(),
                email: e.as_ref().map(email),
                name: name.as_ref().map(|n| n.0.clone()),
                locale: locale.map(|l| pick(Locale::ALL, l)),
            },
            B::InvitationSettingChanged { member, setting } => E::InvitationSettingChanged {
                member: member.get(),
                setting: pick(InvitationSetting::ALL, *setting),
            },
            B::ContactsImported { member, emails } => E::ContactsImported {
                member: member.get(),
                emails: emails.iter().take(4).map(email).collect(),
            },
            B::InvitationSent { request, sender, recipient, note, notice, reminders } => E::InvitationSent {
                request: RequestId(request.get()),
                sender: sender.get(),
                recipient: recipient.get(),
                note: note.as_ref().map(|n| n.0.clone()),
                notice: notice.get(),
                reminders: reminders.iter().take(4).map(|t| Timestamp(*t)).collect(),
            },
            B::InvitationAccepted { request, notice, window: w } => E::InvitationAccepted {
                request: RequestId(request.get()),
                notice: notice.get(),
                window: window(*w),
            },
            B::InvitationIgnored { request, window: w } => {
                E::InvitationIgnored { request: RequestId(request.get()), window: window(*w) }
            }
            B::InvitationDeclined { request, message, notice, window: w } => E::InvitationDeclined {
                request: RequestId(request.get()),
                message: message.as_ref().map(|n| n.0.clone()),
                notice: notice.map(FuzzNotice::get),
                window: window(*w),
            },
            B::InvitationWithdrawn { request, message, notice } => E::InvitationWithdrawn {
                request: RequestId(request.get()),
                message: message.as_ref().map(|n| n.0.clone()),
                notice: notice.map(FuzzNotice::get),
            },
            B::InvitationExpired { request, notice, window: w } => E::InvitationExpired {
                request: RequestId(request.get()),
                notice: notice.get(),
                window: window(*w),
            },
            B::InvitationCancelled { request, blocker } => {
                E::InvitationCancelled { request: RequestId(request.get()), blocker: blocker.get() }
            }
            B::ConnectionRemoved { member, other } => {
                E::ConnectionRemoved { member: member.get(), other: other.get() }
            }
            B::MemberBlocked { blocker, blocked } => {
                E::MemberBlocked { blocker: blocker.get(), blocked: blocked.get() }
            }
            B::MemberUnblocked { blocker, blocked } => {
                E::MemberUnblocked { blocker: blocker.get(), blocked: blocked.get() }
            }
            B::MemberReported { reporter, reported, reason, request } => E::MemberReported {
                reporter: reporter.get(),
                reported: reported.get(),
                reason: pick(ReportReason::ALL, *reason),
                request: request.map(|r| RequestId(r.get())),
            },
            B::AccountFlagged { flag, member, rule, evidence } => E::AccountFlagged {
                flag: FlagId(flag.get()),
                member: member.get(),
                rule: pick(FlagRule::ALL, *rule),
                evidence: seqs(evidence),
            },
            B::FlagEvidenceAdded { flag, member, evidence } => E::FlagEvidenceAdded {
                flag: FlagId(flag.get()),
                member: member.get(),
                evidence: seqs(evidence),
            },
            B::FlagResolved { flag, member, restrict, moderator, note } => E::FlagResolved {
                flag: FlagId(flag.get()),
                member: member.get(),
                decision: if *restrict { Decision::Restrict } else { Decision::Clear },
                moderator: moderator.map(M::get),
                note: note.as_ref().map(|n| n.0.clone()),
            },
            B::StandingChanged { member, from, to, cause, flag } => E::StandingChanged {
                member: member.get(),
                from: pick(Standing::ALL, *from),
                to: pick(Standing::ALL, *to),
                cause: match cause % 3 {
                    0 => StandingCause::Flagged(FlagId(flag.get())),
                    1 => StandingCause::AutomaticRestriction(FlagId(flag.get())),
                    _ => StandingCause::Resolved(FlagId(flag.get())),
                },
            },
            B::NotificationsRead { member, ids } => E::NotificationsRead {
                member: member.get(),
                ids: ids.iter().take(8).map(|i| NotificationId(i.get())).collect(),
            },
            B::EmailSent { email, member } => {
                E::EmailSent { email: EmailId(email.get()), member: member.get() }
            }
            B::PolicyChanged(p) => E::PolicyChanged { policy: Box::new(p.build()) },
            B::EmailsSkipped { emails, reason } => E::EmailsSkipped {
                emails: emails.iter().take(8).map(|i| EmailId(i.get())).collect(),
                reason: pick(SkipReason::ALL, *reason),
            },
            B::LocaleChanged { member, locale } => {
                E::LocaleChanged { member: member.get(), locale: pick(Locale::ALL, *locale) }
            }
            B::MemberUpdated { member, email: e, name } => E::MemberUpdated {
                member: member.get(),
                email: e.as_ref().map(|e| e.as_ref().map(email)),
                name: name.as_ref().map(|n| n.as_ref().map(|n| n.0.clone())),
            },
            B::MemberErased { member, scrub_contacts } => {
                E::MemberErased { member: member.get(), scrub_contacts: *scrub_contacts }
            }
            B::RestrictionLifted { member, moderator, note } => E::RestrictionLifted {
                member: member.get(),
                moderator: moderator.map(M::get),
                note: note.as_ref().map(|n| n.0.clone()),
            },
        }
    }
}

fn events(first: u64, gap: bool, list: &[FuzzEvent], last_at: Timestamp) -> Vec<Event> {
    list.iter()
        .take(16)
        .enumerate()
        .map(|(i, e)| Event {
            seq: Seq(first.wrapping_add(i as u64).wrapping_add(u64::from(gap && i == 1))),
            at: match e.at {
                At::AfterLast(ms) => Timestamp(last_at.0 + i64::from(ms)),
                At::Raw(t) => Timestamp(t),
            },
            body: e.body.build(),
        })
        .collect()
}

/// Every query a member or an operator can make, over ids near the stored ones.
fn query_everything(store: &Store) {
    for m in 0..6 {
        let m = MemberId(m);
        let _ = store.sent(m, None);
        let _ = store.received(m, None);
        let _ = store.notifications(m, false);
        let _ = store.connections(m);
        let _ = store.public_profile(m);
        let _ = store.standing(m);
        let _ = store.mutual_connections(m, MemberId(1));
    }
    for r in 0..24 {
        let _ = store.request(RequestId(r));
    }
    let _ = store.pending_emails(None);
    let _ = store.review_queue();
    let _ = store.stats();
    let _ = store.events(Seq(0), None);
    let _ = store.expire(Timestamp(START.0 + 400 * 86_400_000));
    let _ = store.send(MemberId(1), MemberId(2), None, None, Timestamp(START.0 + 400 * 86_400_000));
}

fn open_and_check(path: &Path) {
    let deep = std::env::var_os("CONNREQ_FUZZ_DEEP").is_some();
    let result = common::no_panic("Store::open_with", || Store::open_with(path, OpenOptions::default()));
    match result {
        Ok(store) => {
            let problems = common::no_panic("Store::check", || store.check());
            assert!(problems.is_ok(), "check() failed on a database that opened: {problems:?}");
            if deep {
                common::no_panic("a query on the opened database", || query_everything(&store));
            }
            common::no_panic("Store::close", || store.close()).ok();
        }
        Err(Error::StorageError(_)) => {}
        Err(other) => panic!("opening gave {other:?}, not StorageError"),
    }
}

fuzz_target!(|input: Input| {
    common::tolerate_caught_panics();
    common::no_panic("the storage target", || run(&input));
});

fn run(input: &Input) {
    let t = template(input.snapshot);
    let prefix = format!("connreq-fuzz-{}-case-", std::process::id());
    let dir = tempfile::Builder::new().prefix(&prefix).tempdir().unwrap();
    let path = dir.path().join("db");
    copy_dir(&t.path, &path);
    match &input.change {
        Change::Record { key, record } => {
            // The next key goes where the next command's record would; an
            // existing one into the tree that holds it; any other into `log`
            // (so before, inside or after the tail's range).
            let (tree, key): (Vec<u8>, Vec<u8>) = match key {
                Key::Next => (t.end.clone(), (t.last + 1).to_be_bytes().to_vec()),
                Key::Existing(i) => {
                    let (tree, seq) = &t.keys[usize::from(*i) % t.keys.len()];
                    (tree.clone(), seq.to_be_bytes().to_vec())
                }
                Key::Raw(k) => (b"log".to_vec(), k.to_be_bytes().to_vec()),
                Key::Odd(bytes) => (b"log".to_vec(), bytes.iter().copied().take(16).collect()),
            };
            let key_seq = <[u8; 8]>::try_from(key.as_slice()).map_or(t.last + 1, u64::from_be_bytes);
            let last_at = Timestamp(START.0 + 21 * 86_400_000);
            let value = match record {
                Record::Raw(bytes) => bytes.clone(),
                Record::Events { first, gap, events: list } => {
                    postcard::to_allocvec(&events(first.unwrap_or(key_seq), *gap, list, last_at)).unwrap()
                }
                Record::Flipped { events: list, flips, cut } => {
                    let mut bytes = postcard::to_allocvec(&events(key_seq, false, list, last_at)).unwrap();
                    if !bytes.is_empty() {
                        for (at, x) in flips.iter().take(8) {
                            let i = usize::from(*at) % bytes.len();
                            bytes[i] ^= x;
                        }
                    }
                    if let Some(cut) = cut {
                        bytes.truncate(usize::from(*cut));
                    }
                    bytes
                }
            };
            {
                let db = sled::open(&path).unwrap();
                db.open_tree(tree).unwrap().insert(key, value).unwrap();
                db.flush().unwrap();
            }
            wait_for_release(&path);
        }
        Change::Snapshot { offset, xor, last, fix_crc, truncate } => {
            let file = path.join(SNAPSHOT);
            let Ok(mut bytes) = std::fs::read(&file) else { return open_and_check(&path) };
            if bytes.len() > SNAPSHOT_HEADER + 4 {
                let body = SNAPSHOT_HEADER..bytes.len() - 4;
                let start = body.start + usize::from(*offset) % body.len();
                for (i, x) in xor.iter().take(256).enumerate() {
                    if start + i < body.end {
                        bytes[start + i] ^= x;
                    }
                }
            }
            if let Some(last) = last {
                bytes[SNAPSHOT_HEADER - 8..SNAPSHOT_HEADER].copy_from_slice(&last.to_be_bytes());
            }
            if let Some(n) = truncate {
                let keep = bytes.len().saturating_sub(4 + usize::from(*n) % 64);
                let crc = bytes[bytes.len() - 4..].to_vec();
                bytes.truncate(keep);
                bytes.extend_from_slice(&crc);
            }
            if *fix_crc && bytes.len() >= 4 {
                let n = bytes.len() - 4;
                let crc = crc32fast::hash(&bytes[..n]);
                bytes[n..].copy_from_slice(&crc.to_be_bytes());
            }
            std::fs::write(&file, bytes).unwrap();
        }
        Change::Damage { file, offset, xor, truncate } => {
            let mut files = Vec::new();
            collect_files(&path, &mut files);
            files.sort();
            let target = &files[usize::from(*file) % files.len()];
            let mut bytes = std::fs::read(target).unwrap();
            if !bytes.is_empty() {
                let start = *offset as usize % bytes.len();
                for (i, x) in xor.iter().take(4096).enumerate() {
                    let j = (start + i) % bytes.len();
                    bytes[j] ^= x;
                }
            }
            if let Some(n) = truncate {
                bytes.truncate(*n as usize % (bytes.len() + 1));
            }
            std::fs::write(target, bytes).unwrap();
        }
    }
    open_and_check(&path);
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            collect_files(&entry.path(), out);
        } else {
            out.push(entry.path());
        }
    }
}
