//! Members: registering, who may invite them, their imported contacts.

use crate::command::Outcome;
use crate::decide::Ctx;
use crate::error::Error;
use crate::event::EventBody;
use crate::ids::MemberId;
use crate::kinds::InvitationSetting;
use crate::text::{EmailAddress, check_name};

/// `register(member, email, name)`: a new id, a valid address and name.
pub(super) fn register(
    cx: &mut Ctx<'_>,
    member: MemberId,
    email: Option<&str>,
    name: Option<&str>,
) -> Result<Outcome, Error> {
    if cx.state.members.contains_key(&member) {
        return Err(Error::MemberExists(member));
    }
    let email = email.map(EmailAddress::parse).transpose()?;
    if let Some(n) = name {
        check_name(n)?;
    }
    cx.push(EventBody::MemberRegistered { member, email, name: name.map(str::to_owned) });
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

/// `import_contacts(member, emails)`: every address valid, or nothing is imported.
pub(super) fn import_contacts(
    cx: &mut Ctx<'_>,
    member: MemberId,
    emails: &[String],
) -> Result<Outcome, Error> {
    cx.member(member)?;
    let emails = emails.iter().map(|e| EmailAddress::parse(e)).collect::<Result<Vec<_>, _>>()?;
    if !emails.is_empty() {
        cx.push(EventBody::ContactsImported { member, emails });
    }
    Ok(Outcome::Done)
}
