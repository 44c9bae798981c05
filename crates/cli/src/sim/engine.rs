//! The simulation engine.
//!
//! Time is data: the run starts at 2026-01-01T00:00Z and every command carries an
//! explicit [`Timestamp`]. Each simulated day the engine plans that day's
//! actions at random times (mostly working hours), merges them with follow-ups
//! scheduled earlier (withdrawals weeks later, re-sends, abusers' next steps),
//! performs them in time order, and finally calls `expire`. How recipients
//! answer is drawn per run ([`Reactions`]); so is every kind's pace below.
//!
//! * Ordinary invitations: about 0.12 per member per day, the sender drawn in
//!   proportion to a heavy-tailed activity weight; the recipient is a colleague,
//!   a cluster mate or (by the sender's stranger share) anyone.
//! * Visits: each day a member opens the site with their engagement
//!   probability, reads their notifications, and answers some pending
//!   invitations: accept (likely from colleagues, unlikely from strangers,
//!   rare for a sales pitch), ignore, decline, leave it, and, rarely, block or
//!   report (`dont_know`/`spam`) unwanted ones. Seeing the same member withdraw
//!   from them twice makes a member likelier to block or report. A sender
//!   told of a decline now and then sends again weeks later (0.5–2% of declines).
//! * Withdrawals: a sender looks at an unanswered invitation 10–40 days later
//!   and withdraws it now and then (busy senders clean up more); some re-send
//!   weeks later (12% after a first withdrawal to that person, 2% after a
//!   second, never after a third); a few withdraw within hours (sent by mistake).
//! * Settings and contacts: members change their invitation setting at a low
//!   rate (and after spam), and 30% import contacts once.
//!
//! Legitimate kinds that look like abuse at a glance:
//! * High-volume senders (recruiters, event organisers): 15–45 invitations a
//!   week to strangers and cluster mates they have not invited before,
//!   0.5–1.5% of recipients reporting them (each sender's own rate), a weekly
//!   clean-up of invitations unanswered after a month, and one re-send to a
//!   tenth of those people weeks later.
//! * Every sender passes over people whose invitation they withdrew or who
//!   declined them when looking for someone to invite; they invite them again
//!   only on purpose (the re-sends above).
//! * Mistaken re-senders: withdraw 4–8% of their invitations within hours
//!   and send most of them again soon, sometimes twice.
//! * Stale withdrawers: withdraw most invitations unanswered after 2–6 weeks,
//!   and send a quarter of them again weeks later (a tenth a second time).
//! * Members who report in anger: report 15–40% of the invitations they do
//!   not accept from people outside their company, as spam or harassment,
//!   declining them too.
//!
//! Planted abusers:
//! * Pesterers: one to three people who do not want to connect with them;
//!   send, and after each decline send again 1–14 days later (after a
//!   cooldown, if the policy has one); never withdraw. The pestered decline
//!   (70–95%) and report harassment more the more often it happens.
//! * Spammers of three intensities, from some day in the first half of the
//!   run: 2–5 subtle pitches a day, 5–15 of either kind, or 15–50 blatant
//!   ones, to strangers, in bursts; they withdraw stale ones weekly, stop
//!   once restricted and wait out a rate limit.
//! * Withdraw-cyclers, fast (withdraw after 1–3 days, send again 1–3 days
//!   later) and slow (after 1–3 weeks, again 3–14 days later). A "pesterer"
//!   (30%) goes after one to three people who do not want to connect with
//!   them; a "bumper" (70%) keeps three to six strangers or cluster mates in
//!   rotation, replacing each who accepts or becomes unreachable, to push its
//!   invitations back to the top of their inboxes. They start within the
//!   first two weeks.
//!
//! Moderation runs inside the network on the events alone; the engine never
//! tells it the labels and never resolves flags.

use super::population::{Label, Population, Scenario, Tie};
use super::reactions::{Appeal, Reactions, Response};
use connreq_core::{
    Error, InvitationSetting, MemberId, Network, NotificationKind, Policy, ReportReason, RequestId,
    RequestState, Timestamp,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

/// 2026-01-01T00:00:00Z, where every simulation starts.
pub const START: Timestamp = Timestamp(1_767_225_600_000);
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Ordinary invitations per member per day.
const SENDS_PER_MEMBER_DAY: f64 = 0.12;

/// Which policy a simulation runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PolicyChoice {
    /// The standard policy: withdrawals and declines are always notified, no rate limits.
    #[default]
    Standard,
    /// LinkedIn's: silent withdrawals, 100 invitations a week, a 21-day cooldown, expiry after 183 days.
    Linkedin,
}

impl PolicyChoice {
    /// The policy itself.
    pub fn policy(self) -> Policy {
        match self {
            PolicyChoice::Standard => Policy::standard(),
            PolicyChoice::Linkedin => Policy::linkedin(),
        }
    }

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PolicyChoice::Standard => "standard",
            PolicyChoice::Linkedin => "linkedin",
        }
    }
}

/// What to simulate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// How many members.
    pub members: u32,
    /// How many days.
    pub days: u32,
    /// The PRNG seed: the same seed gives the same run.
    pub seed: u64,
    /// The policy the network runs under (the network must have been opened with [`SimConfig::policy`]).
    pub policy: PolicyChoice,
    /// Fields of the policy set otherwise: (field, JSON value), as `--set` gives them.
    pub overrides: Vec<(String, String)>,
    /// The population mix.
    pub scenario: Scenario,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            members: 10_000,
            days: 90,
            seed: 42,
            policy: PolicyChoice::Standard,
            overrides: Vec::new(),
            scenario: Scenario::Mixed,
        }
    }
}

impl SimConfig {
    /// The policy the run uses: the chosen one with the overrides applied.
    pub fn policy(&self) -> Result<Policy, Error> {
        let base = self.policy.policy();
        if self.overrides.is_empty() {
            return Ok(base);
        }
        let bad = |e: serde_json::Error| Error::InvalidInput(format!("policy: {e}"));
        let mut json = serde_json::to_value(&base).map_err(bad)?;
        for (field, value) in &self.overrides {
            let fields = json.as_object_mut().ok_or_else(|| Error::InvalidInput("policy".into()))?;
            if !fields.contains_key(field) {
                return Err(Error::InvalidInput(format!("the policy has no field {field:?}")));
            }
            fields.insert(field.clone(), serde_json::from_str(value).map_err(bad)?);
        }
        let policy: Policy = serde_json::from_value(json).map_err(bad)?;
        policy.validate()?;
        Ok(policy)
    }
}

/// What the engine did, counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Commands the network accepted.
    pub commands: u64,
    /// Commands the network refused, by error name.
    pub refused: BTreeMap<&'static str, u64>,
    /// Invitations sent (new requests).
    pub sends: u64,
    /// Invitations accepted.
    pub accepts: u64,
    /// Invitations ignored.
    pub ignores: u64,
    /// Invitations declined.
    pub declines: u64,
    /// Invitations withdrawn.
    pub withdrawals: u64,
    /// Reports made.
    pub reports: u64,
    /// Blocks made.
    pub blocks: u64,
    /// Blocks lifted.
    pub unblocks: u64,
    /// Invitation setting changes.
    pub setting_changes: u64,
    /// Contact imports.
    pub contact_imports: u64,
    /// Visits that marked notifications read.
    pub inbox_reads: u64,
    /// Requests expired by the daily `expire`.
    pub expired: u64,
}

/// A planted withdraw-cycler's plan.
#[derive(Clone, Debug)]
struct Cycler {
    member: u32,
    /// Rotates to a new target when one accepts or becomes unreachable.
    bumper: bool,
    targets: Vec<Option<u32>>,
    stopped: bool,
    /// Withdraws this long after sending (ms, a range).
    withdraw_after: (i64, i64),
    /// Sends again this long after withdrawing (ms, a range).
    resend_after: (i64, i64),
}

/// A planted pesterer's plan.
#[derive(Clone, Debug)]
struct Pester {
    member: u32,
    targets: Vec<Option<u32>>,
    /// Sends again this many days after a decline (a range).
    gap_days: (i64, i64),
    stopped: bool,
}

/// A high-volume sender's pace.
#[derive(Clone, Debug)]
struct Recruiter {
    member: u32,
    per_week: f64,
    report_per_mille: u16,
    /// Everyone invited so far: a recruiter's tools keep the list, so the
    /// same person is invited again only on purpose (the clean-up's re-sends).
    invited: HashSet<u32>,
}

/// A planted spammer's plan.
#[derive(Clone, Debug)]
struct Spammer {
    member: u32,
    start_day: u32,
    per_day: f64,
    /// Blatant pitches are reported more, accepted less.
    blatant: bool,
    stopped: bool,
    paused_until: Timestamp,
}

#[derive(Clone, Copy, Debug)]
struct Invite {
    sender: u32,
    recipient: u32,
    tie: Tie,
    appeal: Appeal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Send { sender: u32 },
    Resend { sender: u32, recipient: u32 },
    Spam { spammer: u32 },
    SpamCleanup { spammer: u32 },
    Visit { member: u32 },
    StaleCheck { request: RequestId, round: u8 },
    QuickWithdraw { request: RequestId },
    CycleSend { cycler: u32, slot: u8 },
    CycleWithdraw { cycler: u32, slot: u8, request: RequestId },
    PesterSend { pester: u32, slot: u8 },
    PesterCheck { pester: u32, slot: u8, request: RequestId },
    Outreach { recruiter: u32 },
    OutreachCleanup { recruiter: u32 },
    SettingChange { member: u32 },
    ImportContacts { member: u32 },
    Unblock { blocker: u32, blocked: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scheduled {
    at: Timestamp,
    seq: u64,
    action: Action,
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A running simulation over a network `N`.
pub struct Simulation<'a, N: Network> {
    net: &'a N,
    pop: Population,
    rng: ChaCha8Rng,
    queue: BinaryHeap<Reverse<Scheduled>>,
    next_seq: u64,
    days: u32,
    /// What the engine knows of each request it caused, by id − 1.
    invites: Vec<Option<Invite>>,
    shelved: HashSet<RequestId>,
    /// Withdrawal notifications a member has seen, by (member, sender).
    withdrawals_seen: HashMap<(u32, u32), u32>,
    /// Withdrawals an ordinary sender made, by (sender, recipient).
    withdrawn_pairs: HashMap<(u32, u32), u32>,
    cyclers: Vec<Cycler>,
    spammers: Vec<Spammer>,
    pesterers: Vec<Pester>,
    recruiters: Vec<Recruiter>,
    /// How recipients answer, drawn for this run.
    reactions: Reactions,
    /// Share of declines after which an ordinary sender sends again weeks later.
    resend_after_decline: f64,
    /// Members who report in anger, with the share of unwanted invitations they report.
    angry: HashMap<u32, f64>,
    /// Requests a pesterer sent to each target: (pesterer, target) → count.
    pestered: HashMap<(u32, u32), u8>,
    restricted: HashSet<u32>,
    /// When each member first sent an invitation.
    first_send: HashMap<u32, Timestamp>,
    /// (sender, recipient) pairs whose request the sender withdrew or the
    /// recipient declined: a member browsing for people to invite passes
    /// over them, and invites them again only on purpose (a re-send).
    closed: HashSet<(u32, u32)>,
    counters: Counters,
}

fn idx(m: MemberId) -> u32 {
    (m.0 - 1) as u32
}

fn mid(i: u32) -> MemberId {
    MemberId(u64::from(i) + 1)
}

/// A time of day, mostly in working hours.
fn time_of_day(rng: &mut impl Rng) -> i64 {
    if rng.random_bool(0.85) { 7 * HOUR + rng.random_range(0..15 * HOUR) } else { rng.random_range(0..DAY) }
}

/// A Poisson draw (Knuth below 30, normal approximation above).
fn poisson(lambda: f64, rng: &mut impl Rng) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda < 30.0 {
        let limit = (-lambda).exp();
        let (mut k, mut p) = (0u64, 1.0f64);
        loop {
            p *= rng.random::<f64>();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
    let (u1, u2): (f64, f64) = (rng.random_range(f64::EPSILON..1.0), rng.random());
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (lambda + lambda.sqrt() * z).round().max(0.0) as u64
}

const NOTES: &[&str] = &[
    "Hi! Great meeting you at the conference last week.",
    "We worked together on the migration project, would be good to stay in touch.",
    "Saw your talk on data pipelines, would love to connect.",
    "Fellow alumnus here, let's connect.",
];
const PITCHES_SUBTLE: &[&str] = &[
    "Hi, I help teams like yours grow. Would love to connect and share ideas.",
    "Expanding my network with leaders in your field. Let's connect!",
];
const PITCHES_BLATANT: &[&str] = &[
    "LIMITED OFFER: 10x your leads with our growth service. Book a call today!",
    "Make $5000/week from home. Connect with me to learn how!!!",
    "Buy followers and endorsements, cheapest prices, message me.",
];

impl<'a, N: Network> Simulation<'a, N> {
    /// Draws the population and registers it on `net` (which should be empty).
    pub fn new(net: &'a N, config: &SimConfig) -> Result<Self, Error> {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let pop = Population::generate(config.members, config.scenario, &mut rng);
        let (reactions, resend_after_decline) = if config.scenario == Scenario::Classic {
            (Reactions::fixed(), 0.0)
        } else {
            (Reactions::draw(&mut rng), rng.random_range(0.005..0.02))
        };
        let mut sim = Self {
            net,
            pop,
            rng,
            queue: BinaryHeap::new(),
            next_seq: 0,
            days: config.days,
            invites: Vec::new(),
            shelved: HashSet::new(),
            withdrawals_seen: HashMap::new(),
            withdrawn_pairs: HashMap::new(),
            cyclers: Vec::new(),
            spammers: Vec::new(),
            pesterers: Vec::new(),
            recruiters: Vec::new(),
            reactions,
            resend_after_decline,
            angry: HashMap::new(),
            pestered: HashMap::new(),
            restricted: HashSet::new(),
            first_send: HashMap::new(),
            closed: HashSet::new(),
            counters: Counters::default(),
        };
        sim.setup()?;
        Ok(sim)
    }

    /// The population.
    pub fn population(&self) -> &Population {
        &self.pop
    }

    /// What the engine did so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// When member `i` (an index) first sent an invitation, if they did.
    pub fn first_send(&self, i: u32) -> Option<Timestamp> {
        self.first_send.get(&i).copied()
    }

    fn schedule(&mut self, at: Timestamp, action: Action) {
        self.next_seq += 1;
        self.queue.push(Reverse(Scheduled { at, seq: self.next_seq, action }));
    }

    /// Counts a command's result; only a storage error stops the run.
    fn attempt<T>(&mut self, result: Result<T, Error>) -> Result<Option<T>, Error> {
        match result {
            Ok(v) => {
                self.counters.commands += 1;
                Ok(Some(v))
            }
            Err(e @ Error::StorageError(_)) => Err(e),
            Err(e) => {
                *self.counters.refused.entry(e.name()).or_default() += 1;
                Ok(None)
            }
        }
    }

    fn setup(&mut self) -> Result<(), Error> {
        for i in 0..self.pop.len() as u32 {
            let p = self.pop.person(i);
            let (email, name, setting) = (p.email.clone(), p.name.clone(), p.setting);
            let r = self.net.register(mid(i), email.as_deref(), Some(&name), START);
            self.attempt(r)?;
            if setting != InvitationSetting::Everyone {
                let r = self.net.set_invitation_setting(mid(i), setting, START);
                self.attempt(r)?;
            }
        }
        let days = i64::from(self.days);
        for i in 0..self.pop.len() as u32 {
            if self.rng.random_bool(0.3) {
                let at = START.0 + self.rng.random_range(0..days * DAY);
                self.schedule(Timestamp(at), Action::ImportContacts { member: i });
            }
        }
        let early = self.days.clamp(1, 15);
        let cyclers: Vec<(u32, bool)> = (self.pop.labelled(Label::CyclerFast).into_iter().map(|m| (m, true)))
            .chain(self.pop.labelled(Label::CyclerSlow).into_iter().map(|m| (m, false)))
            .collect();
        for (member, fast) in cyclers {
            let bumper = self.rng.random_bool(0.7);
            let n = if bumper { self.rng.random_range(3..=6) } else { self.rng.random_range(1..=3) };
            let targets = (0..n).map(|_| self.new_target(member, bumper)).collect();
            let (withdraw_after, resend_after) = if fast {
                ((DAY, 3 * DAY), (DAY, 3 * DAY))
            } else {
                ((7 * DAY, 21 * DAY), (3 * DAY, 14 * DAY))
            };
            let cycler = self.cyclers.len() as u32;
            self.cyclers.push(Cycler {
                member,
                bumper,
                targets,
                stopped: false,
                withdraw_after,
                resend_after,
            });
            let start = i64::from(self.rng.random_range(0..early)) * DAY;
            for slot in 0..n {
                let at = START.0 + start + self.rng.random_range(0..3 * DAY);
                self.schedule(Timestamp(at), Action::CycleSend { cycler, slot });
            }
        }
        for member in self.pop.labelled(Label::Pesterer) {
            let n = self.rng.random_range(1..=3);
            let targets = (0..n).map(|_| self.new_target(member, false)).collect();
            let low = self.rng.random_range(1..=5);
            let gap_days = (low, low + self.rng.random_range(1..=9));
            let pester = self.pesterers.len() as u32;
            self.pesterers.push(Pester { member, targets, gap_days, stopped: false });
            let start = i64::from(self.rng.random_range(0..early)) * DAY;
            for slot in 0..n {
                let at = START.0 + start + self.rng.random_range(0..5 * DAY);
                self.schedule(Timestamp(at), Action::PesterSend { pester, slot });
            }
        }
        for member in self.pop.labelled(Label::HighVolume) {
            let per_week = self.rng.random_range(15.0..45.0);
            let report_per_mille = self.rng.random_range(5..=15);
            self.recruiters.push(Recruiter { member, per_week, report_per_mille, invited: HashSet::new() });
        }
        for member in self.pop.labelled(Label::AngryReporter) {
            let share = self.rng.random_range(0.15..0.4);
            self.angry.insert(member, share);
        }
        let half = (self.days / 2).max(1);
        let spammers: Vec<(u32, Label)> = [Label::SpammerLow, Label::SpammerMid, Label::SpammerHigh]
            .into_iter()
            .flat_map(|l| self.pop.labelled(l).into_iter().map(move |m| (m, l)))
            .collect();
        for (member, label) in spammers {
            let (blatant, per_day) = match label {
                Label::SpammerLow => (false, self.rng.random_range(2.0..5.0)),
                Label::SpammerMid => (self.rng.random_bool(0.5), self.rng.random_range(5.0..15.0)),
                _ => (true, self.rng.random_range(15.0..50.0)),
            };
            let start_day = self.rng.random_range(0..half);
            let paused_until = START;
            self.spammers.push(Spammer { member, start_day, per_day, blatant, stopped: false, paused_until });
        }
        Ok(())
    }

    /// Someone a cycler will pester: a cluster mate or a stranger.
    fn new_target(&mut self, cycler: u32, bumper: bool) -> Option<u32> {
        let stranger = if bumper { 0.7 } else { 0.4 };
        for _ in 0..8 {
            let t = if self.rng.random_bool(stranger) {
                self.pop.anyone(cycler, &mut self.rng)
            } else {
                self.pop.cluster_mate(cycler, &mut self.rng)
            };
            if t.is_some_and(|t| self.pop.person(t).setting == InvitationSetting::Everyone) {
                return t;
            }
        }
        None
    }

    /// Runs simulated day `day` (0-based): plans it, performs everything due in it, expires.
    pub fn run_day(&mut self, day: u32) -> Result<(), Error> {
        let start = START.0 + i64::from(day) * DAY;
        let end = start + DAY;
        self.plan_day(day, start);
        while let Some(Reverse(next)) = self.queue.peek().copied() {
            if next.at.0 >= end {
                break;
            }
            self.queue.pop();
            self.perform(next.action, next.at)?;
        }
        let r = self.net.expire(Timestamp(end - 1));
        if let Some(n) = self.attempt(r)? {
            self.counters.expired += n;
        }
        Ok(())
    }

    fn plan_day(&mut self, day: u32, start: i64) {
        let n = self.pop.len();
        let sends = poisson(n as f64 * SENDS_PER_MEMBER_DAY, &mut self.rng);
        for _ in 0..sends {
            let sender = self.pop.pick_sender(&mut self.rng);
            let at = start + time_of_day(&mut self.rng);
            self.schedule(Timestamp(at), Action::Send { sender });
        }
        for member in 0..n as u32 {
            if self.rng.random_bool(self.pop.person(member).engagement) {
                let at = start + time_of_day(&mut self.rng);
                self.schedule(Timestamp(at), Action::Visit { member });
            }
        }
        for _ in 0..poisson(n as f64 * 0.0003, &mut self.rng) {
            let member = self.rng.random_range(0..n as u32);
            let at = start + time_of_day(&mut self.rng);
            self.schedule(Timestamp(at), Action::SettingChange { member });
        }
        for r in 0..self.recruiters.len() {
            let (member, per_week) = (self.recruiters[r].member, self.recruiters[r].per_week);
            // Working days only.
            if day % 7 >= 5 || self.restricted.contains(&member) {
                continue;
            }
            let recruiter = r as u32;
            for _ in 0..poisson(per_week / 5.0, &mut self.rng) {
                let at = start + 8 * HOUR + self.rng.random_range(0..10 * HOUR);
                self.schedule(Timestamp(at), Action::Outreach { recruiter });
            }
            if day % 7 == 4 {
                let at = start + 16 * HOUR + self.rng.random_range(0..2 * HOUR);
                self.schedule(Timestamp(at), Action::OutreachCleanup { recruiter });
            }
        }
        for s in 0..self.spammers.len() {
            let (stopped, start_day, per_day) =
                (self.spammers[s].stopped, self.spammers[s].start_day, self.spammers[s].per_day);
            if stopped || day < start_day {
                continue;
            }
            let volume = poisson(per_day, &mut self.rng);
            let bursts = self.rng.random_range(1..=3u64);
            let spammer = s as u32;
            let mut at = start + time_of_day(&mut self.rng);
            for k in 0..volume {
                if k > 0 && k % volume.div_ceil(bursts) == 0 {
                    at = start + time_of_day(&mut self.rng);
                }
                at += self.rng.random_range(20_000..4 * MINUTE);
                self.schedule(Timestamp(at), Action::Spam { spammer });
            }
            if (day - start_day) % 7 == 6 {
                let at = start + time_of_day(&mut self.rng);
                self.schedule(Timestamp(at), Action::SpamCleanup { spammer });
            }
        }
    }

    fn perform(&mut self, action: Action, at: Timestamp) -> Result<(), Error> {
        match action {
            Action::Send { sender } => self.ordinary_send(sender, at),
            Action::Resend { sender, recipient } => self.resend(sender, recipient, at),
            Action::Spam { spammer } => self.spam(spammer, at),
            Action::SpamCleanup { spammer } => self.spam_cleanup(spammer, at),
            Action::Visit { member } => self.visit(member, at),
            Action::StaleCheck { request, round } => self.stale_check(request, round, at),
            Action::QuickWithdraw { request } => self.quick_withdraw(request, at),
            Action::CycleSend { cycler, slot } => self.cycle_send(cycler, slot, at),
            Action::CycleWithdraw { cycler, slot, request } => self.cycle_withdraw(cycler, slot, request, at),
            Action::PesterSend { pester, slot } => self.pester_send(pester, slot, at),
            Action::PesterCheck { pester, slot, request } => self.pester_check(pester, slot, request, at),
            Action::Outreach { recruiter } => self.outreach(recruiter, at),
            Action::OutreachCleanup { recruiter } => self.outreach_cleanup(recruiter, at),
            Action::SettingChange { member } => self.change_setting(member, None, at),
            Action::ImportContacts { member } => self.import_contacts(member, at),
            Action::Unblock { blocker, blocked } => {
                let r = self.net.unblock(mid(blocker), mid(blocked), at);
                if self.attempt(r)?.is_some() {
                    self.counters.unblocks += 1;
                }
                Ok(())
            }
        }
    }

    /// (connected, open request a→b, open request b→a), as the members' screens show it.
    fn relation(&self, a: u32, b: u32) -> Result<(bool, Option<RequestId>, Option<RequestId>), Error> {
        let (a, b) = (mid(a), mid(b));
        self.net
            .read(|m| (m.are_connected(a, b).unwrap_or(false), m.open_request(a, b), m.open_request(b, a)))
    }

    fn remember(&mut self, id: RequestId, invite: Invite) {
        let i = (id.0 - 1) as usize;
        if self.invites.len() <= i {
            self.invites.resize(i + 1, None);
        }
        self.invites[i] = Some(invite);
    }

    fn invite(&self, id: RequestId) -> Option<Invite> {
        self.invites.get((id.0 - 1) as usize).copied().flatten()
    }

    /// Sends and records an invitation; `Ok(Err(e))` is a refusal the caller may react to.
    fn send(
        &mut self,
        sender: u32,
        recipient: u32,
        note: Option<&str>,
        appeal: Appeal,
        at: Timestamp,
    ) -> Result<Result<RequestId, Error>, Error> {
        let r = self.pop.person(recipient);
        let tie = self.pop.tie(sender, recipient);
        // Colleagues know the address a recipient who asks for it wants.
        let email = match (r.setting, tie) {
            (InvitationSetting::EmailOrContacts, Tie::Company) => r.email.clone(),
            _ => None,
        };
        match self.net.send(mid(sender), mid(recipient), note, email.as_deref(), at) {
            Ok(id) => {
                self.counters.commands += 1;
                self.counters.sends += 1;
                self.first_send.entry(sender).or_insert(at);
                self.remember(id, Invite { sender, recipient, tie, appeal });
                Ok(Ok(id))
            }
            Err(e @ Error::StorageError(_)) => Err(e),
            Err(e) => {
                *self.counters.refused.entry(e.name()).or_default() += 1;
                if e == Error::AccountRestricted {
                    self.restricted.insert(sender);
                }
                Ok(Err(e))
            }
        }
    }

    fn accept(&mut self, recipient: u32, id: RequestId, at: Timestamp) -> Result<bool, Error> {
        let r = self.net.accept(mid(recipient), id, at);
        let done = self.attempt(r)?.is_some();
        if done {
            self.counters.accepts += 1;
        }
        Ok(done)
    }

    fn withdraw(
        &mut self,
        sender: u32,
        id: RequestId,
        message: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, Error> {
        let r = self.net.withdraw(mid(sender), id, message, at);
        let done = self.attempt(r)?.is_some();
        if done {
            self.counters.withdrawals += 1;
            if let Some(inv) = self.invite(id) {
                self.closed.insert((inv.sender, inv.recipient));
            }
        }
        Ok(done)
    }

    fn is_open(&self, id: RequestId) -> Result<bool, Error> {
        Ok(self.net.request(id)?.state.is_open())
    }

    /// After a successful ordinary send: the sender will look at it again later.
    fn follow_up(&mut self, id: RequestId, at: Timestamp) {
        let label = self.invite(id).map_or(Label::Normal, |inv| self.pop.person(inv.sender).label);
        let later = match label {
            Label::StaleWithdrawer => at.0 + self.rng.random_range(14 * DAY..42 * DAY),
            _ => at.0 + self.rng.random_range(10 * DAY..40 * DAY),
        };
        self.schedule(Timestamp(later), Action::StaleCheck { request: id, round: 0 });
        let mistakes =
            if label == Label::MistakenResender { self.rng.random_range(0.04..0.08) } else { 0.008 };
        if self.rng.random_bool(mistakes) {
            let soon = at.0 + self.rng.random_range(2 * MINUTE..4 * HOUR);
            self.schedule(Timestamp(soon), Action::QuickWithdraw { request: id });
        }
    }

    fn ordinary_send(&mut self, sender: u32, at: Timestamp) -> Result<(), Error> {
        if self.restricted.contains(&sender) {
            return Ok(());
        }
        for _ in 0..4 {
            let share = self.pop.person(sender).stranger_share;
            let candidate = if self.rng.random_bool(share) {
                self.pop.anyone(sender, &mut self.rng)
            } else if self.rng.random_bool(0.45) {
                self.pop.colleague(sender, &mut self.rng)
            } else {
                self.pop.cluster_mate(sender, &mut self.rng)
            };
            let Some(recipient) = candidate else { continue };
            if self.closed.contains(&(sender, recipient)) {
                continue;
            }
            let (connected, open, reverse) = self.relation(sender, recipient)?;
            if connected || open.is_some() {
                continue;
            }
            if let Some(id) = reverse {
                // The profile shows "Accept": the member accepts instead of inviting.
                self.accept(sender, id, at)?;
                return Ok(());
            }
            let note = self.rng.random_bool(0.15).then(|| NOTES[self.rng.random_range(0..NOTES.len())]);
            if let Ok(id) = self.send(sender, recipient, note, Appeal::Ordinary, at)? {
                self.follow_up(id, at);
            }
            return Ok(());
        }
        Ok(())
    }

    fn resend(&mut self, sender: u32, recipient: u32, at: Timestamp) -> Result<(), Error> {
        let (connected, open, reverse) = self.relation(sender, recipient)?;
        if connected || open.is_some() || reverse.is_some() || self.restricted.contains(&sender) {
            return Ok(());
        }
        let note = self.rng.random_bool(0.4).then_some("Sending this again, hope that's ok.");
        if let Ok(id) = self.send(sender, recipient, note, Appeal::Ordinary, at)? {
            self.follow_up(id, at);
        }
        Ok(())
    }

    fn stale_check(&mut self, id: RequestId, round: u8, at: Timestamp) -> Result<(), Error> {
        let Some(inv) = self.invite(id) else { return Ok(()) };
        if !self.is_open(id)? {
            return Ok(());
        }
        // Busy senders clean up more; an invitation already re-sent once is left alone more.
        let busy = self.pop.person(inv.sender).activity > 15.0;
        let resent = self.withdrawn_pairs.contains_key(&(inv.sender, inv.recipient));
        let stale = self.pop.person(inv.sender).label == Label::StaleWithdrawer;
        let chance =
            if stale { 0.8 } else { (if busy { 0.3 } else { 0.12 }) * if resent { 0.5 } else { 1.0 } };
        if self.rng.random_bool(chance) {
            if self.withdraw(inv.sender, id, None, at)? {
                let chance = self.resend_chance(inv);
                if self.rng.random_bool(chance) {
                    let later = at.0 + self.rng.random_range(2 * DAY..30 * DAY);
                    let (sender, recipient) = (inv.sender, inv.recipient);
                    self.schedule(Timestamp(later), Action::Resend { sender, recipient });
                }
            }
        } else if round == 0 && self.rng.random_bool(0.5) {
            let later = at.0 + self.rng.random_range(20 * DAY..40 * DAY);
            self.schedule(Timestamp(later), Action::StaleCheck { request: id, round: 1 });
        }
        Ok(())
    }

    /// Counts an ordinary sender's withdrawal and returns the chance they re-send:
    /// 12% after the first withdrawal to someone, 2% after the second, never after more
    /// (a stale withdrawer: 25% and 10%).
    fn resend_chance(&mut self, inv: Invite) -> f64 {
        let stale = self.pop.person(inv.sender).label == Label::StaleWithdrawer;
        let n = self.withdrawn_pairs.entry((inv.sender, inv.recipient)).or_default();
        *n += 1;
        match (*n, stale) {
            (1, false) => 0.12,
            (2, false) => 0.02,
            (1, true) => 0.25,
            (2, true) => 0.1,
            _ => 0.0,
        }
    }

    fn quick_withdraw(&mut self, id: RequestId, at: Timestamp) -> Result<(), Error> {
        let Some(inv) = self.invite(id) else { return Ok(()) };
        if self.is_open(id)? && self.withdraw(inv.sender, id, Some("Sorry, sent by mistake."), at)? {
            // Withdrew to add a note, or sent to the wrong person: sometimes re-sent soon
            // (a mistaken re-sender: most times, once more a second time).
            let mistaken = self.pop.person(inv.sender).label == Label::MistakenResender;
            let chance = self.resend_chance(inv);
            let chance = if mistaken { (chance * 6.0).min(0.8) } else { (chance * 2.5).min(1.0) };
            if self.rng.random_bool(chance) {
                let later = at.0 + self.rng.random_range(HOUR..3 * DAY);
                let (sender, recipient) = (inv.sender, inv.recipient);
                self.schedule(Timestamp(later), Action::Resend { sender, recipient });
            }
        }
        Ok(())
    }

    fn spam(&mut self, s: u32, at: Timestamp) -> Result<(), Error> {
        let sp = &self.spammers[s as usize];
        if sp.stopped || at < sp.paused_until {
            return Ok(());
        }
        let (member, blatant) = (sp.member, sp.blatant);
        let Some(recipient) = self.pop.anyone(member, &mut self.rng) else { return Ok(()) };
        if self.pop.tie(member, recipient) == Tie::Company {
            return Ok(());
        }
        let (connected, open, reverse) = self.relation(member, recipient)?;
        if connected || open.is_some() || reverse.is_some() {
            return Ok(());
        }
        let (appeal, notes) = if blatant {
            (Appeal::BlatantPitch, PITCHES_BLATANT)
        } else {
            (Appeal::SubtlePitch, PITCHES_SUBTLE)
        };
        let note = notes[self.rng.random_range(0..notes.len())];
        match self.send(member, recipient, Some(note), appeal, at)? {
            Ok(_) => {}
            Err(Error::AccountRestricted) => self.spammers[s as usize].stopped = true,
            Err(Error::RateLimited { until, .. }) => self.spammers[s as usize].paused_until = until,
            Err(_) => {}
        }
        Ok(())
    }

    fn spam_cleanup(&mut self, s: u32, at: Timestamp) -> Result<(), Error> {
        let member = self.spammers[s as usize].member;
        let stale = Timestamp(at.0 - 14 * DAY);
        let pending = self.net.sent(mid(member), Some(connreq_core::RequestState::Pending))?;
        for r in pending.iter().filter(|r| r.created_at < stale).take(200) {
            if self.rng.random_bool(0.5) {
                self.withdraw(member, r.id, None, at)?;
            }
        }
        Ok(())
    }

    fn cycle_send(&mut self, c: u32, slot: u8, at: Timestamp) -> Result<(), Error> {
        let cy = &self.cyclers[c as usize];
        let Some(target) = cy.targets[slot as usize] else { return Ok(()) };
        if cy.stopped {
            return Ok(());
        }
        let (member, bumper) = (cy.member, cy.bumper);
        let (connected, open, reverse) = self.relation(member, target)?;
        if connected {
            return self.slot_done(c, slot, at);
        }
        if let Some(id) = reverse {
            self.accept(member, id, at)?;
            return self.slot_done(c, slot, at);
        }
        if let Some(id) = open {
            let later = at.0 + self.rng.random_range(DAY..5 * DAY);
            self.schedule(Timestamp(later), Action::CycleWithdraw { cycler: c, slot, request: id });
            return Ok(());
        }
        let note = if bumper {
            self.rng.random_bool(0.3).then(|| NOTES[self.rng.random_range(0..NOTES.len())])
        } else {
            self.rng.random_bool(0.5).then_some("Please accept, I'd really like to reconnect.")
        };
        let appeal = if bumper { Appeal::Ordinary } else { Appeal::Unwelcome };
        match self.send(member, target, note, appeal, at)? {
            Ok(id) => {
                let (lo, hi) = self.cyclers[c as usize].withdraw_after;
                let later = at.0 + self.rng.random_range(lo..hi);
                self.schedule(Timestamp(later), Action::CycleWithdraw { cycler: c, slot, request: id });
            }
            Err(Error::CooldownActive { until, .. } | Error::RateLimited { until, .. }) => {
                let later = until.0.max(at.0) + self.rng.random_range(HOUR..2 * DAY);
                self.schedule(Timestamp(later), Action::CycleSend { cycler: c, slot });
            }
            Err(Error::AccountRestricted) => self.cyclers[c as usize].stopped = true,
            Err(_) => self.slot_done(c, slot, at)?,
        }
        Ok(())
    }

    fn cycle_withdraw(&mut self, c: u32, slot: u8, id: RequestId, at: Timestamp) -> Result<(), Error> {
        let member = self.cyclers[c as usize].member;
        let state = self.net.request(id)?.state;
        if state.is_open() {
            self.withdraw(member, id, None, at)?;
        } else if state == connreq_core::RequestState::Accepted {
            return self.slot_done(c, slot, at);
        }
        let (lo, hi) = self.cyclers[c as usize].resend_after;
        let later = at.0 + self.rng.random_range(lo..hi);
        self.schedule(Timestamp(later), Action::CycleSend { cycler: c, slot });
        Ok(())
    }

    /// A cycler is done with a target: a bumper moves on to a new one.
    fn slot_done(&mut self, c: u32, slot: u8, at: Timestamp) -> Result<(), Error> {
        let (member, bumper) = (self.cyclers[c as usize].member, self.cyclers[c as usize].bumper);
        let next = if bumper { self.new_target(member, true) } else { None };
        self.cyclers[c as usize].targets[slot as usize] = next;
        if next.is_some() {
            let later = at.0 + self.rng.random_range(HOUR..3 * DAY);
            self.schedule(Timestamp(later), Action::CycleSend { cycler: c, slot });
        }
        Ok(())
    }

    fn pester_send(&mut self, p: u32, slot: u8, at: Timestamp) -> Result<(), Error> {
        let pe = &self.pesterers[p as usize];
        let Some(target) = pe.targets[slot as usize] else { return Ok(()) };
        if pe.stopped {
            return Ok(());
        }
        let member = pe.member;
        let (connected, open, reverse) = self.relation(member, target)?;
        if connected || reverse.is_some() {
            return Ok(());
        }
        if let Some(request) = open {
            let later = at.0 + self.rng.random_range(3 * DAY..7 * DAY);
            self.schedule(Timestamp(later), Action::PesterCheck { pester: p, slot, request });
            return Ok(());
        }
        let times = self.pestered.get(&(member, target)).copied().unwrap_or(0);
        let note = (times > 0).then_some("Please reconsider, I really want to connect.");
        match self.send(member, target, note, Appeal::Pestering { times }, at)? {
            Ok(request) => {
                *self.pestered.entry((member, target)).or_default() += 1;
                let later = at.0 + self.rng.random_range(DAY..5 * DAY);
                self.schedule(Timestamp(later), Action::PesterCheck { pester: p, slot, request });
            }
            Err(Error::CooldownActive { until, .. } | Error::RateLimited { until, .. }) => {
                let later = until.0.max(at.0) + self.rng.random_range(HOUR..DAY);
                self.schedule(Timestamp(later), Action::PesterSend { pester: p, slot });
            }
            Err(Error::AccountRestricted) => self.pesterers[p as usize].stopped = true,
            Err(_) => self.pesterers[p as usize].targets[slot as usize] = None,
        }
        Ok(())
    }

    fn pester_check(&mut self, p: u32, slot: u8, id: RequestId, at: Timestamp) -> Result<(), Error> {
        let state = self.net.request(id)?.state;
        let later = match state {
            RequestState::Declined => {
                let (lo, hi) = self.pesterers[p as usize].gap_days;
                at.0 + self.rng.random_range(lo * DAY..=hi * DAY)
            }
            // Still unanswered (as far as the pesterer can tell): look again later.
            RequestState::Pending | RequestState::Ignored | RequestState::Expired => {
                let next = at.0 + self.rng.random_range(3 * DAY..7 * DAY);
                if state != RequestState::Expired {
                    self.schedule(Timestamp(next), Action::PesterCheck { pester: p, slot, request: id });
                    return Ok(());
                }
                next
            }
            _ => return Ok(()),
        };
        self.schedule(Timestamp(later), Action::PesterSend { pester: p, slot });
        Ok(())
    }

    fn outreach(&mut self, r: u32, at: Timestamp) -> Result<(), Error> {
        let rec = &self.recruiters[r as usize];
        let (member, report_per_mille) = (rec.member, rec.report_per_mille);
        if self.restricted.contains(&member) {
            return Ok(());
        }
        for _ in 0..4 {
            let candidate = if self.rng.random_bool(0.7) {
                self.pop.anyone(member, &mut self.rng)
            } else {
                self.pop.cluster_mate(member, &mut self.rng)
            };
            let Some(recipient) = candidate else { continue };
            if self.recruiters[r as usize].invited.contains(&recipient)
                || self.closed.contains(&(member, recipient))
            {
                continue;
            }
            let (connected, open, reverse) = self.relation(member, recipient)?;
            if connected || open.is_some() || reverse.is_some() {
                continue;
            }
            self.recruiters[r as usize].invited.insert(recipient);
            let note = self
                .rng
                .random_bool(0.6)
                .then_some("Hiring for a role that fits your profile, let's connect.");
            // A refusal (a restriction, a limit) ends today's outreach to this one.
            let _refused = self.send(member, recipient, note, Appeal::Outreach { report_per_mille }, at)?;
            return Ok(());
        }
        Ok(())
    }

    /// A recruiter's weekly clean-up: invitations unanswered after a month are
    /// withdrawn, and a few of those people invited again weeks later.
    fn outreach_cleanup(&mut self, r: u32, at: Timestamp) -> Result<(), Error> {
        let member = self.recruiters[r as usize].member;
        let stale = Timestamp(at.0 - 30 * DAY);
        let pending = self.net.sent(mid(member), Some(RequestState::Pending))?;
        for req in pending.iter().filter(|r| r.created_at < stale).take(100) {
            if !self.rng.random_bool(0.6) || !self.withdraw(member, req.id, None, at)? {
                continue;
            }
            // One follow-up per person at most.
            let recipient = idx(req.recipient);
            let withdrawn = self.withdrawn_pairs.entry((member, recipient)).or_default();
            *withdrawn += 1;
            if *withdrawn == 1 && self.rng.random_bool(0.1) {
                let later = at.0 + self.rng.random_range(14 * DAY..45 * DAY);
                self.schedule(Timestamp(later), Action::Resend { sender: member, recipient });
            }
        }
        Ok(())
    }

    fn visit(&mut self, member: u32, at: Timestamp) -> Result<(), Error> {
        let unread = self.net.notifications(mid(member), true)?;
        if !unread.is_empty() {
            for n in &unread {
                if n.kind == NotificationKind::InvitationDeclined
                    && !self.pop.person(member).label.is_abuser()
                    && self.rng.random_bool(self.resend_after_decline)
                {
                    // "They must have clicked the wrong button": asked again weeks later.
                    let later = at.0 + self.rng.random_range(14 * DAY..60 * DAY);
                    let recipient = idx(n.actor);
                    self.schedule(Timestamp(later), Action::Resend { sender: member, recipient });
                }
                if n.kind != NotificationKind::InvitationWithdrawn {
                    continue;
                }
                let actor = idx(n.actor);
                let seen = {
                    let seen = self.withdrawals_seen.entry((member, actor)).or_default();
                    *seen += 1;
                    *seen
                };
                if seen >= 2 {
                    let u: f64 = self.rng.random();
                    if u < 0.05 {
                        self.block(member, actor, at)?;
                    } else if u < 0.08 {
                        let r = self.net.report(mid(member), mid(actor), ReportReason::Harassment, None, at);
                        if self.attempt(r)?.is_some() {
                            self.counters.reports += 1;
                        }
                    }
                }
            }
            let ids: Vec<_> = unread.iter().map(|n| n.id).collect();
            let r = self.net.mark_read(mid(member), &ids, at);
            if self.attempt(r)?.is_some() {
                self.counters.inbox_reads += 1;
            }
        }
        let pending = self.net.received(mid(member), Some(connreq_core::RequestState::Pending))?;
        for req in pending {
            if self.shelved.contains(&req.id) {
                continue;
            }
            let sender = idx(req.sender);
            let (tie, appeal) = match self.invite(req.id) {
                Some(inv) => (inv.tie, inv.appeal),
                None => (self.pop.tie(sender, member), Appeal::Ordinary),
            };
            let annoyed = self.withdrawals_seen.get(&(member, sender)).is_some_and(|n| *n > 0);
            let mut response = self.reactions.respond(tie, appeal, annoyed, &mut self.rng);
            if let Some(share) = self.angry.get(&member).copied()
                && tie != Tie::Company
                && matches!(response, Response::Ignore | Response::Decline | Response::Shelve)
                && self.rng.random_bool(share)
            {
                let reason =
                    if self.rng.random_bool(0.5) { ReportReason::Harassment } else { ReportReason::Spam };
                response = Response::DeclineAndReport(reason);
            }
            match response {
                Response::Later => {}
                Response::Accept => {
                    self.accept(member, req.id, at)?;
                }
                Response::Ignore => self.ignore(member, req.id, at)?,
                Response::Decline => self.decline(member, req.id, at)?,
                Response::DeclineAndReport(reason) => {
                    self.decline(member, req.id, at)?;
                    let r = self.net.report(mid(member), req.sender, reason, Some(req.id), at);
                    if self.attempt(r)?.is_some() {
                        self.counters.reports += 1;
                    }
                }
                Response::Report(reason) => {
                    let r = self.net.report(mid(member), req.sender, reason, Some(req.id), at);
                    if self.attempt(r)?.is_some() {
                        self.counters.reports += 1;
                    }
                    if reason == ReportReason::Spam {
                        self.ignore(member, req.id, at)?;
                    }
                }
                Response::Block => self.block(member, sender, at)?,
                Response::Shelve => {
                    self.shelved.insert(req.id);
                }
            }
            let pitch = matches!(appeal, Appeal::SubtlePitch | Appeal::BlatantPitch);
            if pitch && self.rng.random_bool(0.01) {
                self.change_setting(member, Some(InvitationSetting::EmailOrContacts), at)?;
            }
        }
        Ok(())
    }

    fn decline(&mut self, member: u32, id: RequestId, at: Timestamp) -> Result<(), Error> {
        let r = self.net.decline(mid(member), id, None, at);
        if self.attempt(r)?.is_some() {
            self.counters.declines += 1;
            if let Some(inv) = self.invite(id) {
                self.closed.insert((inv.sender, inv.recipient));
            }
        }
        Ok(())
    }

    fn ignore(&mut self, member: u32, id: RequestId, at: Timestamp) -> Result<(), Error> {
        let r = self.net.ignore(mid(member), id, at);
        if self.attempt(r)?.is_some() {
            self.counters.ignores += 1;
        }
        Ok(())
    }

    fn block(&mut self, blocker: u32, blocked: u32, at: Timestamp) -> Result<(), Error> {
        let r = self.net.block(mid(blocker), mid(blocked), at);
        if self.attempt(r)?.is_some() {
            self.counters.blocks += 1;
            if self.rng.random_bool(0.1) {
                let later = at.0 + self.rng.random_range(7 * DAY..40 * DAY);
                self.schedule(Timestamp(later), Action::Unblock { blocker, blocked });
            }
        }
        Ok(())
    }

    fn change_setting(
        &mut self,
        member: u32,
        to: Option<InvitationSetting>,
        at: Timestamp,
    ) -> Result<(), Error> {
        let current = self.pop.person(member).setting;
        let to = to.unwrap_or_else(|| match self.rng.random_range(0..100) {
            0..50 => InvitationSetting::Everyone,
            50..85 => InvitationSetting::EmailOrContacts,
            85..95 => InvitationSetting::Contacts,
            _ => InvitationSetting::Nobody,
        });
        if to == current {
            return Ok(());
        }
        let r = self.net.set_invitation_setting(mid(member), to, at);
        if self.attempt(r)?.is_some() {
            self.counters.setting_changes += 1;
            self.pop.people[member as usize].setting = to;
        }
        Ok(())
    }

    fn import_contacts(&mut self, member: u32, at: Timestamp) -> Result<(), Error> {
        let mut emails: Vec<String> = Vec::new();
        let picks = self.rng.random_range(3..30);
        for k in 0..picks {
            let other = if k % 3 == 2 {
                self.pop.cluster_mate(member, &mut self.rng)
            } else {
                self.pop.colleague(member, &mut self.rng)
            };
            if let Some(e) = other.and_then(|o| self.pop.person(o).email.clone()) {
                emails.push(e);
            }
        }
        for k in 0..self.rng.random_range(0..5) {
            emails.push(format!("friend{k}.of.m{}@mail.example", member + 1));
        }
        emails.sort();
        emails.dedup();
        let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
        let r = self.net.import_contacts(mid(member), &refs, at);
        if self.attempt(r)?.is_some() {
            self.counters.contact_imports += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_has_the_right_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for lambda in [0.5, 4.0, 1200.0] {
            let n = 4000;
            let mean = (0..n).map(|_| poisson(lambda, &mut rng)).sum::<u64>() as f64 / n as f64;
            assert!((mean - lambda).abs() < lambda * 0.05 + 0.05, "λ {lambda}: mean {mean}");
        }
    }
}
