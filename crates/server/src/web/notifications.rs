//! A member's notifications, newest first, a page at a time: unread ones
//! marked, each with "Mark read". New ones arrive over the live stream and
//! are added by the script (as text).

use crate::web::PAGE_SIZE;
use crate::web::format::{count, when};
use connreq_core::{Error, MemberId, Model, NotificationId};
use maud::{Markup, html};

/// The page of `member`'s notifications older than `before` (the newest when `None`).
pub fn render(model: &Model, member: MemberId, before: Option<NotificationId>) -> Result<Markup, Error> {
    let mut list = model.notifications_page(member, before, NotificationId(0), PAGE_SIZE + 1)?;
    let more = list.len() > PAGE_SIZE;
    list.truncate(PAGE_SIZE);
    let unread = model.unread_count(member)?;
    Ok(html! {
        @if before.is_none() {
            p.summary {
                @if list.is_empty() { "No notifications yet." }
                @else { (count(unread as usize, "unread notification", "unread notifications")) "." }
                " "
                button type="button" data-act="read-all" { "Mark all shown as read" }
            }
        }
        ul #items .notifications {
            @for n in &list {
                li.notification.unread[!n.read] data-notification=(n.id.0) data-kind=(n.kind.as_str()) {
                    p.text { (n.text) }
                    p.meta {
                        (when(n.created_at))
                        @if !n.read {
                            " "
                            button type="button" data-act="read" { "Mark read" }
                        }
                    }
                }
            }
        }
        @if more {
            @if let Some(last) = list.last() {
                p.more { button type="button" data-more=(format!("?before={}", last.id.0)) { "Show older" } }
            }
        }
    })
}
