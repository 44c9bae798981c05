//! The command line, as clap derives it.

use crate::sim::engine::PolicyChoice;
use crate::sim::population::Scenario;
use crate::time::parse_at;
use clap::{Args, Parser, Subcommand, ValueEnum};
use connreq_core::{Decision, Error, InvitationSetting, ReportReason, RequestState, Timestamp};
use std::path::PathBuf;

/// connreq: the connection-request system of a professional network, on the command line.
#[derive(Debug, Parser)]
#[command(name = "connreq", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The database directory [default: ./data/connreq.db].
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// The policy to run under (simulate: default standard; other commands: the database's own).
    #[arg(long, global = true, value_enum)]
    pub policy: Option<PolicyChoice>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--at`: when the command happens.
#[derive(Clone, Copy, Debug, Args)]
pub struct At {
    /// When it happens: RFC 3339 (2026-01-01T09:30:00Z) or epoch milliseconds [default: now].
    #[arg(long, value_name = "TIME", value_parser = parse_at, allow_negative_numbers = true)]
    pub at: Option<Timestamp>,
}

/// The format of `connreq events`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum EventFormat {
    /// One JSON object per line.
    #[default]
    Ndjson,
    /// Comma-separated values with a header line.
    Csv,
}

fn parse_setting(s: &str) -> Result<InvitationSetting, String> {
    InvitationSetting::parse(s).map_err(|e| Error::from(e).to_string())
}

fn parse_reason(s: &str) -> Result<ReportReason, String> {
    ReportReason::parse(s).map_err(|e| Error::from(e).to_string())
}

fn parse_state(s: &str) -> Result<RequestState, String> {
    RequestState::parse(s).map_err(|e| Error::from(e).to_string())
}

fn parse_field(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((field, value)) if !field.is_empty() => Ok((field.to_owned(), value.to_owned())),
        _ => Err(format!("expected FIELD=JSON, not {s:?}")),
    }
}

fn parse_decision(s: &str) -> Result<Decision, String> {
    Decision::parse(s).map_err(|e| Error::from(e).to_string())
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a population of members for some days and report what moderation caught.
    Simulate {
        /// How many members.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(2..=5_000_000))]
        members: u32,
        /// How many days.
        #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
        days: u32,
        /// The PRNG seed: the same seed gives the same run.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Delete the connreq database at --db first, if there is one.
        #[arg(long)]
        replace: bool,
        /// The population mix.
        #[arg(long, value_enum, default_value_t = Scenario::Mixed)]
        scenario: Scenario,
        /// Run in memory only: no database is written (for measuring many runs).
        #[arg(long)]
        in_memory: bool,
        /// Set a policy field for the run, FIELD=JSON (e.g. review_report_share=0.03, burst_per_hour=null); repeatable.
        #[arg(long, value_name = "FIELD=JSON", value_parser = parse_field)]
        set: Vec<(String, String)>,
    },
    /// Register a member.
    Register {
        /// The new member's id.
        member: u64,
        /// Their email address.
        #[arg(long)]
        email: Option<String>,
        /// Their display name.
        #[arg(long)]
        name: Option<String>,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Set who may invite a member: everyone, email_or_contacts, contacts or nobody.
    Setting {
        /// The member.
        member: u64,
        /// The new setting.
        #[arg(value_parser = parse_setting)]
        setting: InvitationSetting,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Add email addresses to a member's imported contacts.
    ImportContacts {
        /// The member.
        member: u64,
        /// The addresses.
        #[arg(required = true)]
        emails: Vec<String>,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Send a connection request.
    Send {
        /// Who invites.
        sender: u64,
        /// Who is invited.
        recipient: u64,
        /// A note (at most 300 characters under the standard policy).
        #[arg(long)]
        note: Option<String>,
        /// The recipient's email address, for recipients who ask for it.
        #[arg(long)]
        email: Option<String>,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Accept a request (as its recipient).
    Accept {
        /// The recipient.
        recipient: u64,
        /// The request id.
        request: u64,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Ignore (archive) a request (as its recipient); the sender is not told.
    Ignore {
        /// The recipient.
        recipient: u64,
        /// The request id.
        request: u64,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Decline a request (as its recipient); the sender is told.
    Decline {
        /// The recipient.
        recipient: u64,
        /// The request id.
        request: u64,
        /// A message to the sender.
        #[arg(long)]
        message: Option<String>,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Withdraw a request (as its sender).
    Withdraw {
        /// The sender.
        sender: u64,
        /// The request id.
        request: u64,
        /// A message to the recipient.
        #[arg(long)]
        message: Option<String>,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Block a member: cancels open requests both ways and refuses new ones.
    Block {
        /// Who blocks.
        blocker: u64,
        /// Who is blocked.
        blocked: u64,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Lift a block.
    Unblock {
        /// Who had blocked.
        blocker: u64,
        /// Who was blocked.
        blocked: u64,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Report a member: spam, harassment or dont_know.
    Report {
        /// Who reports.
        reporter: u64,
        /// Who is reported.
        reported: u64,
        /// Why.
        #[arg(value_parser = parse_reason)]
        reason: ReportReason,
        /// The request from the reported member the report is about.
        #[arg(long)]
        request: Option<u64>,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// A member's in-app notifications, oldest first.
    Inbox {
        /// The member.
        member: u64,
        /// Only unread ones.
        #[arg(long)]
        unread: bool,
        /// Mark the listed notifications read.
        #[arg(long)]
        mark_read: bool,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// The requests a member sent, as the sender sees them.
    Sent {
        /// The member.
        member: u64,
        /// Only requests shown in this state.
        #[arg(long, value_parser = parse_state)]
        state: Option<RequestState>,
    },
    /// The requests a member received, as the recipient sees them.
    Received {
        /// The member.
        member: u64,
        /// Only requests shown in this state.
        #[arg(long, value_parser = parse_state)]
        state: Option<RequestState>,
    },
    /// A request as the operator sees it (the true state).
    Request {
        /// The request id.
        request: u64,
    },
    /// A member's connections.
    Connections {
        /// The member.
        member: u64,
    },
    /// A member's moderation standing and flags.
    Standing {
        /// The member.
        member: u64,
    },
    /// The moderation review queue: open flags, each with the events behind it.
    Review,
    /// Resolve a flag: clear or restrict.
    Resolve {
        /// The flag id.
        flag: u64,
        /// The decision.
        #[arg(value_parser = parse_decision)]
        decision: Decision,
        /// The moderator deciding (a member id).
        #[arg(long)]
        moderator: Option<u64>,
        /// Why, in the moderator's words.
        #[arg(long)]
        note: Option<String>,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Lift a restriction a moderator decided on: the member may send again.
    Lift {
        /// The member restricted.
        member: u64,
        /// The moderator lifting it (a member id).
        #[arg(long)]
        moderator: Option<u64>,
        /// Why, in the moderator's words.
        #[arg(long)]
        note: Option<String>,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Expire open requests older than the policy's pending_ttl.
    Expire {
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Counts: requests by state, connections, members by standing, flags, emails.
    Stats,
    /// The event log.
    Events {
        /// Output format.
        #[arg(long, value_enum, default_value_t = EventFormat::Ndjson)]
        format: EventFormat,
        /// Only events after this sequence number.
        #[arg(long, default_value_t = 0)]
        since: u64,
        /// At most this many events.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Check the database for damage (reads it only; with --json, always prints JSON).
    Check,
    /// Write a consistent copy of the database to DEST (a new or empty directory).
    Backup {
        /// Where the copy goes.
        dest: PathBuf,
    },
    /// Rebuild a damaged database from what can still be trusted, saying what was lost
    /// (the damaged files are kept beside it as <name>.damaged).
    Repair,
    /// Send the due emails over SMTP.
    Dispatch {
        /// The mail server, smtp://HOST:PORT.
        #[arg(long, value_name = "URL")]
        smtp: String,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Run commands from standard input (or a file), one per line, against one database.
    Batch {
        /// Read the commands from this file instead of standard input.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Go on after a line fails (the exit code still reports the failure).
        #[arg(long)]
        keep_going: bool,
    },
}

impl Command {
    /// Whether this command may run inside `connreq batch`.
    pub fn allowed_in_batch(&self) -> bool {
        !matches!(
            self,
            Command::Simulate { .. } | Command::Batch { .. } | Command::Backup { .. } | Command::Repair
        )
    }

    /// Whether this command only reads the database: it opens it for reading
    /// only and writes nothing (no event, no policy change, no snapshot).
    pub fn reads_only(&self) -> bool {
        matches!(
            self,
            Command::Inbox { mark_read: false, .. }
                | Command::Sent { .. }
                | Command::Received { .. }
                | Command::Request { .. }
                | Command::Connections { .. }
                | Command::Standing { .. }
                | Command::Review
                | Command::Stats
                | Command::Events { .. }
                | Command::Check
                | Command::Backup { .. }
        )
    }

    /// The command's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Simulate { .. } => "simulate",
            Command::Register { .. } => "register",
            Command::Setting { .. } => "setting",
            Command::ImportContacts { .. } => "import-contacts",
            Command::Send { .. } => "send",
            Command::Accept { .. } => "accept",
            Command::Ignore { .. } => "ignore",
            Command::Decline { .. } => "decline",
            Command::Withdraw { .. } => "withdraw",
            Command::Block { .. } => "block",
            Command::Unblock { .. } => "unblock",
            Command::Report { .. } => "report",
            Command::Inbox { .. } => "inbox",
            Command::Sent { .. } => "sent",
            Command::Received { .. } => "received",
            Command::Request { .. } => "request",
            Command::Connections { .. } => "connections",
            Command::Standing { .. } => "standing",
            Command::Review => "review",
            Command::Resolve { .. } => "resolve",
            Command::Lift { .. } => "lift",
            Command::Expire { .. } => "expire",
            Command::Stats => "stats",
            Command::Events { .. } => "events",
            Command::Check => "check",
            Command::Backup { .. } => "backup",
            Command::Repair => "repair",
            Command::Dispatch { .. } => "dispatch",
            Command::Batch { .. } => "batch",
        }
    }
}
