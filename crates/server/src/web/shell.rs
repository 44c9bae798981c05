//! The pages' shells: the same frame for every page (navigation with the
//! unread badge, a heading, a status line, the place the content goes, the
//! one dialog every confirmation uses), rendered without credentials and
//! holding nothing of any member's.

use crate::state::App;
use crate::web::secure;
use axum::extract::State;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use std::sync::Arc;

/// A page of the web interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// Invitations received, with mutual connections.
    Invitations,
    /// Invitations sent and still open.
    Sent,
    /// The member's connections.
    Connections,
    /// The in-app notifications, live.
    Notifications,
    /// Who may invite the member, email and language.
    Settings,
    /// The moderators' review queue.
    Review,
    /// The network's figures, for moderators.
    Dashboard,
}

impl Page {
    /// Every page, in the navigation's order.
    pub const ALL: [Page; 7] = [
        Page::Invitations,
        Page::Sent,
        Page::Connections,
        Page::Notifications,
        Page::Settings,
        Page::Review,
        Page::Dashboard,
    ];

    /// Its path.
    pub fn path(self) -> &'static str {
        match self {
            Page::Invitations => "/",
            Page::Sent => "/sent",
            Page::Connections => "/connections",
            Page::Notifications => "/notifications",
            Page::Settings => "/settings",
            Page::Review => "/review",
            Page::Dashboard => "/dashboard",
        }
    }

    /// Its name in `/ui/part/{name}`.
    pub fn name(self) -> &'static str {
        match self {
            Page::Invitations => "invitations",
            Page::Sent => "sent",
            Page::Connections => "connections",
            Page::Notifications => "notifications",
            Page::Settings => "settings",
            Page::Review => "review",
            Page::Dashboard => "dashboard",
        }
    }

    /// Its title.
    pub fn title(self) -> &'static str {
        match self {
            Page::Invitations => "Invitations",
            Page::Sent => "Sent",
            Page::Connections => "Connections",
            Page::Notifications => "Notifications",
            Page::Settings => "Settings",
            Page::Review => "Review queue",
            Page::Dashboard => "Dashboard",
        }
    }

    /// Whether only moderators may see its content.
    pub fn for_moderators(self) -> bool {
        matches!(self, Page::Review | Page::Dashboard)
    }

    /// The page at `path`, if any.
    pub fn from_path(path: &str) -> Option<Page> {
        Page::ALL.into_iter().find(|p| p.path() == path)
    }

    /// The page named `name` (as in `/ui/part/{name}`), if any.
    pub fn from_name(name: &str) -> Option<Page> {
        Page::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The shell of `page`; `demo` adds the link to the demo's sign-in.
pub fn render(page: Page, demo: bool) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title()) " · connreq" }
                link rel="icon" href="/ui/icon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/ui/app.css";
                script src="/ui/app.js" defer {}
            }
            body data-page=(page.name()) data-moderators=[page.for_moderators().then_some("true")] {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "connreq" }
                    nav aria-label="Main" {
                        ul {
                            @for p in Page::ALL {
                                li class=[p.for_moderators().then_some("moderator")] {
                                    a href=(p.path()) aria-current=[(p == page).then_some("page")] {
                                        (p.title())
                                        @if p == Page::Notifications {
                                            " "
                                            span #badge .badge hidden aria-live="polite" {}
                                        }
                                    }
                                }
                            }
                        }
                    }
                    div.who {
                        span #who {}
                        " "
                        button #signout type="button" hidden { "Sign out" }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (page.title()) }
                    p #status role="status" aria-live="polite" {}
                    div #signed-out hidden {
                        p { "You are not signed in. Open this page through the link your network gave you (it ends in " code { "#token=…" } ")." }
                        @if demo {
                            p { a href=(crate::web::demo::PAGE) { "Sign in as a member of the demo network" } }
                        }
                    }
                    div #part aria-busy="true" {}
                }
                dialog #dialog aria-labelledby="dialog-title" aria-describedby="dialog-text" {
                    form method="dialog" {
                        h2 #dialog-title {}
                        p #dialog-text {}
                        div #dialog-message-field .field hidden {
                            label for="dialog-message" { "Message (optional)" }
                            textarea #dialog-message rows="3" maxlength="300" {}
                        }
                        div #dialog-note-field .field hidden {
                            label for="dialog-note" { "Note for the record (optional)" }
                            textarea #dialog-note rows="3" maxlength="2000" {}
                        }
                        div #dialog-reason-field .field hidden {
                            label for="dialog-reason" { "Reason" }
                            select #dialog-reason {
                                option value="spam" { "Spam" }
                                option value="harassment" { "Harassment" }
                                option value="dont_know" { "I don't know this person" }
                            }
                        }
                        div.actions {
                            button #dialog-cancel type="button" { "Cancel" }
                            button #dialog-confirm .primary value="confirm" { "Confirm" }
                        }
                    }
                }
            }
        }
    }
}

/// `GET` of a page: its shell.
pub async fn page(State(app): State<Arc<App>>, uri: Uri) -> Response {
    let page = Page::from_path(uri.path()).unwrap_or(Page::Invitations);
    let mut response = render(page, app.demo).into_string().into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    secure(response)
}
