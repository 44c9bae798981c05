//! Member and operator commands against a running `connreq serve`
//! (`--server URL`), so an operator can still run `review`, `stats` and the
//! rest while the server holds the database. The output is the same as on a
//! database; the server decides everything.

use crate::cli::{Command, EventFormat};
use crate::commands::{
    CliError, Output, csv_field, flag_json, flag_line, notification_json, request_json, request_line,
    requests_output, stats_text,
};
use connreq_core::{FlagId, MemberId};
use connreq_server::{Client, ClientError};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::Write;

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        CliError::Failed(e.message)
    }
}

/// Runs `command` through the server; `events` writes to `out` and returns `None`.
pub fn execute(client: &Client, command: &Command, out: &mut dyn Write) -> Result<Option<Output>, CliError> {
    let m = MemberId;
    let output = match command {
        Command::Simulate { .. }
        | Command::Batch { .. }
        | Command::Serve { .. }
        | Command::Token { .. }
        | Command::Check
        | Command::Backup { .. }
        | Command::Repair
        | Command::Dispatch { .. } => {
            return Err(CliError::Failed(
                "this command runs on the database, not through --server (the server sends emails itself with --smtp)"
                    .into(),
            ));
        }
        Command::Register { member, email, name, locale, at } => {
            client.register(*member, email.as_deref(), name.as_deref(), locale.map(|l| l.as_str()), at.at)?;
            Output::new(format!("registered {}", m(*member)), json!({ "member": member, "registered": true }))
        }
        Command::Preferences { member, on, off, frequency, at } => {
            for kind in off {
                client.set_email_preference(*member, kind.as_str(), false, at.at)?;
            }
            for kind in on {
                client.set_email_preference(*member, kind.as_str(), true, at.at)?;
            }
            if let Some(f) = frequency {
                client.set_email_frequency(*member, f.as_str(), at.at)?;
            }
            let p = client.email_preferences(*member)?;
            let order = connreq_core::PreferenceKind::EACH;
            let mut text: Vec<String> = order
                .iter()
                .filter_map(|k| {
                    p.preferences.get(k.as_str()).map(|on| format!("{k}: {}", if *on { "on" } else { "off" }))
                })
                .collect();
            text.push(format!("frequency: {}", p.frequency));
            let kinds: serde_json::Map<String, Value> = order
                .iter()
                .filter_map(|k| p.preferences.get(k.as_str()).map(|on| (k.as_str().to_owned(), json!(on))))
                .collect();
            Output::new(
                text.join("\n"),
                json!({ "member": member, "preferences": kinds, "frequency": p.frequency }),
            )
        }
        Command::Locale { member, locale, at } => {
            if let Some(l) = locale {
                client.set_locale(*member, l.as_str(), at.at)?;
            }
            let locale = client.email_preferences(*member)?.locale;
            Output::new(
                format!("{}'s language is {locale}", m(*member)),
                json!({ "member": member, "locale": locale }),
            )
        }
        Command::Invitations { member, include_ignored } => {
            let list = client.invitations(*member, *include_ignored)?;
            crate::commands::invitations_output(m(*member), &list)
        }
        Command::Suggestions { member, limit, at } => {
            let list = client.suggestions(*member, *limit, at.at)?;
            crate::commands::suggestions_output(m(*member), &list)
        }
        Command::Update { member, email, no_email, name, no_name, at } => {
            let email = if *no_email { Some(None) } else { email.as_deref().map(Some) };
            let name = if *no_name { Some(None) } else { name.as_deref().map(Some) };
            client.update_member(*member, email, name, at.at)?;
            let p = client.public_profile(*member)?;
            Output::new(format!("{} updated", m(*member)), json!({ "member": member, "name": p.name }))
        }
        Command::WithdrawAll { sender, older_than_days, message, at } => {
            let older = older_than_days.map(|d| std::time::Duration::from_secs(d.saturating_mul(86_400)));
            let n = client.withdraw_all(*sender, older, message.as_deref(), at.at)?;
            Output::new(format!("withdrew {n} request(s)"), json!({ "withdrawn": n }))
        }
        Command::Export { member } => {
            let export = client.export_member(*member)?;
            let text = serde_json::to_string_pretty(&export).unwrap_or_default();
            Output::new(text, export)
        }
        Command::Erase { member, at } => {
            client.erase_member(*member, at.at)?;
            Output::new(format!("{} erased", m(*member)), json!({ "member": member, "erased": true }))
        }
        Command::Setting { member, setting, at } => {
            client.set_invitation_setting(*member, setting.as_str(), at.at)?;
            Output::new(
                format!("{}'s invitation setting is now {setting}", m(*member)),
                json!({ "member": member, "setting": setting.as_str() }),
            )
        }
        Command::ImportContacts { member, emails, at } => {
            client.import_contacts(*member, emails, at.at)?;
            Output::new(
                format!("imported {} contact address(es) for {}", emails.len(), m(*member)),
                json!({ "member": member, "imported": emails.len() }),
            )
        }
        Command::Send { sender, recipient, note, email, at } => {
            let r = client.send(Some(*sender), *recipient, note.as_deref(), email.as_deref(), at.at)?;
            let text = if r.sender == m(*sender) {
                format!("{} sent from {} to {}", r.id, r.sender, r.recipient)
            } else {
                format!(
                    "{} had already invited {}: {} accepted instead; you are connected",
                    r.sender, r.recipient, r.id
                )
            };
            Output::new(text, request_json(&r))
        }
        Command::Accept { recipient, request, at } => {
            let r = client.respond("accept", Some(*recipient), *request, at.at)?;
            Output::new(
                format!("{} accepted: {} and {} are connected", r.id, r.sender, r.recipient),
                request_json(&r),
            )
        }
        Command::Ignore { recipient, request, at } => {
            let r = client.respond("ignore", Some(*recipient), *request, at.at)?;
            Output::new(format!("{} ignored (archived; {} is not told)", r.id, r.sender), request_json(&r))
        }
        Command::Decline { recipient, request, message, at } => {
            let r = client.decline(Some(*recipient), *request, message.as_deref(), at.at)?;
            Output::new(format!("{} declined", r.id), request_json(&r))
        }
        Command::Withdraw { sender, request, message, at } => {
            let r = client.withdraw(Some(*sender), *request, message.as_deref(), at.at)?;
            Output::new(format!("{} withdrawn", r.id), request_json(&r))
        }
        Command::Block { blocker, blocked, at } => {
            client.block(*blocker, *blocked, at.at)?;
            Output::new(
                format!("{} blocked {}", m(*blocker), m(*blocked)),
                json!({ "blocker": blocker, "blocked": blocked, "blocking": true }),
            )
        }
        Command::Unblock { blocker, blocked, at } => {
            client.unblock(*blocker, *blocked, at.at)?;
            Output::new(
                format!("{} unblocked {}", m(*blocker), m(*blocked)),
                json!({ "blocker": blocker, "blocked": blocked, "blocking": false }),
            )
        }
        Command::Report { reporter, reported, reason, request, at } => {
            client.report(Some(*reporter), *reported, reason.as_str(), *request, at.at)?;
            Output::new(
                format!("{} reported {} ({reason})", m(*reporter), m(*reported)),
                json!({ "reporter": reporter, "reported": reported, "reason": reason.as_str(), "request_id": request }),
            )
        }
        Command::Inbox { member, unread, mark_read, at } => {
            let list = client.notifications(*member, *unread)?;
            let mut text = if list.is_empty() {
                format!("no {}notifications for {}", if *unread { "unread " } else { "" }, m(*member))
            } else {
                list.iter()
                    .map(|n| {
                        let flag = if n.read { "" } else { "  [unread]" };
                        let body = n.text.replace('\n', "\n    ");
                        format!("{}  {}  {}  from {}{flag}\n    {body}", n.id, n.created_at, n.kind, n.actor)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let unread_ids: Vec<u64> = list.iter().filter(|n| !n.read).map(|n| n.id.0).collect();
            if *mark_read && !unread_ids.is_empty() {
                client.mark_read(*member, &unread_ids, at.at)?;
                let _ = write!(text, "\nmarked {} notification(s) read", unread_ids.len());
            }
            Output::new(text, Value::Array(list.iter().map(notification_json).collect()))
        }
        Command::Sent { member, state } => requests_output(
            &client.sent(*member, state.map(|s| s.as_str()))?,
            &format!("{} has sent no requests", m(*member)),
        ),
        Command::Received { member, state } => requests_output(
            &client.received(*member, state.map(|s| s.as_str()))?,
            &format!("{} has received no requests", m(*member)),
        ),
        Command::Request { request } => {
            let r = client.request(*request)?;
            Output::new(request_line(&r), request_json(&r))
        }
        Command::Connections { member } => {
            let ids = client.connections(*member)?;
            let text = if ids.is_empty() {
                format!("{} has no connections", m(*member))
            } else {
                let shown = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
                format!("{} has {} connection(s): {shown}", m(*member), ids.len())
            };
            Output::new(text, json!({ "member": member, "connections": ids }))
        }
        Command::Standing { member } => {
            let standing = client.standing(*member)?;
            let flags: Vec<_> = client.flags("all")?.into_iter().filter(|f| f.member == m(*member)).collect();
            let mut text = format!("{}: {}", m(*member), standing);
            for f in &flags {
                let _ = write!(text, "\n  {}", flag_line(f));
            }
            Output::new(
                text,
                json!({ "member": member, "standing": standing, "flags": flags.iter().map(flag_json).collect::<Vec<_>>() }),
            )
        }
        Command::Review => {
            let queue = client.flags("open")?;
            let mut text = String::new();
            let mut list = Vec::with_capacity(queue.len());
            for f in &queue {
                let events: Vec<connreq_core::EventRecord> = client
                    .flag_events(f.id.0)?
                    .into_iter()
                    .map(|e| e.into_core().map_err(|m| CliError::Failed(m.to_string())))
                    .collect::<Result<_, _>>()?;
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&flag_line(f));
                for e in &events {
                    let _ = write!(text, "\n{}", crate::commands::evidence_line(e));
                }
                let mut value = flag_json(f);
                value["events"] = Value::Array(events.iter().map(crate::commands::event_json).collect());
                list.push(value);
            }
            if queue.is_empty() {
                text = "the review queue is empty".to_owned();
            }
            Output::new(text, Value::Array(list))
        }
        Command::Resolve { flag, decision, moderator, note, at } => {
            let f = client.resolve_flag(*flag, decision.as_str(), *moderator, note.as_deref(), at.at)?;
            let standing = client.standing(f.member.0)?;
            Output::new(
                format!("{} resolved ({decision}): {} is now {}", FlagId(*flag), f.member, standing),
                json!({ "flag": flag_json(&f), "member": f.member.0, "standing": standing }),
            )
        }
        Command::Lift { member, moderator, note, at } => {
            client.lift_restriction(*member, *moderator, note.as_deref(), at.at)?;
            let standing = client.standing(*member)?;
            Output::new(
                format!("{}'s restriction lifted: now {standing}", m(*member)),
                json!({ "member": member, "standing": standing }),
            )
        }
        Command::Expire { at } => {
            let n = client.expire(at.at)?;
            Output::new(format!("expired {n} request(s)"), json!({ "expired": n }))
        }
        Command::Stats => {
            let s = client.stats()?;
            let text =
                stats_text(&s.requests, &s.members, [s.connections, s.open_flags, s.unsent_emails, s.events]);
            let json = serde_json::to_value(&s).map_err(|e| CliError::Failed(e.to_string()))?;
            Output::new(text, json)
        }
        Command::Events { format: EventFormat::Parquet, .. } => {
            return Err(CliError::Failed(
                "--format parquet reads the database itself: run it where the database is (or on a replica's)"
                    .into(),
            ));
        }
        Command::Events { format, since, limit, .. } => {
            let events = client.events(*since, limit.map(|l| l as u64))?;
            if *format == EventFormat::Csv {
                writeln!(out, "seq,at,kind,actor,subject,request_id,detail")?;
            }
            for e in &events {
                match format {
                    EventFormat::Ndjson => {
                        let detail = serde_json::from_str::<Value>(&e.detail)
                            .unwrap_or_else(|_| Value::String(e.detail.clone()));
                        let line = json!({"seq": e.seq, "at": e.at, "kind": e.kind, "actor": e.actor,
                            "subject": e.subject, "request_id": e.request_id, "detail": detail});
                        writeln!(out, "{line}")?;
                    }
                    EventFormat::Parquet => {}
                    EventFormat::Csv => {
                        let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
                        writeln!(
                            out,
                            "{},{},{},{},{},{},{}",
                            e.seq,
                            e.at,
                            e.kind,
                            opt(e.actor),
                            opt(e.subject),
                            opt(e.request_id),
                            csv_field(&e.detail)
                        )?;
                    }
                }
            }
            return Ok(None);
        }
    };
    Ok(Some(output))
}
