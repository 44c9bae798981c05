//! The moderators' dashboard: requests by state, the outcome funnel (sent,
//! answered, accepted) as a chart, members by standing, flags by rule and
//! status, and emails.

use crate::web::chart::funnel;
use crate::web::format::words;
use connreq_core::Model;
use maud::{Markup, html};
use std::collections::BTreeMap;

/// The dashboard of the network `model` holds.
pub fn render(model: &Model) -> Markup {
    let stats = model.stats();
    let of = |state: &str| stats.requests.get(state).copied().unwrap_or(0);
    let sent: u64 = stats.requests.values().sum();
    let answered = of("accepted") + of("declined") + of("ignored");
    let stages = [("Sent", sent), ("Answered", answered), ("Accepted", of("accepted"))];
    let mut flags: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
    for f in model.all_flags() {
        *flags.entry((f.rule.as_str(), f.status.as_str())).or_default() += 1;
    }
    html! {
        div.dashboard {
            section.panel.wide aria-labelledby="funnel-heading" {
                h2 #funnel-heading { "Outcome funnel" }
                p.hint { "Of every invitation ever sent: how many were answered (accepted, declined or ignored) and how many were accepted." }
                (funnel("Invitations sent, answered and accepted", &stages))
            }
            section.panel aria-labelledby="requests-heading" {
                h2 #requests-heading { "Requests by state" }
                table {
                    thead { tr { th scope="col" { "State" } th scope="col" .num { "Requests" } } }
                    tbody {
                        @for (state, n) in &stats.requests {
                            tr { th scope="row" { (state) } td.num { (n) } }
                        }
                    }
                }
            }
            section.panel aria-labelledby="members-heading" {
                h2 #members-heading { "Members" }
                table {
                    thead { tr { th scope="col" { "Standing" } th scope="col" .num { "Members" } } }
                    tbody {
                        @for (standing, n) in &stats.members {
                            tr { th scope="row" { (words(standing)) } td.num { (n) } }
                        }
                        tr { th scope="row" { "connections" } td.num { (stats.connections) } }
                    }
                }
            }
            section.panel aria-labelledby="flags-heading" {
                h2 #flags-heading { "Flags" }
                p { strong { (stats.open_flags) } " open, waiting for review." }
                @if !flags.is_empty() {
                    table {
                        thead { tr { th scope="col" { "Rule" } th scope="col" { "Status" } th scope="col" .num { "Flags" } } }
                        tbody {
                            @for ((rule, status), n) in &flags {
                                tr { th scope="row" { (words(rule)) } td { (status) } td.num { (n) } }
                            }
                        }
                    }
                }
            }
            section.panel aria-labelledby="emails-heading" {
                h2 #emails-heading { "Emails" }
                p { strong { (stats.unsent_emails) } " queued, not sent yet." }
                p { strong { (stats.events) } " events in the log." }
            }
        }
    }
}
