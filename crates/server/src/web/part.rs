//! `GET /ui/part/{page}`: a page's content, rendered for the caller of the
//! request, who is known by the same credentials as the API's
//! (`Authorization: Bearer`). A member token reads only its member's views,
//! and the moderators' pages answer 403 to anyone but a moderator (or the
//! service key), exactly as `/v1/flags` and `/v1/stats` do.

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{P, Q};
use crate::state::App;
use crate::web::shell::Page;
use crate::web::{dashboard, format, lists, notifications, review, secure, settings};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use connreq_core::{MemberId, Network, NotificationId};
use maud::{Markup, html};
use serde::Deserialize;
use std::sync::Arc;

/// `?offset=` (lists) and `?before=` (notifications): which page of a long list.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartQuery {
    /// Skip this many items.
    #[serde(default)]
    pub offset: usize,
    /// Notifications older than this one.
    #[serde(default)]
    pub before: Option<u64>,
}

/// Who a page is rendered for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Viewer {
    /// The member of a member token (none for the service key).
    pub member: Option<MemberId>,
    /// Whether the viewer may see the moderators' pages.
    pub moderator: bool,
}

impl From<Principal> for Viewer {
    fn from(p: Principal) -> Self {
        match p {
            Principal::Service => Viewer { member: None, moderator: true },
            Principal::Member(h) => Viewer { member: Some(h.member), moderator: h.moderator },
        }
    }
}

/// The content of `page` for `viewer`, framed with what the script needs on
/// every page: the viewer's name and unread count, and `durable`, the newest
/// notification already durable when the page was read (the live stream
/// starts after it, so nothing between the two is missed).
pub fn render<N: Network>(
    net: &N,
    page: Page,
    viewer: Viewer,
    q: PartQuery,
    durable: NotificationId,
) -> Result<String, ApiError> {
    let content: Markup = if page.for_moderators() {
        if !viewer.moderator {
            return Err(ApiError::forbidden("this page is for moderators: it needs a moderator token"));
        }
        match page {
            Page::Review => review::render(net, q.offset)?,
            _ => net.read(dashboard::render)?,
        }
    } else {
        let member = viewer.member.ok_or_else(|| {
            ApiError::bad_request("this page shows a member's own views: sign in with a member token")
        })?;
        net.read(|model| match page {
            Page::Invitations => lists::invitations(model, member, q.offset),
            Page::Sent => lists::sent(model, member, q.offset),
            Page::Connections => lists::connections(model, member, q.offset),
            Page::Notifications => notifications::render(model, member, q.before.map(NotificationId)),
            _ => settings::render(model, member),
        })??
    };
    let frame = net.read(|model| -> Result<Markup, connreq_core::Error> {
        let (name, unread) = match viewer.member {
            Some(m) => (Some(format::name(model, m)), Some(model.unread_count(m)?)),
            None => (None, None),
        };
        Ok(html! {
            div.part data-member=[viewer.member.map(|m| m.0)] data-name=[name]
                data-unread=[unread] data-durable=(durable.0)
                data-moderator=[viewer.moderator.then_some("true")] {
                (content)
            }
        })
    })??;
    Ok(frame.into_string())
}

/// `GET /ui/part/{page}`.
pub async fn part(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(name): P<String>,
    Q(q): Q<PartQuery>,
) -> Result<Response, ApiError> {
    let page = Page::from_name(&name).ok_or_else(|| ApiError::not_found("no such page"))?;
    // Read before the model: everything up to it is in what the page shows.
    let durable = app.hub.durable();
    let html = render(&*app.store, page, Viewer::from(principal), q, durable)?;
    let mut response = html.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(secure(response))
}

#[cfg(test)]
mod tests {
    use super::*;
    use connreq_core::{MemoryNetwork, Policy, Timestamp};

    const EVIL: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

    fn network() -> MemoryNetwork {
        let net = MemoryNetwork::new(Policy::standard()).unwrap();
        let t = Timestamp(1_790_000_000_000);
        net.register(MemberId(1), None, Some(EVIL), t).unwrap();
        net.register(MemberId(2), None, Some("Bob"), t).unwrap();
        net.send(MemberId(1), MemberId(2), Some(EVIL), None, t).unwrap();
        net
    }

    fn page(net: &MemoryNetwork, page: Page, viewer: Viewer) -> Result<String, ApiError> {
        render(net, page, viewer, PartQuery::default(), NotificationId(0))
    }

    #[test]
    fn member_text_is_escaped_on_every_page() {
        let net = network();
        let bob = Viewer { member: Some(MemberId(2)), moderator: true };
        for p in Page::ALL {
            let html = page(&net, p, bob).unwrap();
            assert!(!html.contains("<script") && !html.contains("<img"), "{p:?}: {html}");
        }
        let invitations = page(&net, Page::Invitations, bob).unwrap();
        assert!(
            invitations.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;")
        );
        assert!(invitations.contains(r#"data-unread="1""#), "{invitations}");
    }

    #[test]
    fn moderator_pages_need_a_moderator_and_member_pages_a_member() {
        let net = network();
        let member = Viewer { member: Some(MemberId(2)), moderator: false };
        for p in [Page::Review, Page::Dashboard] {
            assert_eq!(page(&net, p, member).map_err(|e| e.status), Err(403));
        }
        let service = Viewer { member: None, moderator: true };
        assert!(page(&net, Page::Dashboard, service).is_ok());
        assert_eq!(page(&net, Page::Invitations, service).map_err(|e| e.status), Err(400));
        let stranger = Viewer { member: Some(MemberId(99)), moderator: false };
        assert_eq!(page(&net, Page::Invitations, stranger).map_err(|e| e.status), Err(404));
    }
}
