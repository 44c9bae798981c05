//! The end-of-run report: what happened to the invitations, what moderation
//! flagged, and how well that matches the planted labels.
//!
//! A planted abuser counts as caught if they have any flag (open or resolved,
//! any rule). Precision is flagged abusers over all flagged members; recall is
//! caught abusers over planted ones.

use super::engine::{START, SimConfig, Simulation};
use super::population::Label;
use connreq_core::{Error, FlagRule, MemberId, Network};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Target: precision of moderation against the planted labels.
pub const TARGET_PRECISION: f64 = 0.95;
/// Target: recall of moderation against the planted labels.
pub const TARGET_RECALL: f64 = 0.90;
/// Target: largest share of normal members ever flagged.
pub const TARGET_NORMAL_FLAGGED: f64 = 0.0013;

/// The report of one simulation run, as `--json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimReport {
    /// Members simulated.
    pub members: u32,
    /// Days simulated.
    pub days: u32,
    /// The PRNG seed.
    pub seed: u64,
    /// `standard` or `linkedin`.
    pub policy: String,
    /// When simulated time started.
    pub start: String,
    /// Planted abusers by kind.
    pub planted: Planted,
    /// Invitations sent (requests created).
    pub invitations_sent: u64,
    /// Requests by final (true) state.
    pub requests: BTreeMap<String, u64>,
    /// Connections at the end.
    pub connections: u64,
    /// Notifications and emails.
    pub notifications: Notifications,
    /// What members did, counted by the simulation.
    pub actions: BTreeMap<String, u64>,
    /// Commands the network accepted.
    pub commands: u64,
    /// Commands the network refused, by error.
    pub refused: BTreeMap<String, u64>,
    /// Moderation flags raised.
    pub flags: Flags,
    /// Members by final standing.
    pub standing: BTreeMap<String, u64>,
    /// Moderation against the planted labels.
    pub moderation: Moderation,
    /// Whether the targets were met.
    pub targets: Targets,
    /// Events in the log.
    pub events: u64,
    /// Wall-clock run time in seconds (the only field that differs between identical runs).
    pub run_time_seconds: f64,
    /// Bytes of the database directory (0 for an in-memory database).
    pub db_bytes: u64,
}

/// Planted abusers by kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Planted {
    /// Members who send, withdraw and re-send to the same few people.
    pub withdraw_cyclers: u64,
    /// Members who send many unwanted invitations.
    pub spammers: u64,
}

/// Notifications and emails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notifications {
    /// In-app notifications.
    pub in_app: u64,
    /// In-app notifications by kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Emails queued.
    pub emails: u64,
    /// Emails not yet sent (no dispatch runs during a simulation).
    pub unsent_emails: u64,
}

/// Moderation flags raised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Flags {
    /// Flags by rule (every rule present).
    pub by_rule: BTreeMap<String, u64>,
    /// Flags still open.
    pub open: u64,
    /// Members with at least one flag.
    pub members_flagged: u64,
}

/// Moderation quality against the planted labels.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Moderation {
    /// Flagged abusers / flagged members (`null` when nobody was flagged).
    pub precision: Option<f64>,
    /// Caught abusers / planted abusers (`null` when none were planted).
    pub recall: Option<f64>,
    /// Recall among withdraw-cyclers.
    pub recall_withdraw_cyclers: Option<f64>,
    /// Recall among spammers.
    pub recall_spammers: Option<f64>,
    /// Withdraw-cyclers caught.
    pub caught_withdraw_cyclers: u64,
    /// Spammers caught.
    pub caught_spammers: u64,
    /// Normal members.
    pub normal_members: u64,
    /// Normal members with any flag.
    pub normal_flagged: u64,
    /// `normal_flagged / normal_members`.
    pub normal_flagged_share: f64,
    /// Flags on normal members, by rule.
    pub normal_flagged_by_rule: BTreeMap<String, u64>,
}

/// The targets of the simulation, met or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Targets {
    /// Precision ≥ 0.95.
    pub precision: bool,
    /// Recall ≥ 0.90.
    pub recall: bool,
    /// At most 0.13% of normal members flagged.
    pub normal_flagged: bool,
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Scores a finished simulation (run time and database size are filled in by the caller).
pub fn score<N: Network>(net: &N, config: &SimConfig, sim: &Simulation<'_, N>) -> Result<SimReport, Error> {
    let stats = net.stats()?;
    let (in_app, by_kind, emails, flags) = net.read(|m| {
        let (counts, emails) = m.notification_counts();
        let by_kind: BTreeMap<String, u64> =
            counts.iter().map(|(k, n)| (k.as_str().to_owned(), *n)).collect();
        let flags: Vec<(MemberId, FlagRule)> = m.all_flags().iter().map(|f| (f.member, f.rule)).collect();
        (counts.values().sum::<u64>(), by_kind, emails, flags)
    })?;
    let pop = sim.population();
    let label = |m: MemberId| {
        let i = usize::try_from(m.0.wrapping_sub(1)).unwrap_or(usize::MAX);
        pop.people.get(i).map_or(Label::Normal, |p| p.label)
    };
    let mut by_rule: BTreeMap<String, u64> =
        FlagRule::ALL.iter().map(|r| (r.as_str().to_owned(), 0)).collect();
    let mut normal_by_rule: BTreeMap<String, u64> = BTreeMap::new();
    let mut flagged: BTreeSet<MemberId> = BTreeSet::new();
    for (member, rule) in &flags {
        *by_rule.entry(rule.as_str().to_owned()).or_default() += 1;
        flagged.insert(*member);
        if label(*member) == Label::Normal {
            *normal_by_rule.entry(rule.as_str().to_owned()).or_default() += 1;
        }
    }
    let count = |l: Label| pop.people.iter().filter(|p| p.label == l).count() as u64;
    let caught = |l: Label| flagged.iter().filter(|m| label(**m) == l).count() as u64;
    let (cyclers, spammers, normal) =
        (count(Label::WithdrawCycler), count(Label::Spammer), count(Label::Normal));
    let (caught_c, caught_s, normal_flagged) =
        (caught(Label::WithdrawCycler), caught(Label::Spammer), caught(Label::Normal));
    let precision = ratio(caught_c + caught_s, flagged.len() as u64);
    let recall = ratio(caught_c + caught_s, cyclers + spammers);
    let normal_share = ratio(normal_flagged, normal).unwrap_or(0.0);
    let c = sim.counters();
    let actions: BTreeMap<String, u64> = [
        ("sends", c.sends),
        ("accepts", c.accepts),
        ("ignores", c.ignores),
        ("declines", c.declines),
        ("withdrawals", c.withdrawals),
        ("reports", c.reports),
        ("blocks", c.blocks),
        ("unblocks", c.unblocks),
        ("setting_changes", c.setting_changes),
        ("contact_imports", c.contact_imports),
        ("inbox_reads", c.inbox_reads),
        ("expired", c.expired),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let strings = |m: BTreeMap<&'static str, u64>| m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    Ok(SimReport {
        members: config.members,
        days: config.days,
        seed: config.seed,
        policy: config.policy.name().to_owned(),
        start: START.to_string(),
        planted: Planted { withdraw_cyclers: cyclers, spammers },
        invitations_sent: stats.requests.values().sum(),
        requests: strings(stats.requests),
        connections: stats.connections,
        notifications: Notifications { in_app, by_kind, emails, unsent_emails: stats.unsent_emails },
        actions,
        commands: c.commands,
        refused: strings(c.refused.clone()),
        flags: Flags { by_rule, open: stats.open_flags, members_flagged: flagged.len() as u64 },
        standing: strings(stats.members),
        moderation: Moderation {
            precision,
            recall,
            recall_withdraw_cyclers: ratio(caught_c, cyclers),
            recall_spammers: ratio(caught_s, spammers),
            caught_withdraw_cyclers: caught_c,
            caught_spammers: caught_s,
            normal_members: normal,
            normal_flagged,
            normal_flagged_share: normal_share,
            normal_flagged_by_rule: normal_by_rule,
        },
        targets: Targets {
            precision: precision.is_none_or(|p| p >= TARGET_PRECISION),
            recall: recall.is_none_or(|r| r >= TARGET_RECALL),
            normal_flagged: normal_share <= TARGET_NORMAL_FLAGGED,
        },
        events: stats.events,
        run_time_seconds: 0.0,
        db_bytes: 0,
    })
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
        .collect();
    groups.join(",")
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
}

fn mark(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn pct(part: u64, whole: u64) -> String {
    ratio(part, whole).map_or_else(String::new, |r| format!("  ({:.1}%)", r * 100.0))
}

fn line_of(map: &BTreeMap<String, u64>) -> String {
    map.iter().map(|(k, v)| format!("{k} {}", thousands(*v))).collect::<Vec<_>>().join(" · ")
}

/// The report for a person: the whole run at a glance.
pub fn render(r: &SimReport) -> String {
    let mut s = String::new();
    let m = &r.moderation;
    let n = thousands;
    let _ = writeln!(
        s,
        "connreq simulation: {} members, {} days from {}, seed {}, {} policy",
        n(u64::from(r.members)),
        r.days,
        &r.start[..10],
        r.seed,
        r.policy
    );
    let _ = writeln!(
        s,
        "planted abusers: {} withdraw-cyclers, {} spammers\n",
        r.planted.withdraw_cyclers, r.planted.spammers
    );
    let _ = writeln!(s, "invitations      {:>10} sent", n(r.invitations_sent));
    for (state, count) in &r.requests {
        let _ = writeln!(s, "  {state:<14} {:>10}{}", n(*count), pct(*count, r.invitations_sent));
    }
    let _ = writeln!(s, "connections      {:>10}", n(r.connections));
    let _ = writeln!(
        s,
        "notifications    {:>10} in-app · {} emails queued",
        n(r.notifications.in_app),
        n(r.notifications.emails)
    );
    let _ = writeln!(s, "  by kind        {}", line_of(&r.notifications.by_kind));
    let _ = writeln!(s, "actions          {}", line_of(&r.actions));
    let _ = writeln!(
        s,
        "refused commands {}",
        if r.refused.is_empty() { "none".into() } else { line_of(&r.refused) }
    );
    let _ = writeln!(s, "\nflags raised     {}", line_of(&r.flags.by_rule));
    let _ = writeln!(s, "standing         {}", line_of(&r.standing));
    let _ = writeln!(s, "moderation against the planted labels:");
    let abusers = r.planted.withdraw_cyclers + r.planted.spammers;
    let caught = m.caught_withdraw_cyclers + m.caught_spammers;
    let _ = writeln!(
        s,
        "  precision      {:>10}  ({} of {} flagged members are planted abusers; target ≥ {TARGET_PRECISION}: {})",
        opt(m.precision),
        caught,
        r.flags.members_flagged,
        mark(r.targets.precision)
    );
    let _ = writeln!(
        s,
        "  recall         {:>10}  ({caught} of {abusers} caught; target ≥ {TARGET_RECALL}: {})",
        opt(m.recall),
        mark(r.targets.recall)
    );
    let _ = writeln!(
        s,
        "    withdraw-cyclers {} ({}/{}) · spammers {} ({}/{})",
        opt(m.recall_withdraw_cyclers),
        m.caught_withdraw_cyclers,
        r.planted.withdraw_cyclers,
        opt(m.recall_spammers),
        m.caught_spammers,
        r.planted.spammers
    );
    let _ = writeln!(
        s,
        "  normal flagged {:>10}  ({} of {} normal members; target ≤ 0.13%: {}){}",
        format!("{:.3}%", m.normal_flagged_share * 100.0),
        m.normal_flagged,
        n(m.normal_members),
        mark(r.targets.normal_flagged),
        if m.normal_flagged_by_rule.is_empty() {
            String::new()
        } else {
            format!(" by rule: {}", line_of(&m.normal_flagged_by_rule))
        }
    );
    let _ = writeln!(
        s,
        "\nrun              {:.1} s · {} events · database {} bytes",
        r.run_time_seconds,
        n(r.events),
        n(r.db_bytes)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
