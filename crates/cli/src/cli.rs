//! The command line, as clap derives it.

use crate::sim::engine::PolicyChoice;
use crate::sim::population::Scenario;
use crate::time::parse_at;
use clap::{Args, Parser, Subcommand, ValueEnum};
use connreq_core::{
    Decision, EmailFrequency, Error, InvitationSetting, Locale, PreferenceKind, ReportReason, RequestState,
    Timestamp,
};
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
    /// Run member and operator commands against a running `connreq serve`
    /// (http://HOST:PORT) instead of the database; the service key comes
    /// from CONNREQ_API_KEY, else from the secrets file beside --db.
    #[arg(long, global = true, value_name = "URL")]
    pub server: Option<String>,
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

/// The log format of `connreq serve`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for a person.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Parses a duration: `90s`, `15m`, `1h`, `7d`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: u64 = digits.parse().map_err(|_| format!("{text:?} is not a duration: use 90s, 15m, 1h or 7d"))?;
    let secs = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    };
    match secs {
        Some(s) if s > 0 => Ok(std::time::Duration::from_secs(s)),
        _ => Err(format!("{text:?} is not a duration: use 90s, 15m, 1h or 7d (more than zero)")),
    }
}

/// The format of `connreq events`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum EventFormat {
    /// One JSON object per line.
    #[default]
    Ndjson,
    /// Comma-separated values with a header line.
    Csv,
    /// A Parquet dataset partitioned by month, written to --out (only what
    /// is new since the last export into it).
    Parquet,
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

fn parse_preference(s: &str) -> Result<PreferenceKind, String> {
    PreferenceKind::parse(s).map_err(|e| Error::from(e).to_string())
}

fn parse_frequency(s: &str) -> Result<EmailFrequency, String> {
    EmailFrequency::parse(s).map_err(|e| Error::from(e).to_string())
}

fn parse_locale(s: &str) -> Result<Locale, String> {
    Locale::parse(s).map_err(|e| Error::from(e).to_string())
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
        /// The language of their texts: en (the default), de, fr or es.
        #[arg(long, value_parser = parse_locale)]
        locale: Option<Locale>,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Show a member's email preferences, or change them: which kinds of email
    /// they get, and whether one by one or in a daily digest.
    Preferences {
        /// The member.
        member: u64,
        /// Switch a kind of email on: invitation_received, invitation_accepted,
        /// invitation_declined, invitation_withdrawn, invitation_reminder or all.
        #[arg(long, value_name = "KIND", value_parser = parse_preference)]
        on: Vec<PreferenceKind>,
        /// Switch a kind of email off (the same kinds).
        #[arg(long, value_name = "KIND", value_parser = parse_preference)]
        off: Vec<PreferenceKind>,
        /// immediate (an email per notification) or daily (one digest a day).
        #[arg(long, value_parser = parse_frequency)]
        frequency: Option<EmailFrequency>,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Show the language of a member's texts, or set it: en, de, fr or es.
    Locale {
        /// The member.
        member: u64,
        /// The new language.
        #[arg(value_parser = parse_locale)]
        locale: Option<Locale>,
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
    /// A member's open received invitations, with the connections they share with each sender.
    Invitations {
        /// The member.
        member: u64,
        /// Also the ones the member ignored.
        #[arg(long)]
        include_ignored: bool,
    },
    /// People a member may know: most mutual connections first, then contacts.
    Suggestions {
        /// The member.
        member: u64,
        /// At most this many.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// As of this time (cooldowns and recent declines depend on it).
        #[command(flatten)]
        at: At,
    },
    /// Change a member's address or name (checked as register checks them).
    Update {
        /// The member.
        member: u64,
        /// The new address.
        #[arg(long, conflicts_with = "no_email")]
        email: Option<String>,
        /// Remove the address.
        #[arg(long)]
        no_email: bool,
        /// The new name.
        #[arg(long, conflicts_with = "no_name")]
        name: Option<String>,
        /// Remove the name.
        #[arg(long)]
        no_name: bool,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Withdraw every open request a member sent (each recipient told as for a withdrawal).
    WithdrawAll {
        /// The sender.
        sender: u64,
        /// Only requests at least this many days old.
        #[arg(long, value_name = "DAYS")]
        older_than_days: Option<u64>,
        /// A message to each recipient.
        #[arg(long)]
        message: Option<String>,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Everything the network keeps about a member, as they may see it (JSON).
    Export {
        /// The member.
        member: u64,
    },
    /// Erase a member's personal data from every file of the database; the id stays as a tombstone.
    Erase {
        /// The member.
        member: u64,
        /// When it happens.
        #[command(flatten)]
        at: At,
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
        /// The dataset's directory (with --format parquet).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
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
        /// The mail server: smtp://[USER:PASSWORD@]HOST[:PORT] (STARTTLS when offered,
        /// always before a password) or smtps://... (TLS from the start).
        #[arg(long, value_name = "URL")]
        smtp: String,
        /// The From address [default: notifications@localhost].
        #[arg(long, value_name = "ADDRESS")]
        from: Option<String>,
        /// When it happens.
        #[command(flatten)]
        at: At,
    },
    /// Serve the network over HTTP (SPEC §12) on the database at --db.
    Serve {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:7878", value_name = "ADDR")]
        listen: String,
        /// Send each email as it falls due through this SMTP relay (smtp://HOST:PORT).
        #[arg(long, value_name = "URL")]
        smtp: Option<String>,
        /// The `From:` address of emails.
        #[arg(long, default_value = "connreq <notifications@localhost>", value_name = "ADDRESS")]
        mail_from: String,
        /// The address members reach the network at.
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// Log lines for a person, or JSON objects.
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        /// Publish every event, in log order, to this NATS server's JetStream
        /// (nats://HOST:PORT): stream CONNREQ_<network id>, subjects
        /// connreq.<network id>.events.<kind>. Commands never wait for it.
        #[arg(long, value_name = "URL", conflicts_with = "replica_of")]
        publish: Option<String>,
        /// Serve as a read replica of the network whose feed this NATS server
        /// holds (nats://HOST:PORT): every query, no command (503, naming the
        /// primary). --db is the replica's own database.
        #[arg(long, value_name = "URL", requires = "network")]
        replica_of: Option<String>,
        /// The network a replica follows: the primary's network id (its
        /// database id in hex, which the primary logs when it starts).
        #[arg(long, value_name = "ID", requires = "replica_of")]
        network: Option<String>,
        /// Add a "sign in as member N" page to the web interface, for trying it
        /// on a simulated network (refused unless --listen is a loopback address).
        #[arg(long)]
        demo: bool,
    },
    /// Mint a member token (a JWT signed with CONNREQ_TOKEN_SECRET, else the
    /// secret in the secrets file beside --db).
    Token {
        /// The member.
        member: u64,
        /// A moderator's token.
        #[arg(long)]
        moderator: bool,
        /// How long it is valid: 90s, 15m, 1h, 7d.
        #[arg(long, default_value = "1h", value_parser = parse_duration)]
        ttl: std::time::Duration,
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
            Command::Simulate { .. }
                | Command::Batch { .. }
                | Command::Backup { .. }
                | Command::Repair
                | Command::Serve { .. }
                | Command::Token { .. }
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
                | Command::Invitations { .. }
                | Command::Suggestions { .. }
                | Command::Export { .. }
                | Command::Request { .. }
                | Command::Connections { .. }
                | Command::Standing { .. }
                | Command::Review
                | Command::Stats
                | Command::Events { .. }
                | Command::Check
                | Command::Backup { .. }
        ) || matches!(self, Command::Preferences { on, off, frequency: None, .. } if on.is_empty() && off.is_empty())
            || matches!(self, Command::Locale { locale: None, .. })
    }

    /// The command's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Simulate { .. } => "simulate",
            Command::Register { .. } => "register",
            Command::Preferences { .. } => "preferences",
            Command::Locale { .. } => "locale",
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
            Command::Invitations { .. } => "invitations",
            Command::Suggestions { .. } => "suggestions",
            Command::Update { .. } => "update",
            Command::WithdrawAll { .. } => "withdraw-all",
            Command::Export { .. } => "export",
            Command::Erase { .. } => "erase",
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
            Command::Serve { .. } => "serve",
            Command::Token { .. } => "token",
        }
    }
}
