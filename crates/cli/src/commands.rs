//! The commands that operate on a database, generic over the backend. Each
//! returns an [`Output`]: text for a person and JSON for a script.

use crate::cli::{Command, EventFormat};
use crate::db::Backend;
use crate::time::now;
use connreq_core::{
    Error, EventRecord, Flag, FlagId, MemberId, Notification, Request, RequestId, Seq, Stats, Timestamp,
};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::{self, Write};

/// What a command printed: text for a person, JSON for `--json`.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// Human-readable, ends with a newline.
    pub text: String,
    /// Machine-readable.
    pub json: Value,
}

impl Output {
    /// Text (a newline is added when missing) and JSON.
    pub(crate) fn new(text: impl Into<String>, json: Value) -> Self {
        let mut text = text.into();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Self { text, json }
    }
}

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The network refused (exit code 1).
    Connreq(Error),
    /// Something else went wrong, said in words (exit code 1).
    Failed(String),
    /// Arguments that cannot go together, said in words (exit code 2).
    Usage(String),
    /// Output or input failed.
    Io(io::Error),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Connreq(e) => write!(f, "{e}"),
            CliError::Failed(m) | CliError::Usage(m) => f.write_str(m),
            CliError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Connreq(e)
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Io(e)
    }
}

/// `value` as one line of JSON in which every bidirectional override or
/// isolate is written as its `\u` escape: the same data for a program, but a
/// terminal showing it is not reordered by member text stored before such
/// characters were refused.
pub fn safe_json(value: &Value) -> String {
    let text = value.to_string();
    if !text.chars().any(connreq_core::text::is_bidi_control) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if connreq_core::text::is_bidi_control(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// What `connreq backup` says.
pub fn backup_output(report: &crate::db::BackupReport) -> Output {
    Output::new(
        format!(
            "backed up {} event(s), through event {}, to {}",
            report.events,
            report.through.0,
            report.path.display()
        ),
        json!({ "path": report.path.display().to_string(), "through": report.through.0, "events": report.events }),
    )
}

/// What `connreq repair` says: what was found, kept and lost.
pub fn repair_output(report: &crate::db::RepairReport) -> Output {
    let mut text = String::new();
    for p in &report.problems {
        let _ = writeln!(text, "found: {p}");
    }
    text.push_str(&report.summary());
    Output::new(
        text,
        json!({
            "repaired": report.repaired,
            "problems": report.problems,
            "kept_through": report.kept_through.0,
            "history_lost": report.history_lost.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>(),
            "commands_lost": report.commands_lost.map(|(a, b)| json!([a, b])),
            "end_unknown": report.end_unknown,
            "damaged_copy": report.damaged_copy.as_ref().map(|p| p.display().to_string()),
        }),
    )
}

/// A timestamp as RFC 3339 text.
pub fn time_json(t: Timestamp) -> Value {
    Value::String(t.to_string())
}

/// A request as JSON.
pub fn request_json(r: &Request) -> Value {
    json!({
        "id": r.id.0,
        "sender": r.sender.0,
        "recipient": r.recipient.0,
        "note": r.note,
        "state": r.state.as_str(),
        "created_at": time_json(r.created_at),
        "updated_at": time_json(r.updated_at),
        "message": r.message,
    })
}

/// A notification as JSON.
pub fn notification_json(n: &Notification) -> Value {
    json!({
        "id": n.id.0,
        "member": n.member.0,
        "kind": n.kind.as_str(),
        "request_id": n.request_id.0,
        "actor": n.actor.0,
        "created_at": time_json(n.created_at),
        "text": n.text,
        "read": n.read,
    })
}

/// A flag as JSON.
pub fn flag_json(f: &Flag) -> Value {
    json!({
        "id": f.id.0,
        "member": f.member.0,
        "rule": f.rule.as_str(),
        "evidence": f.evidence.iter().map(|s| s.0).collect::<Vec<_>>(),
        "created_at": time_json(f.created_at),
        "status": f.status.as_str(),
        "resolved_by": f.resolved_by.map(|m| m.0),
        "resolution_note": f.resolution_note,
        "resolved_at": f.resolved_at.map(time_json),
    })
}

/// Stats as JSON.
pub fn stats_json(s: &Stats) -> Value {
    json!({
        "requests": s.requests,
        "connections": s.connections,
        "members": s.members,
        "open_flags": s.open_flags,
        "unsent_emails": s.unsent_emails,
        "events": s.events,
    })
}

/// An event as JSON (`detail` parsed into an object when it is one).
pub fn event_json(e: &EventRecord) -> Value {
    let detail = serde_json::from_str::<Value>(&e.detail).unwrap_or_else(|_| Value::String(e.detail.clone()));
    json!({
        "seq": e.seq.0,
        "at": time_json(e.at),
        "kind": e.kind,
        "actor": e.actor.map(|m| m.0),
        "subject": e.subject.map(|m| m.0),
        "request_id": e.request_id.map(|r| r.0),
        "detail": detail,
    })
}

/// A request as one line of text (and its note and message below it).
pub(crate) fn request_line(r: &Request) -> String {
    let mut s = format!("{}  {} -> {}  {}  sent {}", r.id, r.sender, r.recipient, r.state, r.created_at);
    if r.updated_at != r.created_at {
        let _ = write!(s, "  updated {}", r.updated_at);
    }
    if let Some(n) = &r.note {
        let _ = write!(s, "\n    note: {}", n.replace('\n', "\n          "));
    }
    if let Some(m) = &r.message {
        let _ = write!(s, "\n    message: {}", m.replace('\n', "\n             "));
    }
    s
}

/// A list of requests, or `empty` when there are none.
pub(crate) fn requests_output(list: &[Request], empty: &str) -> Output {
    let text = if list.is_empty() {
        empty.to_owned()
    } else {
        list.iter().map(request_line).collect::<Vec<_>>().join("\n")
    };
    Output::new(text, Value::Array(list.iter().map(request_json).collect()))
}

/// A flag as one line of text.
pub(crate) fn flag_line(f: &Flag) -> String {
    let evidence = f.evidence.iter().map(|s| s.0.to_string()).collect::<Vec<_>>().join(", ");
    let mut line = format!(
        "{}  {}  {}  {}  opened {}  (evidence: events {evidence})",
        f.id, f.member, f.rule, f.status, f.created_at
    );
    if let Some(at) = f.resolved_at {
        let _ = write!(line, "\n    resolved {at}");
        if let Some(m) = f.resolved_by {
            let _ = write!(line, " by {m}");
        }
        if let Some(n) = &f.resolution_note {
            let _ = write!(line, ": {}", n.replace('\n', "\n      "));
        }
    }
    line
}

/// One event behind a flag, on one line: when, what, who, and its detail.
/// A line of `review` for one event behind a flag.
pub fn evidence_line(e: &EventRecord) -> String {
    let mut line = format!("    event {}  {}  {}", e.seq.0, e.at, e.kind);
    if let Some(a) = e.actor {
        let _ = write!(line, "  by {a}");
    }
    if let Some(s) = e.subject {
        let _ = write!(line, "  on {s}");
    }
    if let Some(r) = e.request_id {
        let _ = write!(line, "  {r}");
    }
    if e.detail != "{}" {
        let _ = write!(line, "  {}", connreq_core::text::show_bidi(&e.detail).replace('\n', "\\n"));
    }
    line
}

/// The request as `viewer` sees it: their sent or received view, else the operator's.
fn seen_by<N: Backend>(net: &N, viewer: MemberId, id: RequestId) -> Result<Request, Error> {
    let seen = net.sent(viewer, None)?.into_iter().chain(net.received(viewer, None)?).find(|r| r.id == id);
    match seen {
        Some(r) => Ok(r),
        None => net.request(id),
    }
}

fn at_or_now(at: Option<Timestamp>) -> Timestamp {
    at.unwrap_or_else(now)
}

/// Runs one database command. `simulate` and `batch` are handled by the caller;
/// `events` writes straight to `out` and returns `None`.
pub fn execute<N: Backend>(
    net: &N,
    command: &Command,
    out: &mut dyn Write,
) -> Result<Option<Output>, CliError> {
    let m = |id: u64| MemberId(id);
    let output = match command {
        Command::Simulate { .. }
        | Command::Batch { .. }
        | Command::Backup { .. }
        | Command::Repair
        | Command::Serve { .. }
        | Command::Token { .. } => {
            return Err(CliError::Failed("this command cannot run here".into()));
        }
        Command::Register { member, email, name, locale, at } => {
            net.register_in(m(*member), email.as_deref(), name.as_deref(), *locale, at_or_now(at.at))?;
            Output::new(format!("registered {}", m(*member)), json!({ "member": member, "registered": true }))
        }
        Command::Preferences { member, on, off, frequency, at } => {
            let (who, when) = (m(*member), at_or_now(at.at));
            for kind in off {
                net.set_email_preference(who, *kind, false, when)?;
            }
            for kind in on {
                net.set_email_preference(who, *kind, true, when)?;
            }
            if let Some(f) = frequency {
                net.set_email_frequency(who, *f, when)?;
            }
            let prefs = net.email_preferences(who)?;
            let frequency = net.email_frequency(who)?;
            let mut text: Vec<String> =
                prefs.iter().map(|(k, on)| format!("{k}: {}", if *on { "on" } else { "off" })).collect();
            text.push(format!("frequency: {frequency}"));
            let kinds: serde_json::Map<String, serde_json::Value> =
                prefs.iter().map(|(k, on)| (k.as_str().to_owned(), json!(on))).collect();
            Output::new(
                text.join("\n"),
                json!({ "member": member, "preferences": kinds, "frequency": frequency.as_str() }),
            )
        }
        Command::Locale { member, locale, at } => {
            if let Some(l) = locale {
                net.set_locale(m(*member), *l, at_or_now(at.at))?;
            }
            let locale = net.locale(m(*member))?;
            Output::new(
                format!("{}'s language is {locale}", m(*member)),
                json!({ "member": member, "locale": locale.as_str() }),
            )
        }
        Command::Setting { member, setting, at } => {
            net.set_invitation_setting(m(*member), *setting, at_or_now(at.at))?;
            Output::new(
                format!("{}'s invitation setting is now {setting}", m(*member)),
                json!({ "member": member, "setting": setting.as_str() }),
            )
        }
        Command::ImportContacts { member, emails, at } => {
            let list: Vec<&str> = emails.iter().map(String::as_str).collect();
            net.import_contacts(m(*member), &list, at_or_now(at.at))?;
            Output::new(
                format!("imported {} contact address(es) for {}", list.len(), m(*member)),
                json!({ "member": member, "imported": list.len() }),
            )
        }
        Command::Send { sender, recipient, note, email, at } => {
            let id =
                net.send(m(*sender), m(*recipient), note.as_deref(), email.as_deref(), at_or_now(at.at))?;
            let r = net.request(id)?;
            let text = if r.sender == m(*sender) {
                format!("{id} sent from {} to {}", r.sender, r.recipient)
            } else {
                format!(
                    "{} had already invited {}: {id} accepted instead; you are connected",
                    r.sender, r.recipient
                )
            };
            Output::new(text, request_json(&seen_by(net, m(*sender), id)?))
        }
        Command::Accept { recipient, request, at } => {
            let id = RequestId(*request);
            net.accept(m(*recipient), id, at_or_now(at.at))?;
            let r = seen_by(net, m(*recipient), id)?;
            Output::new(
                format!("{id} accepted: {} and {} are connected", r.sender, r.recipient),
                request_json(&r),
            )
        }
        Command::Ignore { recipient, request, at } => {
            let id = RequestId(*request);
            net.ignore(m(*recipient), id, at_or_now(at.at))?;
            let r = seen_by(net, m(*recipient), id)?;
            Output::new(format!("{id} ignored (archived; {} is not told)", r.sender), request_json(&r))
        }
        Command::Decline { recipient, request, message, at } => {
            let id = RequestId(*request);
            net.decline(m(*recipient), id, message.as_deref(), at_or_now(at.at))?;
            Output::new(format!("{id} declined"), request_json(&seen_by(net, m(*recipient), id)?))
        }
        Command::Withdraw { sender, request, message, at } => {
            let id = RequestId(*request);
            net.withdraw(m(*sender), id, message.as_deref(), at_or_now(at.at))?;
            Output::new(format!("{id} withdrawn"), request_json(&seen_by(net, m(*sender), id)?))
        }
        Command::Block { blocker, blocked, at } => {
            net.block(m(*blocker), m(*blocked), at_or_now(at.at))?;
            Output::new(
                format!("{} blocked {}", m(*blocker), m(*blocked)),
                json!({ "blocker": blocker, "blocked": blocked, "blocking": true }),
            )
        }
        Command::Unblock { blocker, blocked, at } => {
            net.unblock(m(*blocker), m(*blocked), at_or_now(at.at))?;
            Output::new(
                format!("{} unblocked {}", m(*blocker), m(*blocked)),
                json!({ "blocker": blocker, "blocked": blocked, "blocking": false }),
            )
        }
        Command::Report { reporter, reported, reason, request, at } => {
            net.report(m(*reporter), m(*reported), *reason, request.map(RequestId), at_or_now(at.at))?;
            Output::new(
                format!("{} reported {} ({reason})", m(*reporter), m(*reported)),
                json!({ "reporter": reporter, "reported": reported, "reason": reason.as_str(), "request_id": request }),
            )
        }
        Command::Inbox { member, unread, mark_read, at } => {
            let list = net.notifications(m(*member), *unread)?;
            let mut text = if list.is_empty() {
                format!("no {}notifications for {}", if *unread { "unread " } else { "" }, m(*member))
            } else {
                list.iter()
                    .map(|n| {
                        format!(
                            "{}  {}  {}  from {}{}\n    {}",
                            n.id,
                            n.created_at,
                            n.kind,
                            n.actor,
                            if n.read { "" } else { "  [unread]" },
                            n.text.replace('\n', "\n    ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let unread_ids: Vec<_> = list.iter().filter(|n| !n.read).map(|n| n.id).collect();
            if *mark_read && !unread_ids.is_empty() {
                net.mark_read(m(*member), &unread_ids, at_or_now(at.at))?;
                let _ = write!(text, "\nmarked {} notification(s) read", unread_ids.len());
            }
            Output::new(text, Value::Array(list.iter().map(notification_json).collect()))
        }
        Command::Sent { member, state } => {
            requests_output(&net.sent(m(*member), *state)?, &format!("{} has sent no requests", m(*member)))
        }
        Command::Received { member, state } => requests_output(
            &net.received(m(*member), *state)?,
            &format!("{} has received no requests", m(*member)),
        ),
        Command::Invitations { member, include_ignored } => {
            invitations_output(m(*member), &net.invitations(m(*member), *include_ignored)?)
        }
        Command::Suggestions { member, limit, at } => {
            suggestions_output(m(*member), &net.suggestions(m(*member), *limit, at_or_now(at.at))?)
        }
        Command::Update { member, email, no_email, name, no_name, at } => {
            let email = if *no_email { Some(None) } else { email.as_deref().map(Some) };
            let name = if *no_name { Some(None) } else { name.as_deref().map(Some) };
            net.update_member(m(*member), email, name, at_or_now(at.at))?;
            let p = net.public_profile(m(*member))?;
            Output::new(format!("{} updated", m(*member)), json!({ "member": member, "name": p.name }))
        }
        Command::WithdrawAll { sender, older_than_days, message, at } => {
            let older = older_than_days.map(|d| std::time::Duration::from_secs(d.saturating_mul(86_400)));
            let n = net.withdraw_all(m(*sender), older, message.as_deref(), at_or_now(at.at))?;
            Output::new(format!("withdrew {n} request(s)"), json!({ "withdrawn": n }))
        }
        Command::Export { member } => {
            let export = net.export_member(m(*member))?;
            let text = serde_json::to_string_pretty(&export).unwrap_or_default();
            Output::new(text, export)
        }
        Command::Erase { member, at } => {
            net.erase_member(m(*member), at_or_now(at.at))?;
            Output::new(format!("{} erased", m(*member)), json!({ "member": member, "erased": true }))
        }
        Command::Request { request } => {
            let r = net.request(RequestId(*request))?;
            Output::new(request_line(&r), request_json(&r))
        }
        Command::Connections { member } => {
            let list = net.connections(m(*member))?;
            let ids: Vec<u64> = list.iter().map(|c| c.0).collect();
            let text = if ids.is_empty() {
                format!("{} has no connections", m(*member))
            } else {
                let shown = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
                format!("{} has {} connection(s): {shown}", m(*member), ids.len())
            };
            Output::new(text, json!({ "member": member, "connections": ids }))
        }
        Command::Standing { member } => {
            let standing = net.standing(m(*member))?;
            let flags = net.read(|model| model.flags_of(m(*member)))?;
            let mut text = format!("{}: {standing}", m(*member));
            for f in &flags {
                let _ = write!(text, "\n  {}", flag_line(f));
            }
            Output::new(
                text,
                json!({
                    "member": member,
                    "standing": standing.as_str(),
                    "flags": flags.iter().map(flag_json).collect::<Vec<_>>(),
                }),
            )
        }
        Command::Review => {
            let queue = net.review_queue()?;
            let mut text = String::new();
            let mut list = Vec::with_capacity(queue.len());
            for f in &queue {
                let events = net.flag_events(f.id)?;
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&flag_line(f));
                for e in &events {
                    let _ = write!(text, "\n{}", evidence_line(e));
                }
                let mut value = flag_json(f);
                value["events"] = Value::Array(events.iter().map(event_json).collect());
                list.push(value);
            }
            if queue.is_empty() {
                text = "the review queue is empty".to_owned();
            }
            Output::new(text, Value::Array(list))
        }
        Command::Resolve { flag, decision, moderator, note, at } => {
            let id = FlagId(*flag);
            net.resolve_flag_by(id, *decision, moderator.map(m), note.as_deref(), at_or_now(at.at))?;
            let f = net.read(|model| model.flag(id))??;
            let standing = net.standing(f.member)?;
            Output::new(
                format!("{id} resolved ({decision}): {} is now {standing}", f.member),
                json!({ "flag": flag_json(&f), "member": f.member.0, "standing": standing.as_str() }),
            )
        }
        Command::Lift { member, moderator, note, at } => {
            net.lift_restriction(m(*member), moderator.map(m), note.as_deref(), at_or_now(at.at))?;
            let standing = net.standing(m(*member))?;
            Output::new(
                format!("{}'s restriction lifted: now {standing}", m(*member)),
                json!({ "member": member, "standing": standing.as_str() }),
            )
        }
        Command::Expire { at } => {
            let n = net.expire(at_or_now(at.at))?;
            Output::new(format!("expired {n} request(s)"), json!({ "expired": n }))
        }
        Command::Stats => {
            let s = net.stats()?;
            let counts = [s.connections, s.open_flags, s.unsent_emails, s.events];
            Output::new(stats_text(&s.requests, &s.members, counts), stats_json(&s))
        }
        Command::Events { format: EventFormat::Parquet, since, limit, out: dir } => {
            let Some(dir) = dir else {
                return Err(CliError::Failed("--format parquet writes a dataset: give --out DIR".into()));
            };
            if *since != 0 || limit.is_some() {
                return Err(CliError::Failed(
                    "--format parquet exports what the dataset does not hold yet: leave out --since and --limit"
                        .into(),
                ));
            }
            let r = net.export_parquet(dir)?;
            let text = format!(
                "wrote {} event(s) in {} file(s) to {}{}; it holds events 1 to {}",
                r.events,
                r.files.len(),
                dir.display(),
                if r.rewritten { " (rewritten whole: an erasure came since the last export)" } else { "" },
                r.last
            );
            let files: Vec<String> = r.files.iter().map(|f| f.display().to_string()).collect();
            Output::new(
                text,
                json!({ "events": r.events, "files": files, "last": r.last, "rewritten": r.rewritten }),
            )
        }
        Command::Events { format, since, limit, out: dir } => {
            if dir.is_some() {
                return Err(CliError::Failed("--out is for --format parquet".into()));
            }
            write_events(net, *format, Seq(*since), *limit, out)?;
            return Ok(None);
        }
        Command::Check => {
            let problems = net.check()?;
            if !problems.is_empty() {
                for p in &problems {
                    writeln!(out, "{p}")?;
                }
                return Err(CliError::Failed(format!("the database has {} problem(s)", problems.len())));
            }
            Output::new("the database is sound", json!({ "problems": [] }))
        }
        Command::Dispatch { smtp, from, at } => {
            let sent = net.dispatch(smtp, from.as_deref(), at_or_now(at.at))?;
            Output::new(format!("sent {sent} email(s)"), json!({ "sent": sent }))
        }
    };
    Ok(Some(output))
}

/// A CSV field, quoted when it needs to be.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// Streams the event log in pages.
fn write_events<N: Backend>(
    net: &N,
    format: EventFormat,
    since: Seq,
    limit: Option<usize>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    const PAGE: usize = 10_000;
    if format == EventFormat::Csv {
        writeln!(out, "seq,at,kind,actor,subject,request_id,detail")?;
    }
    let mut after = since;
    let mut left = limit.unwrap_or(usize::MAX);
    while left > 0 {
        let page = net.events(after, Some(PAGE.min(left)))?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        left -= page.len();
        for e in &page {
            match format {
                EventFormat::Ndjson => writeln!(out, "{}", safe_json(&event_json(e)))?,
                EventFormat::Parquet => {}
                EventFormat::Csv => {
                    let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
                    writeln!(
                        out,
                        "{},{},{},{},{},{},{}",
                        e.seq.0,
                        e.at,
                        e.kind,
                        opt(e.actor.map(|m| m.0)),
                        opt(e.subject.map(|m| m.0)),
                        opt(e.request_id.map(|r| r.0)),
                        csv_field(&connreq_core::text::show_bidi(&e.detail))
                    )?
                }
            }
        }
    }
    Ok(())
}

/// What `invitations` prints: each open invitation with its mutual connections.
pub fn invitations_output(member: MemberId, list: &[connreq_core::Invitation]) -> Output {
    let text = if list.is_empty() {
        format!("{member} has no open invitations")
    } else {
        list.iter()
            .map(|i| {
                let shown = i.mutuals.iter().map(|x| x.0.to_string()).collect::<Vec<_>>().join(", ");
                format!(
                    "{}  ({} mutual connection(s){})",
                    request_line(&i.request),
                    i.mutual_count,
                    if shown.is_empty() { String::new() } else { format!(": {shown}") }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let json = list
        .iter()
        .map(|i| {
            json!({
                "request": request_json(&i.request),
                "mutual_count": i.mutual_count,
                "mutuals": i.mutuals.iter().map(|x| x.0).collect::<Vec<_>>(),
            })
        })
        .collect();
    Output::new(text, Value::Array(json))
}

/// What `suggestions` prints: each member, their mutual connections and why.
pub fn suggestions_output(member: MemberId, list: &[connreq_core::Suggestion]) -> Output {
    let text = if list.is_empty() {
        format!("no suggestions for {member}")
    } else {
        list.iter()
            .map(|s| format!("{}  {} mutual connection(s)  {}", s.member, s.mutual_count, s.reason.as_str()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let json = list
        .iter()
        .map(|s| json!({ "member": s.member.0, "mutual_count": s.mutual_count, "reason": s.reason.as_str() }))
        .collect();
    Output::new(text, Value::Array(json))
}

/// `stats` as text: requests by state, connections, members by standing,
/// open flags, unsent emails and events (`counts` holds the four numbers in
/// that order), the same from a database or a server.
pub(crate) fn stats_text<K: std::fmt::Display>(
    requests: &std::collections::BTreeMap<K, u64>,
    members: &std::collections::BTreeMap<K, u64>,
    [connections, open_flags, unsent_emails, events]: [u64; 4],
) -> String {
    let line = |map: &std::collections::BTreeMap<K, u64>| {
        map.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
    };
    format!(
        "requests: {}\nconnections: {connections}\nmembers: {}\nopen flags: {open_flags}\nunsent emails: {unsent_emails}\nevents: {events}",
        line(requests),
        line(members),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shows_bidirectional_controls_as_escapes_that_decode_to_the_same_text() {
        let value = json!({ "note": "Ada\u{202e}gpj.exe", "plain": "x" });
        let shown = safe_json(&value);
        assert_eq!(shown, r#"{"note":"Ada\u202egpj.exe","plain":"x"}"#);
        assert_eq!(serde_json::from_str::<Value>(&shown).unwrap(), value);
        assert_eq!(safe_json(&json!({"a": 1})), r#"{"a":1}"#);
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field(r#"{"a":1,"b":"x"}"#), r#""{""a"":1,""b"":""x""}""#);
        assert_eq!(csv_field("a\nb"), "\"a\nb\"");
    }
}
