//! The policy: every tunable rule of SPEC §6, with its defaults.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::time::Duration;

const MINUTE: u64 = 60;
const DAY: u64 = 86_400;

/// What `send` does when the recipient already has an open request to the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReverseRequest {
    /// Refuse with `ReversePending`.
    Error,
    /// Accept the recipient's request instead and return its id.
    Accept,
}

impl ReverseRequest {
    /// The SPEC spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReverseRequest::Error => "error",
            ReverseRequest::Accept => "accept",
        }
    }

    /// Parses the SPEC spelling.
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "error" => Ok(ReverseRequest::Error),
            "accept" => Ok(ReverseRequest::Accept),
            other => Err(Error::InvalidInput(format!(
                "reverse_request must be \"error\" or \"accept\", not {other:?}"
            ))),
        }
    }
}

/// The rules a network runs by. Stored with a database, so it is serde.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Longest note (and withdraw/decline message), in Unicode scalar values.
    pub max_note_chars: u32,
    /// Whether the recipient is told of a withdrawal.
    pub notify_on_withdraw: bool,
    /// Whether the sender is told of a decline.
    pub notify_on_decline: bool,
    /// An email is due this long after its notification.
    pub email_delay: Duration,
    /// Notifications about requests older than this name the date the request was sent.
    pub date_context_after: Duration,
    /// What a send does when a request the other way is open.
    pub reverse_request: ReverseRequest,
    /// Most sends in any 7-day window; `None` for no limit.
    pub weekly_invite_limit: Option<u32>,
    /// Wait after a withdrawn or declined request before inviting the same member again.
    pub resend_cooldown: Option<Duration>,
    /// Most connections per member.
    pub max_connections: u32,
    /// Open requests older than this expire; `None` for never.
    pub pending_ttl: Option<Duration>,
    /// Withdrawals to one member within the window that flag the sender
    /// (`repeated_withdrawals`); `None` switches the rule off.
    pub review_withdrawals_same_person: Option<u32>,
    /// The window of every moderation rule.
    pub review_window: Duration,
    /// Distinct reporters within the window that put a member under review
    /// (`reported`); `None` switches review by reports off.
    pub review_after_reports: Option<u32>,
    /// Distinct reporters within the window that restrict a member
    /// automatically; `None` switches automatic restriction off.
    pub restrict_after_reports: Option<u32>,
    /// The share (0–1) of the distinct members the reported member invited
    /// within the window that the distinct reporters must make up, besides
    /// their number, before reports flag or restrict (SPEC §15; a member who
    /// invited nobody counts as 100%). `None`: the count alone decides.
    #[serde(default = "defaults::review_report_share")]
    pub review_report_share: Option<f64>,
    /// Earlier requests to one member that ended declined, withdrawn or
    /// ignored within the window, after which one more send to them flags the
    /// sender (`repeated_resends`); `None` switches the rule off.
    #[serde(default = "defaults::review_resends_same_person")]
    pub review_resends_same_person: Option<u32>,
    /// Earlier declined requests to one member that, with a `harassment`
    /// report by that member and a send to them after a decline, flag the
    /// sender `repeated_resends`; `None` switches this combination off.
    #[serde(default = "defaults::review_resends_after_harassment")]
    pub review_resends_after_harassment: Option<u32>,
    /// Optional rule: how many of the sender's last resolved invitations to look at.
    pub low_acceptance_min_resolved: Option<u32>,
    /// Optional rule: flag when the accepted share of those is below this fraction (0–1).
    pub low_acceptance_max_rate: Option<f64>,
    /// Optional rule: flag a member who sends more than this many invitations in an hour.
    pub burst_per_hour: Option<u32>,
    /// Most open requests a sender may have (as they see them); a send beyond
    /// is `OutstandingLimit` (SPEC §11). `None` for no limit. Absent from
    /// policies stored before it existed, which read as `None`.
    #[serde(default)]
    pub max_outstanding: Option<u32>,
    /// The hour of the day (UTC, 0 to 23) members who chose a daily digest get it.
    #[serde(default = "default_digest_hour")]
    pub digest_hour: u8,
    /// When a recipient is reminded of an invitation still pending: durations
    /// after it was sent, shortest first (none in either policy).
    #[serde(default)]
    pub invitation_reminders: Vec<Duration>,
}

/// The most reminders a policy may give an invitation.
pub const MAX_REMINDERS: usize = 10;

fn default_digest_hour() -> u8 {
    8
}

/// A policy inside an event, stored as JSON text: the log's binary encoding
/// lays a struct out field by field, so a policy with more fields (a newer
/// connreq) could not read an older one; JSON names its fields, and fields
/// added later take their defaults.
pub mod as_json {
    use super::Policy;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes the policy as JSON text.
    pub fn serialize<S: Serializer>(policy: &Policy, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(policy).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    /// Reads a policy from its JSON text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Box<Policy>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        serde_json::from_str(&text).map(Box::new).map_err(serde::de::Error::custom)
    }
}

/// The measured defaults of SPEC §15's fields (docs/MODERATION.md), shared by
/// both policies; also what a policy stored before these fields existed reads as.
mod defaults {
    /// See [`super::Policy::review_report_share`].
    pub(super) fn review_report_share() -> Option<f64> {
        Some(REPORT_SHARE)
    }

    /// See [`super::Policy::review_resends_same_person`].
    pub(super) fn review_resends_same_person() -> Option<u32> {
        Some(3)
    }

    /// See [`super::Policy::review_resends_after_harassment`].
    pub(super) fn review_resends_after_harassment() -> Option<u32> {
        Some(1)
    }

    /// The default `review_report_share`.
    pub(super) const REPORT_SHARE: f64 = 0.06;
}

impl Default for Policy {
    fn default() -> Self {
        Self::standard()
    }
}

impl Policy {
    /// The standard policy: no private withdrawal, no rate limits.
    pub fn standard() -> Self {
        Self {
            max_note_chars: 300,
            notify_on_withdraw: true,
            notify_on_decline: true,
            email_delay: Duration::from_secs(2 * MINUTE),
            date_context_after: Duration::from_secs(7 * DAY),
            reverse_request: ReverseRequest::Error,
            weekly_invite_limit: None,
            resend_cooldown: None,
            max_connections: 30_000,
            pending_ttl: None,
            review_withdrawals_same_person: Some(3),
            review_window: Duration::from_secs(90 * DAY),
            review_after_reports: Some(3),
            restrict_after_reports: Some(5),
            review_report_share: defaults::review_report_share(),
            review_resends_same_person: defaults::review_resends_same_person(),
            review_resends_after_harassment: defaults::review_resends_after_harassment(),
            low_acceptance_min_resolved: None,
            low_acceptance_max_rate: None,
            burst_per_hour: None,
            digest_hour: default_digest_hour(),
            invitation_reminders: Vec::new(),
            max_outstanding: None,
        }
    }

    /// What LinkedIn's help pages describe: silent withdrawals, 100 invitations a
    /// week, a 21-day cooldown and expiry after 183 days.
    pub fn linkedin() -> Self {
        Self {
            notify_on_withdraw: false,
            weekly_invite_limit: Some(100),
            resend_cooldown: Some(Duration::from_secs(21 * DAY)),
            pending_ttl: Some(Duration::from_secs(183 * DAY)),
            ..Self::standard()
        }
    }

    /// Checks that the values make sense together; the error names the field.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field: &str, why: &str| Err(Error::InvalidInput(format!("policy {field} {why}")));
        if self.max_note_chars == 0 {
            return bad("max_note_chars", "must be at least 1");
        }
        if self.max_connections == 0 {
            return bad("max_connections", "must be at least 1");
        }
        let at_least_one = [
            ("review_withdrawals_same_person", self.review_withdrawals_same_person),
            ("review_after_reports", self.review_after_reports),
            ("restrict_after_reports", self.restrict_after_reports),
            ("review_resends_same_person", self.review_resends_same_person),
            ("review_resends_after_harassment", self.review_resends_after_harassment),
        ];
        if let Some((field, _)) = at_least_one.iter().find(|(_, v)| *v == Some(0)) {
            return bad(field, "must be at least 1 or None");
        }
        if self.review_report_share.is_some_and(|s| !(0.0..=1.0).contains(&s)) {
            return bad("review_report_share", "must be between 0 and 1 or None");
        }
        if self.review_window.is_zero() {
            return bad("review_window", "must be longer than zero");
        }
        if self.weekly_invite_limit == Some(0) {
            return bad("weekly_invite_limit", "must be at least 1 or None");
        }
        if self.max_outstanding == Some(0) {
            return bad("max_outstanding", "must be at least 1 or None");
        }
        if self.burst_per_hour == Some(0) {
            return bad("burst_per_hour", "must be at least 1 or None");
        }
        if self.pending_ttl.is_some_and(|d| d.is_zero()) {
            return bad("pending_ttl", "must be longer than zero or None");
        }
        if self.digest_hour > 23 {
            return bad("digest_hour", "must be an hour from 0 to 23");
        }
        if self.invitation_reminders.len() > MAX_REMINDERS {
            return bad("invitation_reminders", "may hold at most 10 durations");
        }
        if self.invitation_reminders.iter().any(Duration::is_zero)
            || self.invitation_reminders.windows(2).any(|w| w[0] >= w[1])
        {
            return bad(
                "invitation_reminders",
                "must be durations longer than zero, shortest first, each once",
            );
        }
        match (self.low_acceptance_min_resolved, self.low_acceptance_max_rate) {
            (None, None) => {}
            (Some(n), Some(rate)) => {
                if n == 0 {
                    return bad("low_acceptance_min_resolved", "must be at least 1");
                }
                if !(0.0..=1.0).contains(&rate) {
                    return bad("low_acceptance_max_rate", "must be between 0 and 1");
                }
            }
            _ => {
                return bad(
                    "low_acceptance_min_resolved",
                    "and low_acceptance_max_rate must be set together",
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_matches_spec_table() {
        let p = Policy::standard();
        assert_eq!(p.max_note_chars, 300);
        assert!(p.notify_on_withdraw && p.notify_on_decline);
        assert_eq!(p.email_delay, Duration::from_secs(120));
        assert_eq!(p.date_context_after, Duration::from_secs(7 * DAY));
        assert_eq!(p.reverse_request, ReverseRequest::Error);
        assert_eq!(p.weekly_invite_limit, None);
        assert_eq!(p.resend_cooldown, None);
        assert_eq!(p.max_connections, 30_000);
        assert_eq!(p.pending_ttl, None);
        assert_eq!(p.review_withdrawals_same_person, Some(3));
        assert_eq!(p.review_window, Duration::from_secs(90 * DAY));
        assert_eq!((p.review_after_reports, p.restrict_after_reports), (Some(3), Some(5)));
        assert_eq!(p.low_acceptance_min_resolved, None);
        assert_eq!(p.burst_per_hour, None);
        assert_eq!(p.digest_hour, 8);
        assert!(p.invitation_reminders.is_empty() && Policy::linkedin().invitation_reminders.is_empty());
        assert_eq!(Policy::default(), p);
        assert!(p.validate().is_ok());
    }

    #[test]
    fn linkedin_differs_where_spec_says() {
        let p = Policy::linkedin();
        assert!(!p.notify_on_withdraw);
        assert!(p.notify_on_decline);
        assert_eq!(p.weekly_invite_limit, Some(100));
        assert_eq!(p.resend_cooldown, Some(Duration::from_secs(21 * DAY)));
        assert_eq!(p.pending_ttl, Some(Duration::from_secs(183 * DAY)));
        assert!(p.validate().is_ok());
    }

    #[test]
    fn nonsense_is_refused_by_field_name() {
        let p = Policy { low_acceptance_max_rate: Some(0.5), ..Policy::standard() };
        let err = p.validate().unwrap_err().to_string();
        assert!(err.contains("low_acceptance_min_resolved"), "{err}");
        let p = Policy { max_note_chars: 0, ..Policy::standard() };
        assert!(p.validate().unwrap_err().to_string().contains("max_note_chars"));
    }

    #[test]
    fn digest_hours_and_reminders_are_checked() {
        let p = Policy { digest_hour: 24, ..Policy::standard() };
        assert!(p.validate().unwrap_err().to_string().contains("digest_hour"));
        let day = Duration::from_secs(DAY);
        for reminders in [vec![Duration::ZERO], vec![2 * day, day], vec![day, day], vec![day; 11]] {
            let p = Policy { invitation_reminders: reminders, ..Policy::standard() };
            assert!(p.validate().unwrap_err().to_string().contains("invitation_reminders"));
        }
        let p = Policy { invitation_reminders: vec![day, 7 * day], digest_hour: 0, ..Policy::standard() };
        assert!(p.validate().is_ok());
    }

    #[test]
    fn a_policy_stored_before_digests_and_reminders_reads_with_their_defaults() {
        let mut json: serde_json::Value = serde_json::to_value(Policy::linkedin()).unwrap();
        let fields = json.as_object_mut().unwrap();
        fields.remove("digest_hour");
        fields.remove("invitation_reminders");
        assert_eq!(serde_json::from_value::<Policy>(json).unwrap(), Policy::linkedin());
    }

    #[test]
    fn policies_round_trip_through_serde() {
        let p = Policy::linkedin();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Policy>(&json).unwrap(), p);
    }

    #[test]
    fn a_policy_stored_before_the_volume_and_pestering_rules_reads_with_their_defaults() {
        let mut json: serde_json::Value = serde_json::to_value(Policy::linkedin()).unwrap();
        let fields = json.as_object_mut().unwrap();
        for field in ["review_report_share", "review_resends_same_person", "review_resends_after_harassment"]
        {
            assert!(fields.remove(field).is_some(), "{field}");
        }
        let read: Policy = serde_json::from_value(json).unwrap();
        assert_eq!(read, Policy::linkedin());
        let off =
            Policy { review_report_share: None, review_resends_same_person: None, ..Policy::standard() };
        let json = serde_json::to_string(&off).unwrap();
        assert_eq!(serde_json::from_str::<Policy>(&json).unwrap(), off, "null stays off");
    }

    #[test]
    fn thresholds_of_zero_and_shares_outside_zero_to_one_are_refused_by_field_name() {
        let cases = [
            (
                "review_resends_same_person",
                Policy { review_resends_same_person: Some(0), ..Policy::standard() },
            ),
            ("review_after_reports", Policy { review_after_reports: Some(0), ..Policy::standard() }),
            ("review_report_share", Policy { review_report_share: Some(1.5), ..Policy::standard() }),
            ("review_report_share", Policy { review_report_share: Some(-0.1), ..Policy::standard() }),
        ];
        for (field, p) in cases {
            let err = p.validate().unwrap_err().to_string();
            assert!(err.contains(field), "{field}: {err}");
        }
        let all_off = Policy {
            review_withdrawals_same_person: None,
            review_after_reports: None,
            restrict_after_reports: None,
            review_report_share: None,
            review_resends_same_person: None,
            review_resends_after_harassment: None,
            ..Policy::standard()
        };
        assert!(all_off.validate().is_ok());
    }
}
