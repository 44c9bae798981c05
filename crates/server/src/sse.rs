//! Live in-app notifications: `GET /v1/members/{m}/notifications/stream`,
//! Server-Sent Events.
//!
//! The writer hands each flush's new notifications to the [`Hub`], which
//! fans them out to the streams of their members only (a stream never
//! re-queries on a flush). Each event is `event: notification`, `id: <id>`,
//! `data: <Notification JSON>`. Notification ids increase across the
//! network, so a reconnect with `Last-Event-ID: N` first gets the member's
//! durable notifications after `N` from the model, in order, and then the
//! live ones; any id already sent is skipped, so nothing is repeated.

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::P;
use crate::metrics::Metrics;
use crate::state::App;
use crate::wire::NotificationOut;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use connreq_core::Network as _;
use connreq_core::{MemberId, Notification, NotificationId};
use futures_util::Stream;
use std::collections::HashMap;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How many notifications a stream may fall behind before it is closed (the
/// client reconnects with `Last-Event-ID` and loses nothing).
const STREAM_BUFFER: usize = 256;

type Subscribers = HashMap<u64, Vec<(u64, mpsc::Sender<Arc<NotificationOut>>)>>;

/// The open streams, by member.
#[derive(Default)]
pub struct Hub {
    subscribers: Mutex<Subscribers>,
    next: AtomicU64,
    /// The newest notification id known durable.
    durable: AtomicU64,
}

impl Hub {
    /// The newest notification id known durable.
    pub fn durable(&self) -> NotificationId {
        NotificationId(self.durable.load(Ordering::Acquire))
    }

    /// Sets the newest durable id (at start).
    pub fn set_durable(&self, id: NotificationId) {
        self.durable.store(id.0, Ordering::Release);
    }

    fn subscribe(&self, member: MemberId) -> (u64, mpsc::Receiver<Arc<NotificationOut>>) {
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(member.0)
            .or_default()
            .push((id, tx));
        (id, rx)
    }

    fn unsubscribe(&self, member: MemberId, id: u64) {
        let mut subs = self.subscribers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = subs.get_mut(&member.0) {
            list.retain(|(i, _)| *i != id);
            if list.is_empty() {
                subs.remove(&member.0);
            }
        }
    }

    /// Marks `durable` as the newest durable id, then sends each notification
    /// to its member's open streams. A stream too far behind is closed.
    pub fn publish(&self, made: Vec<Notification>, durable: NotificationId) {
        self.durable.store(durable.0, Ordering::Release);
        let mut subs = self.subscribers.lock().unwrap_or_else(|p| p.into_inner());
        if subs.is_empty() {
            return;
        }
        for n in made {
            let Some(list) = subs.get_mut(&n.member.0) else { continue };
            let out = Arc::new(NotificationOut::from(&n));
            list.retain(|(_, tx)| tx.try_send(out.clone()).is_ok());
        }
        subs.retain(|_, list| !list.is_empty());
    }

    /// How many streams are open.
    pub fn open(&self) -> usize {
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner()).values().map(Vec::len).sum()
    }
}

/// Unsubscribes and counts the stream closed when the stream is dropped.
struct Subscription {
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    member: MemberId,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.member, self.id);
        self.metrics.open_streams.dec();
    }
}

struct Feed {
    backlog: VecDeque<NotificationOut>,
    live: mpsc::Receiver<Arc<NotificationOut>>,
    last_sent: u64,
    shutdown: watch::Receiver<bool>,
    _subscription: Subscription,
}

fn event(n: &NotificationOut) -> Event {
    let data = serde_json::to_string(n).unwrap_or_default();
    Event::default().event("notification").id(n.id.to_string()).data(data)
}

impl Feed {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        if let Some(n) = self.backlog.pop_front() {
            self.last_sent = n.id;
            return Some((Ok(event(&n)), self));
        }
        loop {
            if *self.shutdown.borrow() {
                return None;
            }
            let n = tokio::select! {
                _ = self.shutdown.changed() => return None,
                n = self.live.recv() => n?,
            };
            if n.id > self.last_sent {
                self.last_sent = n.id;
                return Some((Ok(event(&n)), self));
            }
        }
    }
}

/// Live notifications of member `m` (SPEC §12).
#[utoipa::path(
    get,
    path = "/v1/members/{m}/notifications/stream",
    tag = "notifications",
    params(("m" = u64, Path, description = "the member"),
           ("Last-Event-ID" = Option<u64>, Header, description = "the last notification id received")),
    responses(
        (status = 200, description = "`text/event-stream`: `event: notification`, `id`, `data: Notification`", content_type = "text/event-stream", body = String),
        (status = "4XX", body = crate::error::ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn stream(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(m): P<u64>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let member = MemberId(m);
    principal.reads(member)?;
    app.store.read(|model| model.unread_count(member))??;
    let last = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| ApiError::bad_request("Last-Event-ID must be a notification id"))?,
        ),
    };
    let (id, live) = app.hub.subscribe(member);
    app.metrics.open_streams.inc();
    let subscription = Subscription { hub: app.hub.clone(), metrics: app.metrics.clone(), member, id };
    // Subscribed first, then read: a notification published in between is
    // both in the backlog and on the channel, and the second copy is skipped.
    let durable = app.hub.durable();
    let (backlog, last_sent) = match last {
        Some(after) => {
            // Only what came after `after` is read (and rendered), newest first.
            let list = app
                .store
                .read(|model| model.notifications_page(member, None, NotificationId(after), usize::MAX))??;
            let backlog: VecDeque<NotificationOut> =
                list.iter().rev().filter(|n| n.id <= durable).map(NotificationOut::from).collect();
            (backlog, after)
        }
        None => (VecDeque::new(), durable.0),
    };
    let feed = Feed { backlog, live, last_sent, shutdown: app.shutdown.clone(), _subscription: subscription };
    let stream = futures_util::stream::unfold(feed, Feed::next);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
