//! A read replica's follower (`connreq serve --replica-of nats://HOST:PORT
//! --network ID`): it reads the network's stream from the event after the
//! last one its own database holds, and appends and applies each batch with
//! `Store::replicate` — the core's `apply`, the primary's own decisions.
//!
//! Its starting point is its own database: a snapshot and log it keeps like
//! any connreq database (flushed in the background), so a restart replays
//! nothing from the stream but what came after. A new replica starts from
//! the empty network under the creation policy the primary put in the
//! network's bucket, and replays the stream from its first event.
//!
//! An ordered consumer (ephemeral, no acknowledgements, recreated by the
//! client when it sees a gap or loses its server) delivers the events in
//! order; `replicate` skips one it already holds and refuses a gap.

use super::message;
use super::status::ReplicaStatus;
use crate::feed::{self, FIRST_BACKOFF, MAX_BACKOFF};
use async_nats::jetstream::{self, consumer};
use connreq_core::{Event, Policy};
use connreq_store::Store;
use futures_util::StreamExt as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Most events applied in one append.
const APPLY_BATCH: usize = 4096;

/// What the follower needs.
pub struct Follower {
    /// The replica's own database.
    pub store: Arc<Store>,
    /// `nats://HOST:PORT`.
    pub url: String,
    /// The network id.
    pub network: String,
    /// The lag, shared with `/healthz`.
    pub status: Arc<ReplicaStatus>,
}

impl Follower {
    /// Follows the stream until `stop` becomes true, reconnecting with back-off.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let before = self.status.applied_seq();
            let ended = tokio::select! {
                ended = self.session() => ended,
                _ = stop.wait_for(|s| *s) => return,
            };
            self.status.heard(false);
            if let Err(e) = ended {
                tracing::warn!(error = %e, "the replica stopped following the stream; it tries again");
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {},
                _ = stop.wait_for(|s| *s) => return,
            }
            backoff = if self.status.applied_seq() > before {
                FIRST_BACKOFF
            } else {
                (backoff * 2).min(MAX_BACKOFF)
            };
        }
    }

    async fn session(&self) -> Result<(), String> {
        let client = feed::connect(&self.url).await?;
        let js = jetstream::new(client.clone());
        if let Some(primary) = read_key(&js, &self.network, feed::PRIMARY_KEY).await {
            let primary = String::from_utf8_lossy(&primary).into_owned();
            if let Ok(mut p) = self.status.primary.lock() {
                *p = primary;
            }
        }
        let name = feed::stream_name(&self.network);
        let stream = js
            .get_stream(&name)
            .await
            .map_err(|e| format!("cannot open the stream {name} (is the primary publishing?): {e}"))?;
        let applied = self.status.applied_seq();
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: feed::subjects(&self.network),
                deliver_policy: consumer::DeliverPolicy::ByStartSequence { start_sequence: applied + 1 },
                ..Default::default()
            })
            .await
            .map_err(|e| format!("cannot read the stream {name}: {e}"))?;
        let messages =
            consumer.messages().await.map_err(|e| format!("cannot read the stream {name}: {e}"))?;
        self.status.heard(true);
        let held = stream_last(&stream).await.unwrap_or(applied);
        self.status.applied(applied, held, feed::status::now_ms(), std::iter::empty());
        // The client's connection state and the stream's last event, for
        // `/healthz` while no message comes.
        let watcher = {
            let status = self.status.clone();
            let client = client.clone();
            let stream = stream.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    status.heard(client.connection_state() == async_nats::connection::State::Connected);
                    if let Some(last) = stream_last(&stream).await {
                        status.stream_holds(last);
                    }
                }
            })
        };
        let mut chunks = messages.ready_chunks(APPLY_BATCH);
        let result = loop {
            let Some(chunk) = chunks.next().await else { break Ok(()) };
            let mut events: Vec<Event> = Vec::with_capacity(chunk.len());
            let mut last = None;
            let mut failed = None;
            for m in chunk {
                let m = match m {
                    Ok(m) => m,
                    Err(e) => {
                        failed = Some(format!("the stream {name} failed: {e}"));
                        break;
                    }
                };
                match message::decode(m.headers.as_ref()) {
                    Ok(e) => events.push(e),
                    Err(e) => {
                        failed = Some(format!(
                            "message {} of {name}: {e}",
                            m.info().map_or(0, |i| i.stream_sequence)
                        ));
                        break;
                    }
                }
                if let Ok(info) = m.info() {
                    let published = (info.published.unix_timestamp_nanos() / 1_000_000) as i64;
                    // The message's own sequence: what the stream holds at least.
                    // (Its `pending` is not relied on: the replica test saw
                    // it say 4 on the last event of the stream.)
                    last = Some((info.stream_sequence, published));
                }
            }
            if !events.is_empty() {
                let store = self.store.clone();
                let ats: Vec<i64> = events.iter().map(|e| e.at.0).collect();
                let seq = events.last().map_or(0, |e| e.seq.0);
                let replicated = tokio::task::spawn_blocking(move || store.replicate(&events))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()));
                if let Err(e) = replicated {
                    break Err(e);
                }
                let (held, published) = last.unwrap_or((seq, feed::status::now_ms()));
                self.status.applied(seq.max(self.status.applied_seq()), held, published, ats.into_iter());
            }
            if let Some(e) = failed {
                break Err(e);
            }
        };
        watcher.abort();
        result
    }
}

/// The stream's last sequence: its last event (its sequence numbers are
/// the events', see `message`), when it answers.
async fn stream_last(stream: &jetstream::stream::Stream) -> Option<u64> {
    stream.get_info().await.ok().map(|info| info.state.last_sequence)
}

/// A piece of the network's metadata, if the primary published it.
async fn read_key(js: &jetstream::Context, network: &str, key: &str) -> Option<Vec<u8>> {
    let stream = js.get_stream(feed::meta_stream(network)).await.ok()?;
    let message = stream.get_last_raw_message_by_subject(&feed::meta_subject(network, key)).await.ok()?;
    Some(message.payload.to_vec())
}

/// The policy a network was created with, as its primary published it:
/// what a new replica's database is created under. Waits (with back-off)
/// until the NATS server answers and the primary has published it, or
/// `deadline` passes.
pub async fn creation_policy(url: &str, network: &str, deadline: Duration) -> Result<Policy, String> {
    let start = tokio::time::Instant::now();
    let mut backoff = FIRST_BACKOFF;
    let mut last_error;
    loop {
        match feed::connect(url).await {
            Ok(client) => {
                let js = jetstream::new(client);
                match read_key(&js, network, feed::POLICY_KEY).await {
                    Some(bytes) => {
                        return serde_json::from_slice(&bytes)
                            .map_err(|e| format!("the network's creation policy cannot be read: {e}"));
                    }
                    None => {
                        last_error = format!(
                            "network {network} has no creation policy in the stream {} (is its primary publishing?)",
                            feed::meta_stream(network)
                        );
                    }
                }
            }
            Err(e) => last_error = e,
        }
        if start.elapsed() >= deadline {
            return Err(last_error);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
