//! Pieces shared by the fuzz targets: policies, member text and time.

#![allow(dead_code)]

use arbitrary::{Arbitrary, Unstructured};
use connreq_core::time::DAY_MS;
use connreq_core::{Policy, ReverseRequest, Timestamp};
use std::time::Duration;

/// The first time of every input: 2026-01-01T00:00:00Z.
pub const START: Timestamp = Timestamp(1_767_225_600_000);

/// A policy with every optional rule on and small limits, so short inputs reach them.
pub fn tight() -> Policy {
    Policy {
        reverse_request: ReverseRequest::Accept,
        weekly_invite_limit: Some(3),
        resend_cooldown: Some(Duration::from_millis(2 * DAY_MS as u64)),
        max_connections: 3,
        pending_ttl: Some(Duration::from_millis(5 * DAY_MS as u64)),
        review_withdrawals_same_person: Some(2),
        review_window: Duration::from_millis(30 * DAY_MS as u64),
        review_after_reports: Some(2),
        restrict_after_reports: Some(3),
        review_report_share: Some(0.3),
        review_resends_same_person: Some(2),
        low_acceptance_min_resolved: Some(3),
        low_acceptance_max_rate: Some(0.5),
        burst_per_hour: Some(3),
        max_note_chars: 20,
        ..Policy::standard()
    }
}

/// One of the three policies the targets run under.
pub fn policy(choice: u8) -> Policy {
    match choice % 3 {
        0 => Policy::standard(),
        1 => Policy::linkedin(),
        _ => tight(),
    }
}

/// A policy built field by field from the input; it may be invalid (then
/// both backends must refuse it the same way).
#[derive(Arbitrary, Debug, Clone)]
pub struct FuzzPolicy {
    base: u8,
    max_note_chars: Option<u16>,
    notify_on_withdraw: Option<bool>,
    notify_on_decline: Option<bool>,
    email_delay_s: Option<u32>,
    date_context_after_s: Option<u32>,
    reverse_accept: Option<bool>,
    weekly_invite_limit: Option<Option<u8>>,
    resend_cooldown_s: Option<Option<u32>>,
    max_connections: Option<u8>,
    pending_ttl_s: Option<Option<u32>>,
    review_withdrawals_same_person: Option<u8>,
    review_window_s: Option<u32>,
    review_after_reports: Option<u8>,
    restrict_after_reports: Option<u8>,
    low_acceptance: Option<Option<(u8, u8)>>,
    burst_per_hour: Option<Option<u8>>,
    /// The share in hundredths (over 100 is invalid).
    review_report_share: Option<Option<u8>>,
    review_resends_same_person: Option<Option<u8>>,
    review_resends_after_harassment: Option<Option<u8>>,
}

impl FuzzPolicy {
    /// The policy this describes.
    pub fn build(&self) -> Policy {
        let mut p = policy(self.base);
        let secs = |s: u32| Duration::from_secs(u64::from(s));
        if let Some(v) = self.max_note_chars {
            p.max_note_chars = u32::from(v);
        }
        if let Some(v) = self.notify_on_withdraw {
            p.notify_on_withdraw = v;
        }
        if let Some(v) = self.notify_on_decline {
            p.notify_on_decline = v;
        }
        if let Some(v) = self.email_delay_s {
            p.email_delay = secs(v);
        }
        if let Some(v) = self.date_context_after_s {
            p.date_context_after = secs(v);
        }
        if let Some(v) = self.reverse_accept {
            p.reverse_request = if v { ReverseRequest::Accept } else { ReverseRequest::Error };
        }
        if let Some(v) = self.weekly_invite_limit {
            p.weekly_invite_limit = v.map(u32::from);
        }
        if let Some(v) = self.resend_cooldown_s {
            p.resend_cooldown = v.map(secs);
        }
        if let Some(v) = self.max_connections {
            p.max_connections = u32::from(v);
        }
        if let Some(v) = self.pending_ttl_s {
            p.pending_ttl = v.map(secs);
        }
        if let Some(v) = self.review_withdrawals_same_person {
            p.review_withdrawals_same_person = Some(u32::from(v));
        }
        if let Some(v) = self.review_window_s {
            p.review_window = secs(v);
        }
        if let Some(v) = self.review_after_reports {
            p.review_after_reports = Some(u32::from(v));
        }
        if let Some(v) = self.restrict_after_reports {
            p.restrict_after_reports = Some(u32::from(v));
        }
        if let Some(v) = self.low_acceptance {
            match v {
                Some((n, rate)) => {
                    p.low_acceptance_min_resolved = Some(u32::from(n));
                    p.low_acceptance_max_rate = Some(f64::from(rate) / 200.0);
                }
                None => {
                    p.low_acceptance_min_resolved = None;
                    p.low_acceptance_max_rate = None;
                }
            }
        }
        if let Some(v) = self.burst_per_hour {
            p.burst_per_hour = v.map(u32::from);
        }
        if let Some(v) = self.review_report_share {
            p.review_report_share = v.map(|h| f64::from(h) / 100.0);
        }
        if let Some(v) = self.review_resends_same_person {
            p.review_resends_same_person = v.map(u32::from);
        }
        if let Some(v) = self.review_resends_after_harassment {
            p.review_resends_after_harassment = v.map(u32::from);
        }
        p
    }
}

/// Member text: mostly raw input, sometimes text built to sit right at a limit
/// or to carry markup and header injections.
#[derive(Debug, Clone)]
pub struct Text(pub String);

const SAMPLES: &[&str] = &[
    "",
    " ",
    "Ada",
    "Ada <script>alert(1)</script>",
    "Ada\r\nBcc: victim@example.com",
    "Ada\nSubject: hi",
    "line one\nline two",
    "\u{85}next line",
    "\u{2028}line separator",
    "\u{202e}rtl override",
    "=?utf-8?q?encoded?=",
    "\"quoted\" <a@b>",
    "a@b",
    "member1@example.com",
    "MEMBER2@EXAMPLE.COM",
    "é",
    "\u{0}",
    "\t",
    "&lt;already&gt;",
];

impl<'a> Arbitrary<'a> for Text {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Text(match u.int_in_range(0u8..=9)? {
            0..=4 => String::arbitrary(u)?,
            5 | 6 => (*u.choose(SAMPLES)?).to_owned(),
            7 => {
                let c = char::arbitrary(u)?;
                let n = usize::from(u.int_in_range(0u16..=320)?);
                std::iter::repeat_n(c, n).collect()
            }
            8 => {
                let a = (*u.choose(SAMPLES)?).to_owned();
                a + &String::arbitrary(u)?
            }
            _ => {
                let n = u.int_in_range(1u8..=9)?;
                format!("member{n}@example.com")
            }
        }))
    }
}

impl Text {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

std::thread_local! {
    static LAST_PANIC: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Installs a panic hook that remembers the panic (and reports it unless
/// `CONNREQ_FUZZ_QUIET_PANICS` is set) but never aborts, so panics the library
/// catches itself (and turns into errors) are not findings; a panic that
/// reaches [`no_panic`] still is.
pub fn tolerate_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let quiet = std::env::var_os("CONNREQ_FUZZ_QUIET_PANICS").is_some();
        std::panic::set_hook(Box::new(move |info| {
            let text = info.to_string();
            if !quiet {
                eprintln!("(panic, caught or not: {text})");
            }
            LAST_PANIC.with(|l| *l.borrow_mut() = text);
        }));
    });
}

/// Runs `f`; if it panics, reports the panic and aborts (a finding).
pub fn no_panic<R>(what: &str, f: impl FnOnce() -> R) -> R {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            let last = LAST_PANIC.with(|l| l.borrow().clone());
            eprintln!("{what} panicked: {last}");
            std::process::abort();
        }
    }
}
