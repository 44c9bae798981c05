//! `serve --demo`: a page that signs in as any member, for a newcomer trying
//! connreq on a simulated network. It mints a member token (or a
//! moderator's) on the server and hands it to the script, which keeps it
//! like any other. Anyone who can reach it can act as anyone, so `serve`
//! refuses `--demo` unless it listens on a loopback address only.

use crate::error::ApiError;
use crate::extract::Body;
use crate::reply::Reply;
use crate::state::App;
use crate::token;
use crate::web::format::{count, name};
use crate::web::secure;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use connreq_core::{MemberId, Model, Network as _};
use maud::{DOCTYPE, Markup, html};
use serde::{Deserialize, Serialize};
use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::time::Duration;

/// The sign-in page.
pub const PAGE: &str = "/demo";
/// Where the page asks for a token.
pub const TOKEN: &str = "/demo/token";
/// How long a demo token is valid.
pub const TTL: Duration = Duration::from_secs(8 * 3600);
/// How many members the page proposes.
const PROPOSED: usize = 8;
/// Among the first this many ids.
const SCANNED: u64 = 500;

/// `POST /demo/token`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoIn {
    /// The member to sign in as.
    pub member: u64,
    /// A moderator's token.
    #[serde(default)]
    pub moderator: bool,
}

/// The token minted.
#[derive(Clone, Debug, Serialize)]
pub struct DemoOut {
    /// The member token.
    pub token: String,
}

/// Whether every address `listen` names is a loopback address (what
/// `--demo` requires); an address that cannot be resolved is not.
pub fn loopback_only(listen: &str) -> bool {
    match listen.to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
        }
        Err(_) => false,
    }
}

/// Members worth signing in as, with their names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proposals {
    /// Among the first ids, those with the most invitations waiting from
    /// someone they share a connection with (then the most waiting): how
    /// many are waiting, and how many of those share connections.
    pub waiting: Vec<(MemberId, String, usize, usize)>,
    /// Members flagged for review (what a moderator will see).
    pub flagged: Vec<(MemberId, String)>,
    /// A member to sign in as a moderator: the first one with no open flag
    /// (a moderator deciding on their own flag would be a strange demo).
    pub moderator: Option<(MemberId, String)>,
}

/// Members worth signing in as: those whose invitations show the most (the
/// mutual connections too) among the first ids, the members flagged for
/// review, and a moderator.
pub fn proposals(model: &Model) -> Proposals {
    let mut waiting: Vec<(MemberId, String, usize, usize)> = (1..=SCANNED)
        .map(MemberId)
        .filter_map(|m| {
            let list = model.invitations(m, false).ok()?;
            let shared = list.iter().filter(|i| i.mutual_count > 0).count();
            (!list.is_empty()).then(|| (m, name(model, m), list.len(), shared))
        })
        .collect();
    waiting.sort_by(|a, b| b.3.cmp(&a.3).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    waiting.truncate(PROPOSED);
    let queue = model.review_queue();
    let flagged: Vec<(MemberId, String)> =
        queue.iter().take(4).map(|f| (f.member, name(model, f.member))).collect();
    let moderator = (1..=SCANNED)
        .map(MemberId)
        .find(|m| model.public_profile(*m).is_ok() && !queue.iter().any(|f| f.member == *m))
        .map(|m| (m, name(model, m)));
    Proposals { waiting, flagged, moderator }
}

fn render(model: &Model) -> Markup {
    let Proposals { waiting, flagged, moderator } = proposals(model);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Sign in to the demo · connreq" }
                link rel="icon" href="/ui/icon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/ui/app.css";
                script src="/ui/app.js" defer {}
            }
            body data-page="demo" {
                header.top { span.brand { "connreq" } }
                main #main {
                    h1 { "Sign in to the demo network" }
                    p { "This server runs with " code { "--demo" } ": anyone who can reach it may act as any member. It listens on this machine only." }
                    p #status role="status" aria-live="polite" {}
                    @if !waiting.is_empty() {
                        h2 { "Members" }
                        ul.cards {
                            @for (m, who, n, shared) in &waiting {
                                li.card {
                                    div.card-main { h3.card-title { (who) } p.meta { "Member " (m.0) " · " (count(*n, "invitation", "invitations")) " waiting, " (shared) " from people they share connections with" } }
                                    div.card-actions { button.primary type="button" data-demo-member=(m.0) { "Sign in as member " (m.0) } }
                                }
                            }
                        }
                    }
                    @if let Some((m, who)) = &moderator {
                        h2 { "Moderators" }
                        p {
                            "A moderator sees the review queue and the dashboard, and decides under their own name."
                            @if !flagged.is_empty() {
                                " Flagged now: "
                                @for (i, (f, fname)) in flagged.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    (fname) " (member " (f.0) ")"
                                }
                                "."
                            }
                        }
                        ul.cards {
                            li.card {
                                div.card-main { h3.card-title { (who) } p.meta { "Member " (m.0) ", as a moderator" } }
                                div.card-actions { button type="button" data-demo-member=(m.0) data-demo-moderator="true" { "Sign in as member " (m.0) ", a moderator" } }
                            }
                        }
                    }
                    h2 { "Any member" }
                    form #demo-form .panel {
                        div.field {
                            label for="demo-member" { "Member id" }
                            input #demo-member type="number" min="1" required value=[waiting.first().map(|w| w.0.0)];
                        }
                        div.choice {
                            input #demo-moderator type="checkbox";
                            label for="demo-moderator" { "As a moderator" }
                        }
                        button.primary type="submit" { "Sign in" }
                    }
                }
            }
        }
    }
}

/// `GET /demo`.
pub async fn page(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let html = app.store.read(render)?.into_string();
    let mut response = html.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(secure(response))
}

/// `POST /demo/token` `{member, moderator?}`: a token for a registered member.
pub async fn token(State(app): State<Arc<App>>, body: Body) -> Result<Reply, ApiError> {
    let input: DemoIn = body.json()?;
    let member = MemberId(input.member);
    app.store.read(|m| m.public_profile(member))??;
    let token = token::mint(&app.secrets.token_secret, member, TTL, input.moderator, token::now_secs())
        .map_err(|_| ApiError::unavailable())?;
    Ok(Reply::json(200, &DemoOut { token }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_may_serve_the_demo() {
        assert!(loopback_only("127.0.0.1:7878"));
        assert!(loopback_only("[::1]:7878"));
        assert!(loopback_only("localhost:7878"));
        assert!(!loopback_only("0.0.0.0:7878"));
        assert!(!loopback_only("[::]:7878"));
        assert!(!loopback_only("192.0.2.1:80"));
        assert!(!loopback_only("not an address"));
    }
}
