//! A member's lists: invitations received (with the connections they share
//! with each sender), invitations sent and still open, and connections.
//! Each item carries the ids and the name the script's actions need as data
//! attributes (escaped like every value); the actions are the API's.

use crate::web::PAGE_SIZE;
use crate::web::format::{count, name, when};
use connreq_core::{Error, MemberId, Model, RequestState};
use maud::{Markup, html};

/// The "Show more" button of a list with more than one page.
pub fn more(total: usize, offset: usize) -> Markup {
    more_by(total, offset, PAGE_SIZE)
}

/// The "Show more" button of a list shown `size` items at a time.
pub fn more_by(total: usize, offset: usize, size: usize) -> Markup {
    let next = offset.saturating_add(size);
    html! {
        @if next < total {
            p.more { button type="button" data-more=(format!("?offset={next}")) { "Show more" } }
        }
    }
}

fn mutuals(model: &Model, n: u64, shown: &[MemberId]) -> String {
    if n == 0 {
        return "No mutual connections".to_owned();
    }
    let names: Vec<String> = shown.iter().map(|m| name(model, *m)).collect();
    let others = n.saturating_sub(shown.len() as u64);
    let mut text =
        format!("{}: {}", count(n as usize, "mutual connection", "mutual connections"), names.join(", "));
    if others > 0 {
        text.push_str(&format!(" and {others} more"));
    }
    text
}

/// The invitations waiting for `member`, newest first.
pub fn invitations(model: &Model, member: MemberId, offset: usize) -> Result<Markup, Error> {
    let mut list = model.invitations(member, false)?;
    list.reverse();
    let total = list.len();
    Ok(html! {
        @if offset == 0 {
            p.summary { @if total == 0 { "No invitations are waiting for you." } @else { (count(total, "invitation", "invitations")) " waiting for you." } }
        }
        ul #items .cards {
            @for i in list.iter().skip(offset).take(PAGE_SIZE) {
                @let who = name(model, i.request.sender);
                li.card data-request=(i.request.id.0) data-member=(i.request.sender.0) data-name=(who) {
                    div.card-main {
                        h2.card-title { (who) }
                        @if let Some(note) = &i.request.note { p.note { (note) } }
                        p.meta { (mutuals(model, i.mutual_count, &i.mutuals)) " · sent " (when(i.request.created_at)) }
                    }
                    div.card-actions {
                        button.primary type="button" data-act="accept" aria-label=(format!("Accept the invitation from {who}")) { "Accept" }
                        button type="button" data-act="ignore" aria-label=(format!("Ignore the invitation from {who}")) { "Ignore" }
                        button type="button" data-act="decline" aria-label=(format!("Decline the invitation from {who}")) { "Decline…" }
                        button type="button" data-act="report" aria-label=(format!("Report {who}")) { "Report…" }
                    }
                }
            }
        }
        (more(total, offset))
    })
}

/// The invitations `member` sent that are still open (as they see them), newest first.
pub fn sent(model: &Model, member: MemberId, offset: usize) -> Result<Markup, Error> {
    let mut list = model.sent(member, Some(RequestState::Pending))?;
    list.reverse();
    let total = list.len();
    Ok(html! {
        @if offset == 0 {
            p.summary { @if total == 0 { "You have no invitations waiting for an answer." } @else { (count(total, "invitation", "invitations")) " waiting for an answer." } }
        }
        ul #items .cards {
            @for r in list.iter().skip(offset).take(PAGE_SIZE) {
                @let who = name(model, r.recipient);
                li.card data-request=(r.id.0) data-member=(r.recipient.0) data-name=(who) {
                    div.card-main {
                        h2.card-title { (who) }
                        @if let Some(note) = &r.note { p.note { (note) } }
                        p.meta { "Sent " (when(r.created_at)) }
                    }
                    div.card-actions {
                        button type="button" data-act="withdraw" aria-label=(format!("Withdraw the invitation to {who}")) { "Withdraw…" }
                    }
                }
            }
        }
        (more(total, offset))
    })
}

/// `member`'s connections, by id.
pub fn connections(model: &Model, member: MemberId, offset: usize) -> Result<Markup, Error> {
    let list = model.connections(member)?;
    let total = list.len();
    Ok(html! {
        @if offset == 0 {
            p.summary { @if total == 0 { "You have no connections yet." } @else { (count(total, "connection", "connections")) "." } }
        }
        ul #items .cards {
            @for c in list.iter().skip(offset).take(PAGE_SIZE) {
                @let who = name(model, *c);
                @let theirs = model.connection_count(*c).unwrap_or(0);
                li.card data-member=(c.0) data-name=(who) {
                    div.card-main {
                        h2.card-title { (who) }
                        p.meta { (count(theirs as usize, "connection", "connections")) }
                    }
                    div.card-actions {
                        button type="button" data-act="remove" aria-label=(format!("Remove {who} from your connections")) { "Remove…" }
                        button type="button" data-act="block" aria-label=(format!("Block {who}")) { "Block…" }
                    }
                }
            }
        }
        (more(total, offset))
    })
}
