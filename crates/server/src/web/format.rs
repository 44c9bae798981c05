//! How the pages write members, times and states: a member's public name
//! (or "Member N"), a time to the minute in UTC inside `<time>`, words for
//! the log's kinds. Every value goes through maud, which escapes it.

use connreq_core::{MemberId, Model, Timestamp};
use maud::{Markup, html};

/// What a page calls member `id`: their public name, else "Member N"; "a
/// former member" for one erased.
pub fn name(model: &Model, id: MemberId) -> String {
    match model.public_profile(id) {
        Ok(p) => p.name.unwrap_or_else(|| format!("Member {}", id.0)),
        Err(_) => "a former member".to_owned(),
    }
}

/// `2026-10-03 12:00 UTC`.
pub fn when_text(t: Timestamp) -> String {
    let full = t.to_string();
    format!("{} {} UTC", &full[..10.min(full.len())], full.get(11..16).unwrap_or(""))
}

/// A time as `<time datetime="...">2026-10-03 12:00 UTC</time>`.
pub fn when(t: Timestamp) -> Markup {
    html! { time datetime=(t.to_string()) { (when_text(t)) } }
}

/// `invitation_withdrawn` as "invitation withdrawn".
pub fn words(kind: &str) -> String {
    kind.replace('_', " ")
}

/// "1 invitation", "3 invitations".
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_to_the_minute_in_utc() {
        assert_eq!(when_text(Timestamp(1_790_000_000_000)), "2026-09-21 14:13 UTC");
        assert_eq!(words("invitation_withdrawn"), "invitation withdrawn");
        assert_eq!(count(1, "flag", "flags"), "1 flag");
        assert_eq!(count(2, "flag", "flags"), "2 flags");
    }
}
