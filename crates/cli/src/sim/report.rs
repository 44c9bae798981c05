//! The end-of-run report: what happened to the invitations, what moderation
//! flagged, and how well that matches the labels.
//!
//! A planted abuser counts as caught if they have any flag (open or resolved,
//! any rule). Precision is flagged abusers over all flagged members; recall is
//! caught abusers over planted ones; every member who is not a planted abuser
//! (the legitimate look-alikes included) is normal. Per kind: how many were
//! flagged and the median days from their first invitation to their first
//! flag; per rule: the same figures for the flags of that rule alone.

use super::engine::{START, SimConfig, Simulation};
use super::population::Label;
use connreq_core::{Error, FlagRule, MemberId, Network, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;
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
    /// Policy fields set otherwise (`--set`): field → JSON value.
    pub policy_overrides: BTreeMap<String, String>,
    /// The population mix.
    pub scenario: String,
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

/// Members of each kind other than normal.
pub type Planted = BTreeMap<String, u64>;

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
    /// Planted abusers.
    pub abusers: u64,
    /// Planted abusers with any flag.
    pub caught: u64,
    /// Members who are not planted abusers (legitimate look-alikes included).
    pub normal_members: u64,
    /// Normal members with any flag.
    pub normal_flagged: u64,
    /// `normal_flagged / normal_members`.
    pub normal_flagged_share: f64,
    /// The normal members flagged, with their kind: (member, kind), by id.
    pub normal_flagged_members: Vec<(u64, String)>,
    /// The planted abusers never flagged, with their kind: (member, kind), by id.
    pub missed_abusers: Vec<(u64, String)>,
    /// Per kind of member.
    pub kinds: Vec<KindRow>,
    /// Per rule.
    pub rules: Vec<RuleRow>,
}

/// How moderation treated one kind of member.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KindRow {
    /// The kind.
    pub kind: String,
    /// Whether it is a planted abuser.
    pub abuser: bool,
    /// Members of this kind.
    pub members: u64,
    /// Members of this kind with any flag.
    pub flagged: u64,
    /// Median days from a member's first invitation (or the start) to their first flag.
    pub median_days_to_flag: Option<f64>,
}

/// What one rule flagged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleRow {
    /// The rule.
    pub rule: String,
    /// Members with a flag of this rule.
    pub flagged: u64,
    /// Planted abusers among them.
    pub abusers: u64,
    /// Normal members among them.
    pub normal: u64,
    /// `abusers / flagged`.
    pub precision: Option<f64>,
    /// Planted abusers this rule caught / all planted abusers.
    pub recall: Option<f64>,
    /// Median days from a member's first invitation to this rule's first flag.
    pub median_days_to_flag: Option<f64>,
    /// Members flagged by this rule, by kind.
    pub by_kind: BTreeMap<String, u64>,
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

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// Scores a finished simulation (run time and database size are filled in by the caller).
pub fn score<N: Network>(net: &N, config: &SimConfig, sim: &Simulation<'_, N>) -> Result<SimReport, Error> {
    let stats = net.stats()?;
    let (in_app, by_kind, emails, flags) = net.read(|m| {
        let (counts, emails) = m.notification_counts();
        let by_kind: BTreeMap<String, u64> =
            counts.iter().map(|(k, n)| (k.as_str().to_owned(), *n)).collect();
        let flags: Vec<(MemberId, FlagRule, Timestamp)> =
            m.all_flags().iter().map(|f| (f.member, f.rule, f.created_at)).collect();
        (counts.values().sum::<u64>(), by_kind, emails, flags)
    })?;
    let pop = sim.population();
    let label = |m: MemberId| {
        let i = usize::try_from(m.0.wrapping_sub(1)).unwrap_or(usize::MAX);
        pop.people.get(i).map_or(Label::Normal, |p| p.label)
    };
    // Days from the member's first invitation (or the start) to `t`.
    let days_to = |m: MemberId, t: Timestamp| {
        let from = sim.first_send(m.0.saturating_sub(1) as u32).unwrap_or(START);
        (t.0 - from.0).max(0) as f64 / 86_400_000.0
    };
    let mut by_rule: BTreeMap<String, u64> =
        FlagRule::ALL.iter().map(|r| (r.as_str().to_owned(), 0)).collect();
    // Each member's first flag, overall and per rule (flags come oldest first).
    let mut first: BTreeMap<MemberId, Timestamp> = BTreeMap::new();
    let mut first_by_rule: BTreeMap<(FlagRule, MemberId), Timestamp> = BTreeMap::new();
    for (member, rule, at) in &flags {
        *by_rule.entry(rule.as_str().to_owned()).or_default() += 1;
        first.entry(*member).or_insert(*at);
        first_by_rule.entry((*rule, *member)).or_insert(*at);
    }
    let abusers = pop.people.iter().filter(|p| p.label.is_abuser()).count() as u64;
    let normal = pop.people.len() as u64 - abusers;
    let caught = first.keys().filter(|m| label(**m).is_abuser()).count() as u64;
    let normal_flagged = first.len() as u64 - caught;
    let precision = ratio(caught, first.len() as u64);
    let recall = ratio(caught, abusers);
    let normal_share = ratio(normal_flagged, normal).unwrap_or(0.0);
    let kinds: Vec<KindRow> = Label::ALL
        .iter()
        .filter_map(|l| {
            let members = pop.people.iter().filter(|p| p.label == *l).count() as u64;
            (members > 0).then(|| {
                let flagged: Vec<(&MemberId, &Timestamp)> =
                    first.iter().filter(|(m, _)| label(**m) == *l).collect();
                KindRow {
                    kind: l.as_str().to_owned(),
                    abuser: l.is_abuser(),
                    members,
                    flagged: flagged.len() as u64,
                    median_days_to_flag: median(flagged.iter().map(|(m, t)| days_to(**m, **t)).collect()),
                }
            })
        })
        .collect();
    let rules: Vec<RuleRow> = FlagRule::ALL
        .iter()
        .map(|rule| {
            let members: Vec<(MemberId, Timestamp)> =
                first_by_rule.iter().filter(|((r, _), _)| r == rule).map(|((_, m), t)| (*m, *t)).collect();
            let flagged = members.len() as u64;
            let hit = members.iter().filter(|(m, _)| label(*m).is_abuser()).count() as u64;
            let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
            for (m, _) in &members {
                *kinds.entry(label(*m).as_str().to_owned()).or_default() += 1;
            }
            RuleRow {
                rule: rule.as_str().to_owned(),
                flagged,
                abusers: hit,
                normal: flagged - hit,
                precision: ratio(hit, flagged),
                recall: ratio(hit, abusers),
                median_days_to_flag: median(members.iter().map(|(m, t)| days_to(*m, *t)).collect()),
                by_kind: kinds,
            }
        })
        .collect();
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
    let planted: Planted =
        kinds.iter().filter(|k| k.kind != "normal").map(|k| (k.kind.clone(), k.members)).collect();
    Ok(SimReport {
        members: config.members,
        days: config.days,
        seed: config.seed,
        policy: config.policy.name().to_owned(),
        policy_overrides: config.overrides.iter().cloned().collect(),
        scenario: config.scenario.name().to_owned(),
        start: START.to_string(),
        planted,
        invitations_sent: stats.requests.values().sum(),
        requests: strings(stats.requests),
        connections: stats.connections,
        notifications: Notifications { in_app, by_kind, emails, unsent_emails: stats.unsent_emails },
        actions,
        commands: c.commands,
        refused: strings(c.refused.clone()),
        flags: Flags { by_rule, open: stats.open_flags, members_flagged: first.len() as u64 },
        standing: strings(stats.members),
        moderation: Moderation {
            precision,
            recall,
            abusers,
            caught,
            normal_members: normal,
            normal_flagged,
            normal_flagged_share: normal_share,
            normal_flagged_members: first
                .keys()
                .filter(|m| !label(**m).is_abuser())
                .map(|m| (m.0, label(*m).as_str().to_owned()))
                .collect(),
            missed_abusers: pop
                .people
                .iter()
                .filter(|p| p.label.is_abuser() && !first.contains_key(&p.id))
                .map(|p| (p.id.0, p.label.as_str().to_owned()))
                .collect(),
            kinds,
            rules,
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

fn days(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |d| format!("{d:.1}"))
}

/// The report for a person: the whole run at a glance.
pub fn render(r: &SimReport) -> String {
    let mut s = String::new();
    let m = &r.moderation;
    let n = thousands;
    let _ = writeln!(
        s,
        "connreq simulation: {} members, {} days from {}, seed {}, {} policy, {} scenario",
        n(u64::from(r.members)),
        r.days,
        &r.start[..10],
        r.seed,
        r.policy,
        r.scenario
    );
    if !r.policy_overrides.is_empty() {
        let set: Vec<String> = r.policy_overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(s, "policy fields set: {}", set.join(" "));
    }
    let _ = writeln!(s);
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
    let _ = writeln!(s, "\nmembers by kind        members  flagged  median days to first flag");
    for k in &m.kinds {
        let kind = if k.abuser { format!("{} *", k.kind) } else { k.kind.clone() };
        let _ = writeln!(
            s,
            "  {kind:<20} {:>7}  {:>7}  {:>6}",
            n(k.members),
            k.flagged,
            days(k.median_days_to_flag)
        );
    }
    let _ = writeln!(s, "  (* planted abusers)");
    let _ = writeln!(s, "\nby rule                flagged  abusers  normal  precision  recall  median days");
    for rule in m.rules.iter().filter(|r| r.flagged > 0) {
        let _ = writeln!(
            s,
            "  {:<20} {:>7}  {:>7}  {:>6}  {:>9}  {:>6}  {:>6}",
            rule.rule,
            rule.flagged,
            rule.abusers,
            rule.normal,
            opt(rule.precision),
            opt(rule.recall),
            days(rule.median_days_to_flag)
        );
    }
    let _ = writeln!(s, "\nmoderation against the labels:");
    let _ = writeln!(
        s,
        "  precision      {:>10}  ({} of {} flagged members are planted abusers; target ≥ {TARGET_PRECISION}: {})",
        opt(m.precision),
        m.caught,
        r.flags.members_flagged,
        mark(r.targets.precision)
    );
    let _ = writeln!(
        s,
        "  recall         {:>10}  ({} of {} caught; target ≥ {TARGET_RECALL}: {})",
        opt(m.recall),
        m.caught,
        m.abusers,
        mark(r.targets.recall)
    );
    let _ = writeln!(
        s,
        "  normal flagged {:>10}  ({} of {} normal members; target ≤ 0.13%: {})",
        format!("{:.3}%", m.normal_flagged_share * 100.0),
        m.normal_flagged,
        n(m.normal_members),
        mark(r.targets.normal_flagged),
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
