//! A hand-written SQLite implementation of the invitation commands, the peer
//! that connreq's benchmarks compare against.
//!
//! It is written the way a competent engineer would write it with rusqlite:
//! a WAL journal with `synchronous = NORMAL`, one `IMMEDIATE` transaction per
//! command, cached prepared statements and indexes for every lookup the
//! commands make. Each successful command also writes what a real system
//! writes in the same transaction: an event row, and for `send`, `accept`,
//! `decline` and `withdraw` an in-app notification and (when the notified
//! member has an address) a queued email.
//!
//! It covers a faithful subset of the specification (sections 2 and 3):
//! registration, the request state machine, blocks, the per-viewer `sent` and
//! `received` views, connections and unread notification counts. Invitation
//! settings, reports, moderation, rate limits and expiry are not modelled.
//!
//! Member ids are `u64` and stored in SQLite's signed 64-bit integers by a
//! bit-preserving cast, so every `u64` round-trips; results ordered by member
//! id are sorted in Rust.

use std::fmt;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// Longest note (and decline or withdraw message), in Unicode scalar values.
pub const MAX_NOTE_CHARS: usize = 300;

/// How long after its notification an email falls due, in milliseconds.
pub const EMAIL_DELAY_MS: i64 = 120_000;

/// Notifications about requests older than this (milliseconds) name the date
/// the request was sent.
pub const DATE_CONTEXT_AFTER_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The schema, created on open when missing.
///
/// `requests_open_pair` is a partial unique index over open requests: it
/// serves the "is there an open request between these two" lookups of `send`
/// and `block`, and makes a second open request for a pair impossible even if
/// the checks above it were wrong.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS members (
    id          INTEGER PRIMARY KEY,
    email       TEXT,
    name        TEXT,
    created_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    id                  INTEGER PRIMARY KEY,
    sender              INTEGER NOT NULL,
    recipient           INTEGER NOT NULL,
    note                TEXT,
    state               TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    message             TEXT,
    cancelled_by        INTEGER,
    state_before_cancel TEXT
);
CREATE INDEX IF NOT EXISTS requests_by_sender ON requests (sender, id);
CREATE INDEX IF NOT EXISTS requests_by_recipient ON requests (recipient, id);
CREATE UNIQUE INDEX IF NOT EXISTS requests_open_pair ON requests (sender, recipient)
    WHERE state IN ('pending', 'ignored');
CREATE TABLE IF NOT EXISTS connections (
    a           INTEGER NOT NULL,
    b           INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (
    blocker     INTEGER NOT NULL,
    blocked     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (blocker, blocked)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notifications (
    id          INTEGER PRIMARY KEY,
    member      INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    request_id  INTEGER,
    actor       INTEGER,
    created_at  INTEGER NOT NULL,
    text        TEXT NOT NULL,
    read        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS notifications_by_member ON notifications (member, read);
CREATE TABLE IF NOT EXISTS emails (
    id          INTEGER PRIMARY KEY,
    member      INTEGER NOT NULL,
    address     TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    due_at      INTEGER NOT NULL,
    sent_at     INTEGER
);
CREATE INDEX IF NOT EXISTS emails_due_unsent ON emails (due_at) WHERE sent_at IS NULL;
CREATE TABLE IF NOT EXISTS events (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    actor       INTEGER,
    subject     INTEGER,
    request_id  INTEGER,
    detail      TEXT NOT NULL
);
";

/// Why a command of [`SqlitePeer`] was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum PeerError {
    /// A member id that was never registered.
    UnknownMember,
    /// A member tried to invite (or block) themselves.
    SelfRequest,
    /// A block in either direction forbids the invitation.
    NotAllowed,
    /// The two members are already connected.
    AlreadyConnected,
    /// The sender already has an open request to the recipient.
    AlreadyPending,
    /// The recipient already has an open request to the sender.
    ReversePending,
    /// No request has this id.
    NotFound,
    /// The member is not the one who may act on this request.
    NotAuthorized,
    /// The request's state does not allow this command.
    InvalidTransition,
    /// The note or message is longer than [`MAX_NOTE_CHARS`].
    NoteTooLong,
    /// SQLite reported an error (including a member registered twice).
    Sql(String),
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerError::UnknownMember => f.write_str("no member has this id"),
            PeerError::SelfRequest => f.write_str("you cannot invite yourself"),
            PeerError::NotAllowed => f.write_str("you cannot invite this member"),
            PeerError::AlreadyConnected => f.write_str("you are already connected"),
            PeerError::AlreadyPending => f.write_str("you already invited this member"),
            PeerError::ReversePending => f.write_str("this member already invited you"),
            PeerError::NotFound => f.write_str("no invitation has this id"),
            PeerError::NotAuthorized => f.write_str("this invitation is not yours to change"),
            PeerError::InvalidTransition => f.write_str("this invitation can no longer be changed that way"),
            PeerError::NoteTooLong => {
                write!(f, "the text is longer than {MAX_NOTE_CHARS} characters")
            }
            PeerError::Sql(message) => write!(f, "database error: {message}"),
        }
    }
}

impl std::error::Error for PeerError {}

impl From<rusqlite::Error> for PeerError {
    fn from(error: rusqlite::Error) -> Self {
        PeerError::Sql(error.to_string())
    }
}

/// The hand-rolled SQLite implementation of the invitation commands.
pub struct SqlitePeer {
    conn: Connection,
}

/// A member's contact details, as the notification code needs them.
struct MemberInfo {
    email: Option<String>,
    name: Option<String>,
}

impl MemberInfo {
    /// The name shown to other members: the registered name, or a stand-in.
    fn display_name(&self, id: u64) -> String {
        match &self.name {
            Some(name) => one_line(name),
            None => format!("Member {id}"),
        }
    }
}

/// The columns of a request that the state-changing commands need.
struct RequestRow {
    sender: u64,
    recipient: u64,
    state: String,
    created_at: i64,
}

/// Who may act on a request in a given command.
#[derive(Clone, Copy)]
enum Role {
    Sender,
    Recipient,
}

/// A notification to store and, when the member has an address, email.
struct Notice<'a> {
    member: u64,
    address: Option<&'a str>,
    kind: &'a str,
    request_id: u64,
    actor: u64,
    text: &'a str,
    subject: &'a str,
    body: &'a str,
}

impl SqlitePeer {
    /// Opens (or creates) the database at `path`, creating the schema if it is
    /// missing, with a WAL journal and `synchronous = NORMAL`.
    pub fn open(path: &Path) -> Result<Self, PeerError> {
        let conn = Connection::open(path)?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(PeerError::Sql(format!("could not switch the journal to WAL (got {mode})")));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch(SCHEMA)?;
        Ok(SqlitePeer { conn })
    }

    /// Registers `member` with an optional email address and name.
    ///
    /// Registering an id twice fails with [`PeerError::Sql`] (the primary key
    /// refuses it).
    pub fn register(
        &mut self,
        member: u64,
        email: Option<&str>,
        name: Option<&str>,
        at: i64,
    ) -> Result<(), PeerError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached("INSERT INTO members (id, email, name, created_at) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![to_sql(member), email, name, at])?;
        append_event(&tx, at, "member_registered", Some(member), None, None, "{}")?;
        tx.commit()?;
        Ok(())
    }

    /// Sends an invitation from `sender` to `recipient` and returns its id.
    ///
    /// Checks, in order: both registered, not to oneself, no block either
    /// way, not connected, no open request either way, note length.
    pub fn send(
        &mut self,
        sender: u64,
        recipient: u64,
        note: Option<&str>,
        at: i64,
    ) -> Result<u64, PeerError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sender_info = member_info(&tx, sender)?.ok_or(PeerError::UnknownMember)?;
        let recipient_info = member_info(&tx, recipient)?.ok_or(PeerError::UnknownMember)?;
        if sender == recipient {
            return Err(PeerError::SelfRequest);
        }
        if blocked_either_way(&tx, sender, recipient)? {
            return Err(PeerError::NotAllowed);
        }
        if connected(&tx, sender, recipient)? {
            return Err(PeerError::AlreadyConnected);
        }
        if open_request(&tx, sender, recipient)? {
            return Err(PeerError::AlreadyPending);
        }
        if open_request(&tx, recipient, sender)? {
            return Err(PeerError::ReversePending);
        }
        check_length(note)?;

        tx.prepare_cached(
            "INSERT INTO requests (sender, recipient, note, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'pending', ?4, ?4)",
        )?
        .execute(params![to_sql(sender), to_sql(recipient), note, at])?;
        let id = from_sql(tx.last_insert_rowid());
        append_event(
            &tx,
            at,
            "invitation_sent",
            Some(sender),
            Some(recipient),
            Some(id),
            &json_detail(&[("note", note)]),
        )?;

        let sender_name = sender_info.display_name(sender);
        let recipient_name = recipient_info.display_name(recipient);
        let text = format!("{sender_name} wants to connect with you.");
        let subject = format!("{sender_name} wants to connect");
        let mut body = format!("Hi {recipient_name},\n\n{sender_name} invited you to connect.\n");
        if let Some(note) = note {
            body.push_str(&format!("\nNote from {sender_name}:\n{note}\n"));
        }
        notify(
            &tx,
            at,
            &Notice {
                member: recipient,
                address: recipient_info.email.as_deref(),
                kind: "invitation_received",
                request_id: id,
                actor: sender,
                text: &text,
                subject: &subject,
                body: &body,
            },
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// The recipient accepts request `id` (pending or ignored); the two
    /// members become connected and the sender is notified.
    pub fn accept(&mut self, recipient: u64, id: u64, at: i64) -> Result<(), PeerError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let request = load_request(&tx, recipient, id, Role::Recipient)?;
        if !is_open(&request.state) {
            return Err(PeerError::InvalidTransition);
        }
        set_state(&tx, id, "accepted", None, at)?;
        let mut insert =
            tx.prepare_cached("INSERT OR IGNORE INTO connections (a, b, created_at) VALUES (?1, ?2, ?3)")?;
        insert.execute(params![to_sql(request.sender), to_sql(recipient), at])?;
        insert.execute(params![to_sql(recipient), to_sql(request.sender), at])?;
        drop(insert);
        append_event(&tx, at, "invitation_accepted", Some(recipient), Some(request.sender), Some(id), "{}")?;

        let sender_info = existing_member(&tx, request.sender)?;
        let recipient_info = existing_member(&tx, recipient)?;
        let sender_name = sender_info.display_name(request.sender);
        let recipient_name = recipient_info.display_name(recipient);
        let context = date_context(request.created_at, at);
        let text = format!("{recipient_name} accepted your invitation{context}.");
        let subject = format!("{recipient_name} accepted your invitation");
        let body = format!(
            "Hi {sender_name},\n\n{recipient_name} accepted your connection request{context}. \
             You are now connected.\n"
        );
        notify(
            &tx,
            at,
            &Notice {
                member: request.sender,
                address: sender_info.email.as_deref(),
                kind: "invitation_accepted",
                request_id: id,
                actor: recipient,
                text: &text,
                subject: &subject,
                body: &body,
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The recipient ignores pending request `id`; nobody is notified and
    /// the sender keeps seeing it as pending.
    pub fn ignore(&mut self, recipient: u64, id: u64, at: i64) -> Result<(), PeerError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let request = load_request(&tx, recipient, id, Role::Recipient)?;
        if request.state != "pending" {
            return Err(PeerError::InvalidTransition);
        }
        set_state(&tx, id, "ignored", None, at)?;
        append_event(&tx, at, "invitation_ignored", Some(recipient), Some(request.sender), Some(id), "{}")?;
        tx.commit()?;
        Ok(())
    }

    /// The recipient declines request `id` (pending or ignored), optionally
    /// with a message; the sender is notified.
    pub fn decline(
        &mut self,
        recipient: u64,
        id: u64,
        message: Option<&str>,
        at: i64,
    ) -> Result<(), PeerError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let request = load_request(&tx, recipient, id, Role::Recipient)?;
        if !is_open(&request.state) {
            return Err(PeerError::InvalidTransition);
        }
        check_length(message)?;
        set_state(&tx, id, "declined", message, at)?;
        append_event(
            &tx,
            at,
            "invitation_declined",
            Some(recipient),
            Some(request.sender),
            Some(id),
            &json_detail(&[("message", message)]),
        )?;

        let sender_info = existing_member(&tx, request.sender)?;
        let recipient_info = existing_member(&tx, recipient)?;
        let sender_name = sender_info.display_name(request.sender);
        let recipient_name = recipient_info.display_name(recipient);
        let context = date_context(request.created_at, at);
        let text = format!("Your connection request{context} to {recipient_name} was not accepted.");
        let mut body = format!(
            "Hi {sender_name},\n\nYour connection request{context} to {recipient_name} \
             was not accepted.\n"
        );
        if let Some(message) = message {
            body.push_str(&format!("\nMessage from {recipient_name}:\n{message}\n"));
        }
        notify(
            &tx,
            at,
            &Notice {
                member: request.sender,
                address: sender_info.email.as_deref(),
                kind: "invitation_declined",
                request_id: id,
                actor: recipient,
                text: &text,
                subject: "Your connection request was withdrawn",
                body: &body,
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The sender withdraws request `id` (pending or ignored), optionally
    /// with a message; the recipient is notified.
    pub fn withdraw(
        &mut self,
        sender: u64,
        id: u64,
        message: Option<&str>,
        at: i64,
    ) -> Result<(), PeerError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let request = load_request(&tx, sender, id, Role::Sender)?;
        if !is_open(&request.state) {
            return Err(PeerError::InvalidTransition);
        }
        check_length(message)?;
        set_state(&tx, id, "withdrawn", message, at)?;
        append_event(
            &tx,
            at,
            "invitation_withdrawn",
            Some(sender),
            Some(request.recipient),
            Some(id),
            &json_detail(&[("message", message)]),
        )?;

        let sender_info = existing_member(&tx, sender)?;
        let recipient_info = existing_member(&tx, request.recipient)?;
        let sender_name = sender_info.display_name(sender);
        let recipient_name = recipient_info.display_name(request.recipient);
        let context = date_context(request.created_at, at);
        let text = format!("{sender_name} withdrew the connection request{context}.");
        let subject = format!("{sender_name} withdrew their connection request");
        let mut body =
            format!("Hi {recipient_name},\n\n{sender_name} withdrew the connection request{context}.\n");
        if let Some(message) = message {
            body.push_str(&format!("\nMessage from {sender_name}:\n{message}\n"));
        }
        notify(
            &tx,
            at,
            &Notice {
                member: request.recipient,
                address: recipient_info.email.as_deref(),
                kind: "invitation_withdrawn",
                request_id: id,
                actor: sender,
                text: &text,
                subject: &subject,
                body: &body,
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// `blocker` blocks `blocked`: open requests both ways are cancelled, a
    /// connection between them is removed, and sends both ways are refused.
    /// The blocked member is not notified. Blocking again changes nothing.
    pub fn block(&mut self, blocker: u64, blocked: u64, at: i64) -> Result<(), PeerError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_member(&tx, blocker)?;
        require_member(&tx, blocked)?;
        if blocker == blocked {
            return Err(PeerError::SelfRequest);
        }
        let inserted = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO blocks (blocker, blocked, created_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![to_sql(blocker), to_sql(blocked), at])?;
        if inserted == 0 {
            tx.commit()?;
            return Ok(());
        }
        append_event(&tx, at, "member_blocked", Some(blocker), Some(blocked), None, "{}")?;

        let mut cancelled = Vec::new();
        {
            let mut cancel = tx.prepare_cached(
                "UPDATE requests
                 SET state_before_cancel = state, state = 'cancelled',
                     cancelled_by = ?3, updated_at = ?4
                 WHERE sender = ?1 AND recipient = ?2 AND state IN ('pending', 'ignored')
                 RETURNING id, sender, recipient",
            )?;
            for (from, to) in [(blocker, blocked), (blocked, blocker)] {
                let rows = cancel
                    .query_map(params![to_sql(from), to_sql(to), to_sql(blocker), at], |row| {
                        Ok((from_sql(row.get(0)?), from_sql(row.get(1)?), from_sql(row.get(2)?)))
                    })?;
                for row in rows {
                    cancelled.push(row?);
                }
            }
        }
        for (id, sender, recipient) in cancelled {
            let other = if sender == blocker { recipient } else { sender };
            append_event(
                &tx,
                at,
                "invitation_cancelled",
                Some(blocker),
                Some(other),
                Some(id),
                "{\"reason\":\"block\"}",
            )?;
        }

        let removed = tx
            .prepare_cached("DELETE FROM connections WHERE (a = ?1 AND b = ?2) OR (a = ?2 AND b = ?1)")?
            .execute(params![to_sql(blocker), to_sql(blocked)])?;
        if removed > 0 {
            append_event(
                &tx,
                at,
                "connection_removed",
                Some(blocker),
                Some(blocked),
                None,
                "{\"reason\":\"block\"}",
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The sender's view: `(id, recipient, state)` of every request `member`
    /// sent, oldest first. An ignored request shows as `"pending"`; a request
    /// cancelled because the recipient blocked `member` shows as it did
    /// before the block.
    pub fn sent(&mut self, member: u64) -> Result<Vec<(u64, u64, String)>, PeerError> {
        let rows = self.view(
            "SELECT id, recipient, state, cancelled_by, state_before_cancel
             FROM requests WHERE sender = ?1 ORDER BY id",
            member,
        )?;
        Ok(rows
            .into_iter()
            .map(|(id, recipient, state)| {
                let state = if state == "ignored" { "pending".to_owned() } else { state };
                (id, recipient, state)
            })
            .collect())
    }

    /// The recipient's view: `(id, sender, state)` of every request `member`
    /// received, oldest first. Ignored requests show as `"ignored"`; a request
    /// cancelled because the sender blocked `member` shows as it did before
    /// the block.
    pub fn received(&mut self, member: u64) -> Result<Vec<(u64, u64, String)>, PeerError> {
        self.view(
            "SELECT id, sender, state, cancelled_by, state_before_cancel
             FROM requests WHERE recipient = ?1 ORDER BY id",
            member,
        )
    }

    /// The members `member` is connected to, sorted by id.
    pub fn connections(&mut self, member: u64) -> Result<Vec<u64>, PeerError> {
        let mut stmt = self.conn.prepare_cached("SELECT b FROM connections WHERE a = ?1 ORDER BY b")?;
        let mut others = stmt
            .query_map([to_sql(member)], |row| row.get::<_, i64>(0).map(from_sql))?
            .collect::<Result<Vec<u64>, _>>()?;
        drop(stmt);
        if others.is_empty() {
            require_member(&self.conn, member)?;
        }
        // Ids above i64::MAX are stored as negative integers and come first
        // in SQLite's order.
        others.sort_unstable();
        Ok(others)
    }

    /// How many of `member`'s in-app notifications are unread.
    pub fn unread_notifications(&mut self, member: u64) -> Result<usize, PeerError> {
        let count: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM notifications WHERE member = ?1 AND read = 0")?
            .query_row([to_sql(member)], |row| row.get(0))?;
        if count == 0 {
            require_member(&self.conn, member)?;
        }
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    /// Loads `members` members and `requests` requests with their final
    /// states directly as rows, in one transaction: the rows the commands
    /// would have written (requests, connections, notifications, emails,
    /// events), without running a command per row. For preloading a benchmark
    /// database; the measured stream then runs through the commands.
    pub fn bulk_load(
        &mut self,
        members: u64,
        requests: &[crate::workload::Preload],
        start: i64,
    ) -> Result<i64, PeerError> {
        use crate::workload::Fate;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let end = {
            let mut member =
                tx.prepare("INSERT INTO members (id, email, name, created_at) VALUES (?1, ?2, NULL, ?3)")?;
            let mut event = tx.prepare(
                "INSERT INTO events (at, kind, actor, subject, request_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, '{}')",
            )?;
            for m in 1..=members {
                member.execute(params![to_sql(m), format!("m{m}@example.com"), start])?;
                event.execute(params![start, "member_registered", to_sql(m), None::<i64>, None::<i64>])?;
            }
            let mut request = tx.prepare(
                "INSERT INTO requests (id, sender, recipient, note, state, created_at, updated_at)
                 VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?5)",
            )?;
            let mut connection =
                tx.prepare("INSERT INTO connections (a, b, created_at) VALUES (?1, ?2, ?3)")?;
            let mut notice =
                tx.prepare("INSERT INTO notifications (member, kind, request_id, actor, created_at, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
            let mut email = tx.prepare(
                "INSERT INTO emails (member, address, subject, body, due_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut at = start;
            for (i, p) in requests.iter().enumerate() {
                at += 1;
                let id = i as u64 + 1;
                let (s, r) = (p.sender, p.recipient);
                let (state, follow) = match p.fate {
                    Fate::Pending => ("pending", None),
                    Fate::Ignored => ("ignored", Some(("invitation_ignored", None))),
                    Fate::Accepted => {
                        ("accepted", Some(("invitation_accepted", Some((s, r, "invitation_accepted")))))
                    }
                    Fate::Declined => {
                        ("declined", Some(("invitation_declined", Some((s, r, "invitation_declined")))))
                    }
                    Fate::Withdrawn => {
                        ("withdrawn", Some(("invitation_withdrawn", Some((r, s, "invitation_withdrawn")))))
                    }
                };
                request.execute(params![to_sql(id), to_sql(s), to_sql(r), state, at])?;
                event.execute(params![at, "invitation_sent", to_sql(s), to_sql(r), to_sql(id)])?;
                let text = format!("Member {s} wants to connect with you.");
                notice.execute(params![to_sql(r), "invitation_received", to_sql(id), to_sql(s), at, text])?;
                email.execute(params![
                    to_sql(r),
                    format!("m{r}@example.com"),
                    format!("Member {s} wants to connect"),
                    text,
                    at + EMAIL_DELAY_MS
                ])?;
                if p.fate == Fate::Accepted {
                    connection.execute(params![to_sql(s), to_sql(r), at])?;
                    connection.execute(params![to_sql(r), to_sql(s), at])?;
                }
                if let Some((kind, told)) = follow {
                    event.execute(params![at, kind, to_sql(r), to_sql(s), to_sql(id)])?;
                    if let Some((member, actor, note_kind)) = told {
                        let text = format!("Member {actor}: {note_kind}");
                        notice.execute(params![
                            to_sql(member),
                            note_kind,
                            to_sql(id),
                            to_sql(actor),
                            at,
                            text
                        ])?;
                        email.execute(params![
                            to_sql(member),
                            format!("m{member}@example.com"),
                            &text,
                            &text,
                            at + EMAIL_DELAY_MS
                        ])?;
                    }
                }
            }
            at + 1
        };
        tx.commit()?;
        Ok(end)
    }

    /// How many requests have ever been sent, in any state.
    pub fn request_count(&mut self) -> Result<u64, PeerError> {
        let count: i64 =
            self.conn.prepare_cached("SELECT count(*) FROM requests")?.query_row([], |row| row.get(0))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Runs one of the two per-viewer request queries and applies the rule
    /// that a blocked member sees nothing change: a request cancelled by the
    /// other side's block keeps showing its earlier state.
    fn view(&self, sql: &str, member: u64) -> Result<Vec<(u64, u64, String)>, PeerError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt
            .query_map([to_sql(member)], |row| {
                let id = from_sql(row.get(0)?);
                let other = from_sql(row.get(1)?);
                let state: String = row.get(2)?;
                let cancelled_by: Option<i64> = row.get(3)?;
                let before: Option<String> = row.get(4)?;
                let state = match (state.as_str(), cancelled_by, before) {
                    ("cancelled", Some(by), Some(before)) if from_sql(by) != member => before,
                    _ => state,
                };
                Ok((id, other, state))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        drop(stmt);
        if rows.is_empty() {
            require_member(&self.conn, member)?;
        }
        Ok(rows)
    }
}

/// Stores a member id in SQLite's signed integer, keeping every bit.
fn to_sql(id: u64) -> i64 {
    id as i64
}

/// Reads back an id stored by [`to_sql`].
fn from_sql(value: i64) -> u64 {
    value as u64
}

fn is_open(state: &str) -> bool {
    matches!(state, "pending" | "ignored")
}

fn check_length(text: Option<&str>) -> Result<(), PeerError> {
    match text {
        Some(text) if text.chars().count() > MAX_NOTE_CHARS => Err(PeerError::NoteTooLong),
        _ => Ok(()),
    }
}

fn member_info(conn: &Connection, member: u64) -> Result<Option<MemberInfo>, PeerError> {
    Ok(conn
        .prepare_cached("SELECT email, name FROM members WHERE id = ?1")?
        .query_row([to_sql(member)], |row| Ok(MemberInfo { email: row.get(0)?, name: row.get(1)? }))
        .optional()?)
}

fn existing_member(conn: &Connection, member: u64) -> Result<MemberInfo, PeerError> {
    member_info(conn, member)?.ok_or(PeerError::UnknownMember)
}

fn require_member(conn: &Connection, member: u64) -> Result<(), PeerError> {
    let found = conn.prepare_cached("SELECT 1 FROM members WHERE id = ?1")?.exists([to_sql(member)])?;
    if found { Ok(()) } else { Err(PeerError::UnknownMember) }
}

fn blocked_either_way(conn: &Connection, a: u64, b: u64) -> Result<bool, PeerError> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM blocks WHERE blocker = ?1 AND blocked = ?2")?;
    Ok(stmt.exists([to_sql(a), to_sql(b)])? || stmt.exists([to_sql(b), to_sql(a)])?)
}

fn connected(conn: &Connection, a: u64, b: u64) -> Result<bool, PeerError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM connections WHERE a = ?1 AND b = ?2")?
        .exists([to_sql(a), to_sql(b)])?)
}

fn open_request(conn: &Connection, sender: u64, recipient: u64) -> Result<bool, PeerError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM requests
             WHERE sender = ?1 AND recipient = ?2 AND state IN ('pending', 'ignored')",
        )?
        .exists([to_sql(sender), to_sql(recipient)])?)
}

/// Loads request `id` for a command by `actor` in `role`, with the errors in
/// the order the specification gives them: an unregistered actor is
/// `UnknownMember` before anything else, then `NotFound`, then
/// `NotAuthorized`. The actor's registration is only looked up when the
/// request does not already prove it.
fn load_request(conn: &Connection, actor: u64, id: u64, role: Role) -> Result<RequestRow, PeerError> {
    let row = conn
        .prepare_cached("SELECT sender, recipient, state, created_at FROM requests WHERE id = ?1")?
        .query_row([to_sql(id)], |row| {
            Ok(RequestRow {
                sender: from_sql(row.get(0)?),
                recipient: from_sql(row.get(1)?),
                state: row.get(2)?,
                created_at: row.get(3)?,
            })
        })
        .optional()?;
    let Some(row) = row else {
        require_member(conn, actor)?;
        return Err(PeerError::NotFound);
    };
    let allowed = match role {
        Role::Sender => row.sender,
        Role::Recipient => row.recipient,
    };
    if allowed != actor {
        require_member(conn, actor)?;
        return Err(PeerError::NotAuthorized);
    }
    Ok(row)
}

fn set_state(
    conn: &Connection,
    id: u64,
    state: &str,
    message: Option<&str>,
    at: i64,
) -> Result<(), PeerError> {
    conn.prepare_cached(
        "UPDATE requests SET state = ?2, message = coalesce(?3, message), updated_at = ?4
         WHERE id = ?1",
    )?
    .execute(params![to_sql(id), state, message, at])?;
    Ok(())
}

fn append_event(
    conn: &Connection,
    at: i64,
    kind: &str,
    actor: Option<u64>,
    subject: Option<u64>,
    request_id: Option<u64>,
    detail: &str,
) -> Result<(), PeerError> {
    conn.prepare_cached(
        "INSERT INTO events (at, kind, actor, subject, request_id, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        at,
        kind,
        actor.map(to_sql),
        subject.map(to_sql),
        request_id.map(to_sql),
        detail
    ])?;
    Ok(())
}

/// Stores the in-app notification and, when the member has an address,
/// queues its email, due [`EMAIL_DELAY_MS`] later.
fn notify(conn: &Connection, at: i64, notice: &Notice<'_>) -> Result<(), PeerError> {
    conn.prepare_cached(
        "INSERT INTO notifications (member, kind, request_id, actor, created_at, text)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        to_sql(notice.member),
        notice.kind,
        to_sql(notice.request_id),
        to_sql(notice.actor),
        at,
        notice.text
    ])?;
    if let Some(address) = notice.address {
        conn.prepare_cached(
            "INSERT INTO emails (member, address, subject, body, due_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            to_sql(notice.member),
            address,
            one_line(notice.subject),
            notice.body,
            at + EMAIL_DELAY_MS
        ])?;
    }
    Ok(())
}

/// `" sent on YYYY-MM-DD"` for a request older than
/// [`DATE_CONTEXT_AFTER_MS`] at `at`, otherwise empty.
fn date_context(created_at: i64, at: i64) -> String {
    if at - created_at > DATE_CONTEXT_AFTER_MS {
        let (year, month, day) = civil_date(created_at);
        format!(" sent on {year:04}-{month:02}-{day:02}")
    } else {
        String::new()
    }
}

/// The UTC calendar date of an epoch-milliseconds instant.
fn civil_date(ms: i64) -> (i64, i64, i64) {
    let z = ms.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Member-supplied text made safe for a one-line field such as an email
/// subject: control characters (line breaks included) become spaces.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// A JSON object of the given string fields, leaving out the absent ones.
fn json_detail(fields: &[(&str, Option<&str>)]) -> String {
    let mut out = String::from("{");
    for (key, value) in fields {
        let Some(value) = value else { continue };
        if out.len() > 1 {
            out.push(',');
        }
        push_json_string(&mut out, key);
        out.push(':');
        push_json_string(&mut out, value);
    }
    out.push('}');
    out
}

fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_780_000_000_000;
    const DAY: i64 = 24 * 60 * 60 * 1000;

    fn peer() -> (tempfile::TempDir, SqlitePeer) {
        let dir = tempfile::tempdir().unwrap();
        let peer = SqlitePeer::open(&dir.path().join("peer.db")).unwrap();
        (dir, peer)
    }

    /// A peer with members 1 (ann, with email), 2 (bob, with email),
    /// 3 (cy, no email) and 4 (no name, no email).
    fn peer_with_members() -> (tempfile::TempDir, SqlitePeer) {
        let (dir, mut p) = peer();
        p.register(1, Some("ann@example.com"), Some("Ann"), T0).unwrap();
        p.register(2, Some("bob@example.com"), Some("Bob"), T0).unwrap();
        p.register(3, None, Some("Cy"), T0).unwrap();
        p.register(4, None, None, T0).unwrap();
        (dir, p)
    }

    fn count(p: &SqlitePeer, sql: &str) -> i64 {
        p.conn.query_row(sql, [], |row| row.get(0)).unwrap()
    }

    fn state(s: &str) -> String {
        s.to_owned()
    }

    #[test]
    fn happy_path_send_accept() {
        let (_dir, mut p) = peer_with_members();
        let id = p.send(1, 2, Some("Hello Bob"), T0 + 10).unwrap();
        assert_eq!(id, 1);
        assert_eq!(p.request_count().unwrap(), 1);
        assert_eq!(p.sent(1).unwrap(), vec![(id, 2, state("pending"))]);
        assert_eq!(p.received(2).unwrap(), vec![(id, 1, state("pending"))]);
        assert_eq!(p.unread_notifications(2).unwrap(), 1);
        assert_eq!(p.unread_notifications(1).unwrap(), 0);

        p.accept(2, id, T0 + 20).unwrap();
        assert_eq!(p.connections(1).unwrap(), vec![2]);
        assert_eq!(p.connections(2).unwrap(), vec![1]);
        assert_eq!(p.sent(1).unwrap(), vec![(id, 2, state("accepted"))]);
        assert_eq!(p.received(2).unwrap(), vec![(id, 1, state("accepted"))]);
        assert_eq!(p.unread_notifications(1).unwrap(), 1);
        assert_eq!(p.unread_notifications(2).unwrap(), 1);

        // Two emails, each due two minutes after its command.
        let dues: Vec<(String, i64)> = p
            .conn
            .prepare("SELECT address, due_at FROM emails ORDER BY id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            dues,
            vec![
                ("bob@example.com".to_owned(), T0 + 10 + EMAIL_DELAY_MS),
                ("ann@example.com".to_owned(), T0 + 20 + EMAIL_DELAY_MS),
            ]
        );

        // Four registrations, a send and an accept: gapless sequence.
        let kinds: Vec<(i64, String, String)> = p
            .conn
            .prepare("SELECT seq, kind, detail FROM events ORDER BY seq")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let seqs: Vec<i64> = kinds.iter().map(|k| k.0).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(kinds[4].1, "invitation_sent");
        assert_eq!(kinds[4].2, r#"{"note":"Hello Bob"}"#);
        assert_eq!(kinds[5].1, "invitation_accepted");
    }

    #[test]
    fn members_without_email_get_no_email() {
        let (_dir, mut p) = peer_with_members();
        let id = p.send(1, 3, None, T0).unwrap();
        assert_eq!(p.unread_notifications(3).unwrap(), 1);
        assert_eq!(count(&p, "SELECT count(*) FROM emails"), 0);
        p.accept(3, id, T0 + 1).unwrap();
        assert_eq!(count(&p, "SELECT count(*) FROM emails"), 1);
        assert_eq!(p.unread_notifications(1).unwrap(), 1);
    }

    #[test]
    fn each_error_variant() {
        let (_dir, mut p) = peer_with_members();
        assert_eq!(p.send(1, 99, None, T0), Err(PeerError::UnknownMember));
        assert_eq!(p.send(99, 1, None, T0), Err(PeerError::UnknownMember));
        assert_eq!(p.send(1, 1, None, T0), Err(PeerError::SelfRequest));

        let id = p.send(1, 2, None, T0).unwrap();
        assert_eq!(p.send(1, 2, None, T0), Err(PeerError::AlreadyPending));
        assert_eq!(p.send(2, 1, None, T0), Err(PeerError::ReversePending));
        assert_eq!(p.accept(2, 999, T0), Err(PeerError::NotFound));
        assert_eq!(p.accept(99, id, T0), Err(PeerError::UnknownMember));
        assert_eq!(p.accept(99, 999, T0), Err(PeerError::UnknownMember));
        assert_eq!(p.accept(1, id, T0), Err(PeerError::NotAuthorized));
        assert_eq!(p.ignore(3, id, T0), Err(PeerError::NotAuthorized));
        assert_eq!(p.decline(1, id, None, T0), Err(PeerError::NotAuthorized));
        assert_eq!(p.withdraw(2, id, None, T0), Err(PeerError::NotAuthorized));

        p.ignore(2, id, T0).unwrap();
        assert_eq!(p.ignore(2, id, T0), Err(PeerError::InvalidTransition));
        assert_eq!(p.send(1, 2, None, T0), Err(PeerError::AlreadyPending));
        p.accept(2, id, T0).unwrap();
        assert_eq!(p.accept(2, id, T0), Err(PeerError::InvalidTransition));
        assert_eq!(p.withdraw(1, id, None, T0), Err(PeerError::InvalidTransition));
        assert_eq!(p.send(1, 2, None, T0), Err(PeerError::AlreadyConnected));
        assert_eq!(p.send(2, 1, None, T0), Err(PeerError::AlreadyConnected));

        let long = "é".repeat(MAX_NOTE_CHARS + 1);
        let limit = "é".repeat(MAX_NOTE_CHARS);
        assert_eq!(p.send(1, 3, Some(&long), T0), Err(PeerError::NoteTooLong));
        let id3 = p.send(1, 3, Some(&limit), T0).unwrap();
        assert_eq!(p.decline(3, id3, Some(&long), T0), Err(PeerError::NoteTooLong));
        assert_eq!(p.withdraw(1, id3, Some(&long), T0), Err(PeerError::NoteTooLong));

        p.block(4, 1, T0).unwrap();
        assert_eq!(p.send(1, 4, None, T0), Err(PeerError::NotAllowed));
        assert_eq!(p.send(4, 1, None, T0), Err(PeerError::NotAllowed));
        assert_eq!(p.block(4, 4, T0), Err(PeerError::SelfRequest));
        assert_eq!(p.block(4, 99, T0), Err(PeerError::UnknownMember));

        assert!(matches!(p.register(1, None, None, T0), Err(PeerError::Sql(_))));
        assert_eq!(p.sent(99), Err(PeerError::UnknownMember));
        assert_eq!(p.received(99), Err(PeerError::UnknownMember));
        assert_eq!(p.connections(99), Err(PeerError::UnknownMember));
        assert_eq!(p.unread_notifications(99), Err(PeerError::UnknownMember));
    }

    #[test]
    fn refused_commands_write_nothing() {
        let (_dir, mut p) = peer_with_members();
        let id = p.send(1, 2, None, T0).unwrap();
        let before = (
            count(&p, "SELECT count(*) FROM events"),
            count(&p, "SELECT count(*) FROM notifications"),
            count(&p, "SELECT count(*) FROM emails"),
        );
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        assert!(p.send(1, 3, Some(&long), T0).is_err());
        assert!(p.withdraw(1, id, Some(&long), T0).is_err());
        assert!(p.register(2, None, None, T0).is_err());
        assert!(p.accept(1, id, T0).is_err());
        let after = (
            count(&p, "SELECT count(*) FROM events"),
            count(&p, "SELECT count(*) FROM notifications"),
            count(&p, "SELECT count(*) FROM emails"),
        );
        assert_eq!(before, after);
        assert_eq!(p.request_count().unwrap(), 1);
        assert_eq!(p.sent(1).unwrap(), vec![(id, 2, state("pending"))]);
    }

    #[test]
    fn sent_view_hides_ignored() {
        let (_dir, mut p) = peer_with_members();
        let first = p.send(1, 2, None, T0).unwrap();
        p.ignore(2, first, T0 + 1).unwrap();
        assert_eq!(p.sent(1).unwrap(), vec![(first, 2, state("pending"))]);
        assert_eq!(p.received(2).unwrap(), vec![(first, 1, state("ignored"))]);
        // Ignoring notifies nobody.
        assert_eq!(p.unread_notifications(1).unwrap(), 0);

        // Declining from ignored is allowed and becomes visible to the sender.
        p.decline(2, first, Some("Sorry"), T0 + 2).unwrap();
        assert_eq!(p.sent(1).unwrap(), vec![(first, 2, state("declined"))]);
        assert_eq!(p.unread_notifications(1).unwrap(), 1);
        let subject: String = p
            .conn
            .query_row("SELECT subject FROM emails WHERE member = 1 ORDER BY id DESC LIMIT 1", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(subject, "Your connection request was withdrawn");

        // A re-send gets a new id; withdrawing it from ignored notifies Bob.
        let second = p.send(1, 2, None, T0 + 3).unwrap();
        assert_ne!(first, second);
        p.ignore(2, second, T0 + 4).unwrap();
        let bob_unread = p.unread_notifications(2).unwrap();
        p.withdraw(1, second, Some("Wrong person"), T0 + 5).unwrap();
        assert_eq!(p.unread_notifications(2).unwrap(), bob_unread + 1);
        assert_eq!(p.sent(1).unwrap(), vec![(first, 2, state("declined")), (second, 2, state("withdrawn"))]);
        let detail: String = p
            .conn
            .query_row("SELECT detail FROM events WHERE kind = 'invitation_withdrawn'", [], |row| row.get(0))
            .unwrap();
        assert_eq!(detail, r#"{"message":"Wrong person"}"#);
    }

    #[test]
    fn accept_from_ignored_connects() {
        let (_dir, mut p) = peer_with_members();
        let id = p.send(3, 4, None, T0).unwrap();
        p.ignore(4, id, T0).unwrap();
        p.accept(4, id, T0).unwrap();
        assert_eq!(p.connections(3).unwrap(), vec![4]);
        assert_eq!(p.connections(4).unwrap(), vec![3]);
    }

    #[test]
    fn block_cancels_and_stops_sends() {
        let (_dir, mut p) = peer_with_members();
        let to_bob = p.send(1, 2, None, T0).unwrap();
        let from_cy = p.send(3, 1, None, T0).unwrap();
        p.ignore(1, from_cy, T0).unwrap();
        let with_four = p.send(4, 1, None, T0).unwrap();
        p.accept(1, with_four, T0).unwrap();
        let unrelated = p.send(2, 3, None, T0).unwrap();

        // Ann blocks Bob: her own request is cancelled; Bob sees nothing change.
        p.block(1, 2, T0 + 1).unwrap();
        assert_eq!(p.sent(1).unwrap(), vec![(to_bob, 2, state("cancelled"))]);
        assert_eq!(p.received(2).unwrap(), vec![(to_bob, 1, state("pending"))]);
        assert_eq!(p.send(1, 2, None, T0 + 2), Err(PeerError::NotAllowed));
        assert_eq!(p.send(2, 1, None, T0 + 2), Err(PeerError::NotAllowed));

        // Ann blocks Cy, whose request she had ignored: Cy still sees pending.
        p.block(1, 3, T0 + 3).unwrap();
        assert_eq!(
            p.received(1).unwrap(),
            vec![(from_cy, 3, state("cancelled")), (with_four, 4, state("accepted"))]
        );
        assert_eq!(p.sent(3).unwrap(), vec![(from_cy, 1, state("pending"))]);
        // Cancelled requests are closed: no command can move them.
        assert_eq!(p.accept(1, from_cy, T0 + 3), Err(PeerError::InvalidTransition));
        assert_eq!(p.withdraw(3, from_cy, None, T0 + 3), Err(PeerError::InvalidTransition));

        // Ann blocks 4: the connection goes on both sides.
        p.block(1, 4, T0 + 4).unwrap();
        assert_eq!(p.connections(1).unwrap(), Vec::<u64>::new());
        assert_eq!(p.connections(4).unwrap(), Vec::<u64>::new());

        // Blocking again changes nothing and writes nothing.
        let events = count(&p, "SELECT count(*) FROM events");
        p.block(1, 4, T0 + 5).unwrap();
        assert_eq!(count(&p, "SELECT count(*) FROM events"), events);

        // Requests between other members are untouched.
        assert_eq!(p.sent(2).unwrap(), vec![(unrelated, 3, state("pending"))]);
        // The blocked members were not notified of anything.
        assert_eq!(count(&p, "SELECT count(*) FROM notifications WHERE member = 2"), 1);
        assert_eq!(count(&p, "SELECT count(*) FROM events WHERE kind = 'invitation_cancelled'"), 2);
        assert_eq!(count(&p, "SELECT count(*) FROM events WHERE kind = 'connection_removed'"), 1);
    }

    #[test]
    fn old_requests_name_their_date() {
        let (_dir, mut p) = peer_with_members();
        let created = 1_790_985_600_000; // 2026-10-03T00:00:00Z
        let id = p.send(1, 2, None, created).unwrap();
        p.withdraw(1, id, None, created + 8 * DAY).unwrap();
        let text: String = p
            .conn
            .query_row("SELECT text FROM notifications WHERE kind = 'invitation_withdrawn'", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(text, "Ann withdrew the connection request sent on 2026-10-03.");

        let fresh = p.send(1, 2, None, created + 9 * DAY).unwrap();
        p.withdraw(1, fresh, None, created + 10 * DAY).unwrap();
        let text: String = p
            .conn
            .query_row(
                "SELECT text FROM notifications WHERE kind = 'invitation_withdrawn'
                 ORDER BY id DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(text, "Ann withdrew the connection request.");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(-1), (1969, 12, 31));
        assert_eq!(civil_date(951_782_400_000), (2000, 2, 29));
        assert_eq!(civil_date(1_790_985_600_000), (2026, 10, 3));
    }

    #[test]
    fn member_text_is_escaped() {
        let (_dir, mut p) = peer();
        p.register(10, Some("a@example.com"), Some("Evil\r\nBcc: x@y"), T0).unwrap();
        p.register(11, Some("b@example.com"), None, T0).unwrap();
        p.send(10, 11, Some("say \"hi\"\n\\ \u{1}"), T0).unwrap();
        let subject: String = p.conn.query_row("SELECT subject FROM emails", [], |row| row.get(0)).unwrap();
        assert_eq!(subject, "Evil  Bcc: x@y wants to connect");
        let detail: String = p
            .conn
            .query_row("SELECT detail FROM events WHERE kind = 'invitation_sent'", [], |row| row.get(0))
            .unwrap();
        assert_eq!(detail, r#"{"note":"say \"hi\"\n\\ \u0001"}"#);
        let valid: i64 = p
            .conn
            .query_row("SELECT json_valid(detail) FROM events WHERE kind = 'invitation_sent'", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(valid, 1);
    }

    #[test]
    fn full_range_ids_round_trip_and_sort() {
        let (_dir, mut p) = peer();
        let big = u64::MAX - 1;
        let mid = 1u64 << 63;
        for id in [5, big, mid] {
            p.register(id, None, None, T0).unwrap();
        }
        let a = p.send(big, 5, None, T0).unwrap();
        let b = p.send(mid, 5, None, T0).unwrap();
        p.accept(5, a, T0).unwrap();
        p.accept(5, b, T0).unwrap();
        assert_eq!(p.connections(5).unwrap(), vec![mid, big]);
        assert_eq!(p.connections(big).unwrap(), vec![5]);
        assert_eq!(p.received(5).unwrap(), vec![(a, big, state("accepted")), (b, mid, state("accepted"))]);
    }

    #[test]
    fn reopen_keeps_state_and_uses_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("peer.db");
        {
            let mut p = SqlitePeer::open(&path).unwrap();
            p.register(1, None, None, T0).unwrap();
            p.register(2, None, None, T0).unwrap();
            p.send(1, 2, None, T0).unwrap();
        }
        let mut p = SqlitePeer::open(&path).unwrap();
        assert_eq!(p.request_count().unwrap(), 1);
        assert_eq!(p.send(1, 2, None, T0), Err(PeerError::AlreadyPending));
        let mode: String = p.conn.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = p.conn.query_row("PRAGMA synchronous", [], |row| row.get(0)).unwrap();
        assert_eq!(sync, 1, "NORMAL");
    }

    #[test]
    fn lookups_use_indexes() {
        let (_dir, p) = peer();
        let plan = |sql: &str| -> String {
            p.conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map([], |row| row.get::<_, String>(3))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap()
                .join("; ")
        };
        let open = plan(
            "SELECT 1 FROM requests
             WHERE sender = 1 AND recipient = 2 AND state IN ('pending', 'ignored')",
        );
        assert!(open.contains("requests_open_pair"), "{open}");
        let sent = plan("SELECT id FROM requests WHERE sender = 1 ORDER BY id");
        assert!(sent.contains("requests_by_sender"), "{sent}");
        assert!(!sent.contains("TEMP B-TREE"), "{sent}");
        let received = plan("SELECT id FROM requests WHERE recipient = 1 ORDER BY id");
        assert!(received.contains("requests_by_recipient"), "{received}");
        let unread = plan("SELECT count(*) FROM notifications WHERE member = 1 AND read = 0");
        assert!(unread.contains("notifications_by_member"), "{unread}");
        let due = plan("SELECT id FROM emails WHERE sent_at IS NULL AND due_at <= 5");
        assert!(due.contains("emails_due_unsent"), "{due}");
    }

    #[test]
    fn bulk_load_writes_what_the_commands_would() {
        use crate::workload::{Fate, Preload};
        let dir = tempfile::tempdir().unwrap();
        let mut peer = SqlitePeer::open(&dir.path().join("bulk.sqlite")).unwrap();
        let data = [
            Preload { sender: 1, recipient: 2, fate: Fate::Accepted },
            Preload { sender: 1, recipient: 3, fate: Fate::Ignored },
            Preload { sender: 3, recipient: 2, fate: Fate::Withdrawn },
        ];
        let at = peer.bulk_load(3, &data, 1_000).unwrap();
        assert!(at > 1_003);
        assert_eq!(peer.connections(1).unwrap(), vec![2]);
        assert_eq!(peer.connections(2).unwrap(), vec![1]);
        let sent: Vec<String> = peer.sent(1).unwrap().into_iter().map(|r| r.2).collect();
        assert_eq!(sent, ["accepted", "pending"]);
        assert_eq!(peer.unread_notifications(2).unwrap(), 3);
        assert_eq!(peer.request_count().unwrap(), 3);
        // The commands carry on from the loaded state.
        assert_eq!(SqlitePeer::send(&mut peer, 2, 1, None, at), Err(PeerError::AlreadyConnected));
        assert!(SqlitePeer::send(&mut peer, 2, 3, None, at).is_ok());
    }
}
