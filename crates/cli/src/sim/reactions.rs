//! How recipients answer invitations. The rates are drawn once per run from
//! the seed (each within ±30% of a central value), so no rule can be tuned
//! to one fixed population.

use super::population::Tie;
use connreq_core::ReportReason;
use rand::Rng;

/// How an invitation strikes its recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appeal {
    /// An ordinary invitation: the answer depends on how close the two are.
    Ordinary,
    /// From someone the recipient does not want to connect with (a cycler's target).
    Unwelcome,
    /// A sales pitch that could pass for networking.
    SubtlePitch,
    /// An obvious sales pitch.
    BlatantPitch,
    /// A recruiter's or organiser's invitation; this many recipients in a
    /// thousand report it (the sender's own rate, drawn per sender).
    Outreach {
        /// Reports per thousand recipients.
        report_per_mille: u16,
    },
    /// Sent again after the recipient declined `times` earlier ones.
    Pestering {
        /// How many earlier requests from this sender the recipient saw.
        times: u8,
    },
}

/// What a recipient does with a pending invitation on a visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    /// Not now: looked at again on a later visit.
    Later,
    /// Accept.
    Accept,
    /// Archive it.
    Ignore,
    /// Decline it.
    Decline,
    /// Decline it and report the sender.
    DeclineAndReport(ReportReason),
    /// Report the sender (and archive the invitation).
    Report(ReportReason),
    /// Block the sender.
    Block,
    /// Never answer it.
    Shelve,
}

/// The rates of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Reactions {
    /// (accept, report, block) for ordinary invitations from a colleague,
    /// a cluster mate, a stranger.
    ordinary: [(f64, f64, f64); 3],
    subtle: (f64, f64, f64),
    blatant: (f64, f64, f64),
    unwelcome: (f64, f64, f64),
    /// Share of a recruiter's invitations accepted.
    outreach_accept: f64,
    /// Chance a pestered member declines (rather than ignores) each time.
    pestered_decline: f64,
    /// Chance a pestered member reports harassment, per earlier request seen.
    pestered_harassment: f64,
}

fn jitter(rng: &mut impl Rng, v: f64) -> f64 {
    v * rng.random_range(0.7..1.3)
}

impl Reactions {
    /// Draws the rates of one run.
    pub fn draw(rng: &mut impl Rng) -> Self {
        let mut triple = |a: f64, r: f64, b: f64| (jitter(rng, a).min(0.95), jitter(rng, r), jitter(rng, b));
        let ordinary = [triple(0.85, 0.0, 0.0), triple(0.55, 0.0005, 0.0003), triple(0.18, 0.003, 0.002)];
        let subtle = triple(0.08, 0.045, 0.005);
        let blatant = triple(0.03, 0.10, 0.010);
        let unwelcome = triple(0.04, 0.01, 0.02);
        Self {
            ordinary,
            subtle,
            blatant,
            unwelcome,
            outreach_accept: rng.random_range(0.2..0.4),
            pestered_decline: rng.random_range(0.7..0.95),
            pestered_harassment: rng.random_range(0.03..0.12),
        }
    }

    /// The rates of the first simulator, fixed.
    pub fn fixed() -> Self {
        Self {
            ordinary: [(0.85, 0.0, 0.0), (0.55, 0.0005, 0.0003), (0.18, 0.003, 0.002)],
            subtle: (0.08, 0.045, 0.005),
            blatant: (0.03, 0.10, 0.010),
            unwelcome: (0.04, 0.01, 0.02),
            outreach_accept: 0.3,
            pestered_decline: 0.85,
            pestered_harassment: 0.08,
        }
    }

    /// How a recipient answers an invitation, given how close they are to the
    /// sender, what the invitation looks like, and whether this sender has
    /// withdrawn invitations to them before (`annoyed`).
    pub fn respond(&self, tie: Tie, appeal: Appeal, annoyed: bool, rng: &mut impl Rng) -> Response {
        if rng.random_bool(0.25) {
            return Response::Later;
        }
        if let Appeal::Pestering { times } = appeal {
            return self.pestered(times, rng);
        }
        let (mut accept, mut report, block) = match (appeal, tie) {
            (Appeal::BlatantPitch, _) => self.blatant,
            (Appeal::SubtlePitch, _) => self.subtle,
            (Appeal::Unwelcome, _) => self.unwelcome,
            (Appeal::Outreach { report_per_mille }, _) => {
                // The sender's rate is of all recipients; reports come from those who do not accept.
                let accept = self.outreach_accept;
                (accept, f64::from(report_per_mille) / 1000.0 / (1.0 - accept), 0.001)
            }
            (Appeal::Ordinary | Appeal::Pestering { .. }, Tie::Company) => self.ordinary[0],
            (Appeal::Ordinary | Appeal::Pestering { .. }, Tie::Cluster) => self.ordinary[1],
            (Appeal::Ordinary | Appeal::Pestering { .. }, Tie::Stranger) => self.ordinary[2],
        };
        if annoyed {
            accept *= 0.6;
            report += 0.02;
        }
        let u: f64 = rng.random();
        if u < accept {
            return Response::Accept;
        }
        // Among the rest: a few report or block, some decline, many ignore, the others never answer.
        let v: f64 = rng.random();
        if v < report {
            let spam_share = match appeal {
                Appeal::Ordinary | Appeal::Unwelcome | Appeal::Pestering { .. } => 0.2,
                Appeal::SubtlePitch | Appeal::BlatantPitch | Appeal::Outreach { .. } => 0.6,
            };
            return Response::Report(if rng.random_bool(spam_share) {
                ReportReason::Spam
            } else {
                ReportReason::DontKnow
            });
        }
        if v < report + block {
            return Response::Block;
        }
        match rng.random_range(0..100) {
            0..12 => Response::Decline,
            12..57 => Response::Ignore,
            _ => Response::Shelve,
        }
    }

    /// A member sent to again after declining: mostly declines, reports
    /// harassment more the more often it happened.
    fn pestered(&self, times: u8, rng: &mut impl Rng) -> Response {
        if rng.random_bool(0.02) {
            return Response::Accept;
        }
        let harassment = (self.pestered_harassment * f64::from(times)).min(0.6);
        if rng.random_bool(self.pestered_decline) {
            if rng.random_bool(harassment) {
                return Response::DeclineAndReport(ReportReason::Harassment);
            }
            return Response::Decline;
        }
        if rng.random_bool(0.05) { Response::Block } else { Response::Ignore }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn rate(reactions: &Reactions, tie: Tie, appeal: Appeal, want: fn(Response) -> bool) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        (0..40_000).filter(|_| want(reactions.respond(tie, appeal, false, &mut rng))).count() as f64
            / 40_000.0
    }

    #[test]
    fn colleagues_accept_far_more_than_strangers_and_pitches_get_reported() {
        for reactions in [Reactions::fixed(), Reactions::draw(&mut ChaCha8Rng::seed_from_u64(9))] {
            let accepted = |r| r == Response::Accept;
            let reported = |r| matches!(r, Response::Report(_));
            let company = rate(&reactions, Tie::Company, Appeal::Ordinary, accepted);
            let stranger = rate(&reactions, Tie::Stranger, Appeal::Ordinary, accepted);
            assert!(company > 3.0 * stranger, "{company} vs {stranger}");
            let spam_reports = rate(&reactions, Tie::Stranger, Appeal::BlatantPitch, reported);
            let normal_reports = rate(&reactions, Tie::Stranger, Appeal::Ordinary, reported);
            assert!(spam_reports > 10.0 * normal_reports, "{spam_reports} vs {normal_reports}");
        }
    }

    #[test]
    fn a_recruiters_reports_come_at_their_own_rate_among_all_answers() {
        let reactions = Reactions::fixed();
        let appeal = Appeal::Outreach { report_per_mille: 10 };
        let reported = rate(&reactions, Tie::Stranger, appeal, |r| matches!(r, Response::Report(_)));
        let answered = rate(&reactions, Tie::Stranger, appeal, |r| r != Response::Later);
        let share = reported / answered;
        assert!((0.007..0.013).contains(&share), "{share}");
    }

    #[test]
    fn the_pestered_mostly_decline_and_report_harassment_more_each_time() {
        let reactions = Reactions::fixed();
        let declined = |r| matches!(r, Response::Decline | Response::DeclineAndReport(_));
        assert!(rate(&reactions, Tie::Stranger, Appeal::Pestering { times: 1 }, declined) > 0.55);
        let harassed = |r| matches!(r, Response::DeclineAndReport(ReportReason::Harassment));
        let once = rate(&reactions, Tie::Stranger, Appeal::Pestering { times: 1 }, harassed);
        let thrice = rate(&reactions, Tie::Stranger, Appeal::Pestering { times: 3 }, harassed);
        assert!(thrice > 2.0 * once, "{once} then {thrice}");
    }
}
