//! The simulated population: who the members are, whom they know, how active
//! they are, and what kind of member each is. Everything is drawn from the
//! seeded PRNG, so a seed gives the same population every time.
//!
//! Members belong to clusters (an industry in a region, Zipf-sized) and, inside
//! a cluster, to companies (Pareto-sized). How often a member sends is a Pareto
//! weight (α = 1.3, a third of members nearly dormant), so a few members send
//! most invitations. A scenario ([`Scenario`]) says what share of members are
//! of each kind ([`Label`]): legitimate members whose behaviour looks like
//! abuse at a glance (high-volume senders, mistaken re-senders, stale
//! withdrawers, members who report in anger) and planted abusers (pesterers,
//! spammers of three intensities, withdraw-cyclers fast and slow). The labels
//! stay in the simulation and are used only to score moderation afterwards.

use connreq_core::{InvitationSetting, MemberId};
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::seq::SliceRandom;

/// What a simulated member really is (never shown to moderation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Label {
    /// An ordinary member.
    Normal,
    /// A recruiter or event organiser: many legitimate invitations a week to
    /// people they do not know, a few of whom report them.
    HighVolume,
    /// Withdraws an invitation by mistake now and then and sends it again soon.
    MistakenResender,
    /// Cleans up unanswered invitations after weeks and sends some of them again later.
    StaleWithdrawer,
    /// Reports ordinary invitations from strangers, in anger (spam or harassment).
    AngryReporter,
    /// Sends to one to three people again after each decline, never withdrawing.
    Pesterer,
    /// Sends 2–5 sales pitches a day to strangers.
    SpammerLow,
    /// Sends 5–15 sales pitches a day.
    SpammerMid,
    /// Sends 15–50 blatant pitches a day.
    SpammerHigh,
    /// Sends, withdraws after 1–3 days and sends again to the same few people.
    CyclerFast,
    /// The same, withdrawing after one to three weeks.
    CyclerSlow,
}

impl Label {
    /// Every kind, normal kinds first.
    pub const ALL: [Label; 11] = [
        Label::Normal,
        Label::HighVolume,
        Label::MistakenResender,
        Label::StaleWithdrawer,
        Label::AngryReporter,
        Label::Pesterer,
        Label::SpammerLow,
        Label::SpammerMid,
        Label::SpammerHigh,
        Label::CyclerFast,
        Label::CyclerSlow,
    ];

    /// Whether moderation should catch this kind.
    pub fn is_abuser(self) -> bool {
        matches!(
            self,
            Label::Pesterer
                | Label::SpammerLow
                | Label::SpammerMid
                | Label::SpammerHigh
                | Label::CyclerFast
                | Label::CyclerSlow
        )
    }

    /// Whether this is a spammer of any intensity.
    pub fn is_spammer(self) -> bool {
        matches!(self, Label::SpammerLow | Label::SpammerMid | Label::SpammerHigh)
    }

    /// Whether this is a withdraw-cycler.
    pub fn is_cycler(self) -> bool {
        matches!(self, Label::CyclerFast | Label::CyclerSlow)
    }

    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Normal => "normal",
            Label::HighVolume => "high_volume",
            Label::MistakenResender => "mistaken_resender",
            Label::StaleWithdrawer => "stale_withdrawer",
            Label::AngryReporter => "angry_reporter",
            Label::Pesterer => "pesterer",
            Label::SpammerLow => "spammer_low",
            Label::SpammerMid => "spammer_mid",
            Label::SpammerHigh => "spammer_high",
            Label::CyclerFast => "cycler_fast",
            Label::CyclerSlow => "cycler_slow",
        }
    }
}

/// A population mix: which share of members is of each kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Every kind: 6% legitimate look-alikes, 1% abusers of every kind (the default).
    #[default]
    Mixed,
    /// Many recruiters and event organisers (8%) beside low- and mid-volume spammers.
    Recruiters,
    /// Many pesterers, members who report in anger and mistaken re-senders.
    Pestering,
    /// Many stale withdrawers and mistaken re-senders beside fast and slow withdraw-cyclers.
    Cycling,
    /// Only the kinds the first simulator planted (fast withdraw-cyclers and
    /// mid-volume spammers, 1% of members), with fixed reactions.
    Classic,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 5] =
        [Scenario::Mixed, Scenario::Recruiters, Scenario::Pestering, Scenario::Cycling, Scenario::Classic];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Mixed => "mixed",
            Scenario::Recruiters => "recruiters",
            Scenario::Pestering => "pestering",
            Scenario::Cycling => "cycling",
            Scenario::Classic => "classic",
        }
    }

    /// The share of members of each kind other than normal.
    pub fn mix(self) -> &'static [(Label, f64)] {
        use Label::*;
        match self {
            Scenario::Mixed => &[
                (HighVolume, 0.02),
                (MistakenResender, 0.015),
                (StaleWithdrawer, 0.015),
                (AngryReporter, 0.01),
                (Pesterer, 0.002),
                (SpammerLow, 0.001),
                (SpammerMid, 0.0015),
                (SpammerHigh, 0.0015),
                (CyclerFast, 0.002),
                (CyclerSlow, 0.002),
            ],
            Scenario::Recruiters => &[
                (HighVolume, 0.08),
                (MistakenResender, 0.01),
                (StaleWithdrawer, 0.01),
                (AngryReporter, 0.01),
                (SpammerLow, 0.004),
                (SpammerMid, 0.004),
                (SpammerHigh, 0.002),
            ],
            Scenario::Pestering => &[
                (HighVolume, 0.01),
                (MistakenResender, 0.03),
                (StaleWithdrawer, 0.01),
                (AngryReporter, 0.04),
                (Pesterer, 0.008),
                (SpammerMid, 0.001),
                (CyclerFast, 0.001),
            ],
            Scenario::Cycling => &[
                (HighVolume, 0.01),
                (MistakenResender, 0.03),
                (StaleWithdrawer, 0.04),
                (AngryReporter, 0.005),
                (CyclerFast, 0.004),
                (CyclerSlow, 0.004),
                (SpammerMid, 0.001),
            ],
            Scenario::Classic => &[(CyclerFast, 0.005), (SpammerMid, 0.005)],
        }
    }
}

/// One simulated member.
#[derive(Clone, Debug, PartialEq)]
pub struct Person {
    /// Their member id (index + 1).
    pub id: MemberId,
    /// Their cluster (industry and region).
    pub cluster: u32,
    /// Their company, a group inside the cluster.
    pub company: u32,
    /// Relative rate at which they send invitations (heavy-tailed).
    pub activity: f64,
    /// Probability that they open the site on a given day.
    pub engagement: f64,
    /// Share of their invitations that go to strangers (outside their cluster).
    pub stranger_share: f64,
    /// Their email address, if they gave one.
    pub email: Option<String>,
    /// Their display name.
    pub name: String,
    /// Who may invite them, as the simulation last set it.
    pub setting: InvitationSetting,
    /// What they really are.
    pub label: Label,
}

/// The whole simulated population.
#[derive(Clone, Debug)]
pub struct Population {
    /// Everyone, by index (member id − 1).
    pub people: Vec<Person>,
    /// Member indexes of each cluster.
    pub clusters: Vec<Vec<u32>>,
    /// Member indexes of each company.
    pub companies: Vec<Vec<u32>>,
    senders: WeightedIndex<f64>,
}

/// Largest activity weight: the busiest member sends about 3 invitations a day by default.
const MAX_ACTIVITY: f64 = 120.0;

const FIRST: &[&str] = &[
    "Ada", "Ben", "Chloé", "Dev", "Emeka", "Fatima", "Grace", "Hiro", "Ines", "Jonas", "Kwame", "Lena",
    "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Victor", "Wei", "Ximena",
    "Yusuf", "Zoe",
];
const LAST: &[&str] = &[
    "Anders", "Bianchi", "Chen", "Dubois", "Eze", "Fischer", "García", "Haddad", "Ivanova", "Jensen", "Kim",
    "López", "Müller", "Nakamura", "Okafor", "Patel", "Rossi", "Santos", "Tanaka", "Usman", "Varga", "Wong",
];

/// A Pareto(α, 1) draw.
fn pareto(rng: &mut impl Rng, alpha: f64) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    u.powf(-1.0 / alpha)
}

impl Population {
    /// Draws a population of `n` members (at least 2) mixed as `scenario` says.
    pub fn generate(n: u32, scenario: Scenario, rng: &mut impl Rng) -> Self {
        let n = n.max(2);
        // Clusters, Zipf-sized.
        let n_clusters = (n / 250).max(1);
        let cluster_weights: Vec<f64> = (0..n_clusters).map(|k| 1.0 / f64::from(k + 1).powf(0.7)).collect();
        let pick_cluster = WeightedIndex::new(&cluster_weights).expect("positive weights");
        let mut clusters: Vec<Vec<u32>> = vec![Vec::new(); n_clusters as usize];
        let member_cluster: Vec<u32> = (0..n)
            .map(|i| {
                let c = pick_cluster.sample(rng) as u32;
                clusters[c as usize].push(i);
                c
            })
            .collect();
        // Companies inside clusters, Pareto-sized.
        let mut companies: Vec<Vec<u32>> = Vec::new();
        let mut member_company = vec![0u32; n as usize];
        for members in &clusters {
            let mut shuffled = members.clone();
            shuffled.shuffle(rng);
            let mut rest = &shuffled[..];
            while !rest.is_empty() {
                let size = (pareto(rng, 1.2) * 2.0).min(300.0) as usize;
                let (company, tail) = rest.split_at(size.clamp(1, rest.len()));
                for m in company {
                    member_company[*m as usize] = companies.len() as u32;
                }
                companies.push(company.to_vec());
                rest = tail;
            }
        }
        let mut people: Vec<Person> = (0..n)
            .map(|i| {
                let dormant = rng.random_bool(0.3);
                let recruiter = rng.random_bool(0.03);
                let mut activity = pareto(rng, 1.3).min(MAX_ACTIVITY);
                if dormant {
                    activity *= 0.05;
                }
                if recruiter {
                    activity = (activity * 3.0).min(MAX_ACTIVITY);
                }
                let engagement = (0.05 + 0.3 * rng.random::<f64>() + 0.08 * activity.ln()).clamp(0.02, 0.9);
                let stranger_share =
                    if recruiter { rng.random_range(0.55..0.8) } else { rng.random_range(0.1..0.35) };
                let company = member_company[i as usize];
                let id = MemberId(u64::from(i) + 1);
                let email = match rng.random_range(0..100) {
                    0..70 => Some(format!("m{}@co{company}.example", id.0)),
                    70..95 => Some(format!("m{}@mail.example", id.0)),
                    _ => None,
                };
                let name = format!(
                    "{} {}",
                    FIRST[rng.random_range(0..FIRST.len())],
                    LAST[rng.random_range(0..LAST.len())]
                );
                let setting = match rng.random_range(0..1000) {
                    0..920 => InvitationSetting::Everyone,
                    920..980 => InvitationSetting::EmailOrContacts,
                    980..995 => InvitationSetting::Contacts,
                    _ => InvitationSetting::Nobody,
                };
                Person {
                    id,
                    cluster: member_cluster[i as usize],
                    company,
                    activity,
                    engagement,
                    stranger_share,
                    email,
                    name,
                    setting,
                    label: Label::Normal,
                }
            })
            .collect();
        // The other kinds: ordinary-looking accounts otherwise.
        let mut order: Vec<u32> = (0..n).collect();
        order.shuffle(rng);
        let mut order = order.into_iter();
        for (label, share) in scenario.mix() {
            let count = (f64::from(n) * share).round() as usize;
            for i in order.by_ref().take(count) {
                let p = &mut people[i as usize];
                p.label = *label;
                if label.is_abuser() {
                    // Abusers want to be reachable by anyone they target.
                    p.engagement = p.engagement.max(0.3);
                }
                if label.is_spammer() {
                    p.activity = 0.3;
                    p.stranger_share = 1.0;
                }
            }
        }
        let senders = WeightedIndex::new(people.iter().map(|p| p.activity)).expect("positive weights");
        Self { people, clusters, companies, senders }
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.people.len()
    }

    /// Whether there is nobody (never true for a generated population).
    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    /// The sum of all activity weights.
    pub fn total_activity(&self) -> f64 {
        self.people.iter().map(|p| p.activity).sum()
    }

    /// Picks who sends the next ordinary invitation, in proportion to activity.
    pub fn pick_sender(&self, rng: &mut impl Rng) -> u32 {
        self.senders.sample(rng) as u32
    }

    /// The member at index `i`.
    pub fn person(&self, i: u32) -> &Person {
        &self.people[i as usize]
    }

    /// Member indexes with this label.
    pub fn labelled(&self, label: Label) -> Vec<u32> {
        (0..self.people.len() as u32).filter(|i| self.people[*i as usize].label == label).collect()
    }

    /// Someone else from `i`'s company (falls back to the cluster when the company is `i` alone).
    pub fn colleague(&self, i: u32, rng: &mut impl Rng) -> Option<u32> {
        let company = &self.companies[self.person(i).company as usize];
        if company.len() < 2 {
            return self.cluster_mate(i, rng);
        }
        let c = company[rng.random_range(0..company.len())];
        (c != i).then_some(c)
    }

    /// Someone else from `i`'s cluster.
    pub fn cluster_mate(&self, i: u32, rng: &mut impl Rng) -> Option<u32> {
        let cluster = &self.clusters[self.person(i).cluster as usize];
        let c = cluster[rng.random_range(0..cluster.len())];
        (c != i).then_some(c)
    }

    /// Anyone but `i` (a stranger unless chance says otherwise).
    pub fn anyone(&self, i: u32, rng: &mut impl Rng) -> Option<u32> {
        let c = rng.random_range(0..self.people.len() as u32);
        (c != i).then_some(c)
    }

    /// How close `a` and `b` are.
    pub fn tie(&self, a: u32, b: u32) -> Tie {
        let (pa, pb) = (self.person(a), self.person(b));
        if pa.company == pb.company {
            Tie::Company
        } else if pa.cluster == pb.cluster {
            Tie::Cluster
        } else {
            Tie::Stranger
        }
    }
}

/// How close two members are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tie {
    /// Same company.
    Company,
    /// Same cluster, different company.
    Cluster,
    /// Nothing in common.
    Stranger,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn top_decile_share(counts: &mut [u64]) -> f64 {
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let total: u64 = counts.iter().sum();
        let top: u64 = counts[..counts.len() / 10].iter().sum();
        top as f64 / total as f64
    }

    #[test]
    fn same_seed_same_population_other_seed_other_population() {
        let a = Population::generate(500, Scenario::Mixed, &mut ChaCha8Rng::seed_from_u64(7));
        let b = Population::generate(500, Scenario::Mixed, &mut ChaCha8Rng::seed_from_u64(7));
        let c = Population::generate(500, Scenario::Mixed, &mut ChaCha8Rng::seed_from_u64(8));
        assert_eq!(a.people, b.people);
        assert_ne!(a.people, c.people);
    }

    #[test]
    fn top_tenth_of_members_send_at_least_forty_percent() {
        for seed in [1, 42, 2026] {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let pop = Population::generate(2000, Scenario::Mixed, &mut rng);
            let mut counts = vec![0u64; pop.len()];
            for _ in 0..20_000 {
                counts[pop.pick_sender(&mut rng) as usize] += 1;
            }
            let share = top_decile_share(&mut counts);
            assert!(share >= 0.40, "seed {seed}: top 10% send {share:.3}");
        }
    }

    #[test]
    fn each_scenario_plants_its_mix() {
        for scenario in Scenario::ALL {
            let pop = Population::generate(10_000, scenario, &mut ChaCha8Rng::seed_from_u64(42));
            for (label, share) in scenario.mix() {
                assert_eq!(pop.labelled(*label).len(), (10_000.0 * share).round() as usize, "{label:?}");
            }
            let abusers = pop.people.iter().filter(|p| p.label.is_abuser()).count();
            assert!((80..=110).contains(&abusers), "{scenario:?}: about 1% abusers, {abusers}");
        }
        let pop = Population::generate(10_000, Scenario::Mixed, &mut ChaCha8Rng::seed_from_u64(42));
        assert!(pop.companies.iter().all(|c| !c.is_empty()));
        assert_eq!(pop.companies.iter().map(Vec::len).sum::<usize>(), 10_000);
        assert_eq!(pop.clusters.iter().map(Vec::len).sum::<usize>(), 10_000);
    }

    #[test]
    fn ties_follow_companies_and_clusters() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let pop = Population::generate(1000, Scenario::Mixed, &mut rng);
        for i in 0..50 {
            if let Some(c) = pop.colleague(i, &mut rng) {
                assert_ne!(pop.tie(i, c), Tie::Stranger);
            }
            if let Some(c) = pop.cluster_mate(i, &mut rng) {
                assert_ne!(pop.tie(i, c), Tie::Stranger);
            }
        }
    }
}
