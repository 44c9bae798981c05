//! Members: registering, who may invite them, their imported contacts,
//! their email preferences and language, changing their address or name,
//! erasing them.

use crate::command::Outcome;
use crate::decide::{Ctx, notices};
use crate::error::Error;
use crate::event::EventBody;
use crate::ids::MemberId;
use crate::kinds::{EmailFrequency, InvitationSetting, Locale, PreferenceKind};
use crate::state::State;
use crate::text::{EmailAddress, check_name};

/// `register(member, email, name)`: a new id, a valid address and name.
pub(super) fn register(
    cx: &mut Ctx<'_>,
    member: MemberId,
    email: Option<&str>,
    name: Option<&str>,
    locale: Option<Locale>,
) -> Result<Outcome, Error> {
    if cx.state.members.contains_key(&member) {
        return Err(Error::MemberExists(member));
    }
    let email = email.map(EmailAddress::parse).transpose()?;
    if let Some(n) = name {
        check_name(n)?;
    }
    let locale = locale.filter(|l| *l != Locale::default());
    cx.push(EventBody::MemberRegistered { member, email, name: name.map(str::to_owned), locale });
    Ok(Outcome::Done)
}

/// `set_invitation_setting(member, setting)`.
pub(super) fn set_setting(
    cx: &mut Ctx<'_>,
    member: MemberId,
    setting: InvitationSetting,
) -> Result<Outcome, Error> {
    cx.member(member)?;
    cx.push(EventBody::InvitationSettingChanged { member, setting });
    Ok(Outcome::Done)
}

/// The most addresses one `import_contacts` call takes (SPEC §18).
pub(crate) const MAX_CONTACTS_PER_CALL: usize = 10_000;
/// The most imported addresses a member keeps (SPEC §18).
pub(crate) const MAX_CONTACTS: usize = 50_000;

/// `import_contacts(member, emails)`: every address valid, at most 10,000 a
/// call and 50,000 a member, or nothing is imported.
pub(super) fn import_contacts(
    cx: &mut Ctx<'_>,
    member: MemberId,
    emails: &[String],
) -> Result<Outcome, Error> {
    cx.member(member)?;
    if emails.len() > MAX_CONTACTS_PER_CALL {
        return Err(Error::InvalidInput(format!(
            "{} addresses in one import; at most {MAX_CONTACTS_PER_CALL} are taken at a time",
            emails.len()
        )));
    }
    let emails = emails.iter().map(|e| EmailAddress::parse(e)).collect::<Result<Vec<_>, _>>()?;
    let known = cx.state.profile(member).and_then(|p| p.contacts.as_deref());
    let mut new: Vec<String> =
        emails.iter().map(EmailAddress::key).filter(|k| known.is_none_or(|c| !c.contains(k))).collect();
    new.sort_unstable();
    new.dedup();
    let total = known.map_or(0, |c| c.len()) + new.len();
    if total > MAX_CONTACTS {
        return Err(Error::InvalidInput(format!(
            "a member keeps at most {MAX_CONTACTS} imported addresses; this import would make {total}"
        )));
    }
    if !emails.is_empty() {
        cx.push(EventBody::ContactsImported { member, emails });
    }
    Ok(Outcome::Done)
}

/// `set_email_preference(member, kind, enabled)`: switching a kind off skips
/// the member's unsent emails of that kind. Setting what is already set
/// records nothing.
pub(super) fn set_email_preference(
    cx: &mut Ctx<'_>,
    member: MemberId,
    kind: PreferenceKind,
    enabled: bool,
) -> Result<Outcome, Error> {
    let m = cx.member(member)?;
    let off = cx.state.email_off_of(member, m);
    let now_off = if enabled { off & !kind.bits() } else { off | kind.bits() };
    if now_off != off {
        cx.push(EventBody::EmailPreferenceChanged { member, kind, enabled });
        if !enabled {
            notices::switched_off(cx, member, kind);
        }
    }
    Ok(Outcome::Done)
}

/// `set_email_frequency(member, frequency)`: a digest already queued still
/// goes at its time; what is notified from now on follows the new choice.
pub(super) fn set_email_frequency(
    cx: &mut Ctx<'_>,
    member: MemberId,
    frequency: EmailFrequency,
) -> Result<Outcome, Error> {
    let m = cx.member(member)?;
    if m.mail.daily() != (frequency == EmailFrequency::Daily) {
        cx.push(EventBody::EmailFrequencyChanged { member, frequency });
    }
    Ok(Outcome::Done)
}

/// `set_locale(member, locale)`: texts rendered from now on (also those of
/// unsent emails) are in that language.
pub(super) fn set_locale(cx: &mut Ctx<'_>, member: MemberId, locale: Locale) -> Result<Outcome, Error> {
    cx.member(member)?;
    if cx.state.locale_of(member) != locale {
        cx.push(EventBody::LocaleChanged { member, locale });
    }
    Ok(Outcome::Done)
}

/// `update_member(member, email, name)`: `None` leaves a field as it is,
/// `Some(None)` removes it; new values are checked as `register` checks them.
/// A change to nothing new records nothing. Removing the address skips the
/// member's unsent emails (`invalid_address`: there is nowhere to send them);
/// a new address takes the unsent ones.
pub(super) fn update_member(
    cx: &mut Ctx<'_>,
    member: MemberId,
    email: Option<Option<&str>>,
    name: Option<Option<&str>>,
) -> Result<Outcome, Error> {
    let m = cx.member(member)?;
    let email = match email {
        Some(Some(e)) => Some(Some(EmailAddress::parse(e)?)),
        Some(None) => Some(None),
        None => None,
    };
    if let Some(Some(n)) = name {
        check_name(n)?;
    }
    let state = cx.state;
    let email = email
        .filter(|e| e.as_ref().map(EmailAddress::as_str) != state.email_of(member).map(EmailAddress::as_str));
    let name = name.filter(|n| *n != state.name_of(member));
    if email.is_none() && name.is_none() {
        return Ok(Outcome::Done);
    }
    let removed = matches!(email, Some(None));
    cx.push(EventBody::MemberUpdated { member, email, name: name.map(|n| n.map(str::to_owned)) });
    if removed {
        notices::address_removed(cx, member, m);
    }
    Ok(Outcome::Done)
}

/// `erase_member(member)`: one `member_erased` event, which says everything
/// (see `EventBody::MemberErased`); the log is then rewritten without the
/// member's texts by whoever keeps it (see `erasure`).
pub(super) fn erase_member(cx: &mut Ctx<'_>, member: MemberId) -> Result<Outcome, Error> {
    cx.member(member)?;
    let scrub_contacts = scrub_contacts(cx.state, member);
    cx.push(EventBody::MemberErased { member, scrub_contacts });
    Ok(Outcome::Done)
}

/// Whether erasing `member` also removes their address from every member's
/// imported contacts: it does when they have one that no other member still
/// has (then it is theirs alone).
pub(crate) fn scrub_contacts(state: &State, member: MemberId) -> bool {
    state.email_of(member).is_some_and(|e| state.members_with_address(&e.key()).iter().all(|m| *m == member))
}
