//! The primary's publisher (`connreq serve --publish nats://HOST:PORT`).
//!
//! A task of its own reads the durable log — the events the writer's last
//! flush covered, which it learns of through a `watch` the writer sets after
//! each flush and never waits on — and publishes each event, in log order,
//! to the network's stream. A command never waits for it: a NATS server
//! that is slow or down delays the feed, nothing else.
//!
//! Each session starts from what the stream holds: the last message's id
//! names the last event it has, and publishing resumes right after it, so
//! neither side's restart makes a gap or a duplicate. Within a session
//! publishes are pipelined (up to [`WINDOW`] awaiting their acknowledgement);
//! each expects its predecessor to be the stream's last message, so a
//! message lost in flight makes JetStream refuse the ones after it rather
//! than leave a gap, and any failure ends the session: the next one starts
//! again from the stream. A message published twice is dropped by
//! JetStream (its message id).

use super::message;
use crate::feed::{self, FIRST_BACKOFF, MAX_BACKOFF};
use async_nats::jetstream::{self, stream};
use connreq_core::{Network as _, Seq};
use connreq_store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Most events awaiting JetStream's acknowledgement at once.
pub const WINDOW: usize = 8192;
/// Events read from the log at a time.
const READ_BATCH: usize = 4096;

/// What the publisher needs.
pub struct Publisher {
    /// The database.
    pub store: Arc<Store>,
    /// `nats://HOST:PORT`.
    pub url: String,
    /// The network id (the database id, hex).
    pub network: String,
    /// The last durable event, set by the writer after each flush.
    pub durable: watch::Receiver<u64>,
    /// Where commands go (the primary's URL), for replicas to name.
    pub primary: String,
    /// The last event JetStream acknowledged (for `/healthz` and metrics).
    pub published: Arc<AtomicU64>,
}

impl Publisher {
    /// Publishes until `stop` becomes true, reconnecting with back-off;
    /// then publishes what is durable and not in the stream yet, and
    /// returns once the stream holds every durable event (the server stops
    /// commands before it sets `stop`, and bounds how long it waits for this).
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut backoff = FIRST_BACKOFF;
        let mut stopping = false;
        loop {
            let before = self.published.load(Ordering::Relaxed);
            let ended = if stopping {
                self.session(true).await
            } else {
                tokio::select! {
                    ended = self.session(false) => ended,
                    _ = stop.wait_for(|s| *s) => {
                        stopping = true;
                        continue;
                    }
                }
            };
            match ended {
                Ok(()) if stopping => {
                    tracing::info!(
                        published = self.published.load(Ordering::Relaxed),
                        "the stream holds every durable event"
                    );
                    return;
                }
                Ok(()) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the event feed stopped; it resumes from what the stream holds")
                }
            }
            if stopping {
                tokio::time::sleep(backoff).await;
            } else {
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {},
                    _ = stop.wait_for(|s| *s) => stopping = true,
                }
            }
            // A session that got somewhere starts the back-off afresh.
            backoff = if self.published.load(Ordering::Relaxed) > before {
                FIRST_BACKOFF
            } else {
                (backoff * 2).min(MAX_BACKOFF)
            };
        }
    }

    /// One connection: from the stream's last event to whatever fails, or
    /// (`drain`) to the last durable event, every publish acknowledged.
    async fn session(&mut self, drain: bool) -> Result<(), String> {
        let client = feed::connect(&self.url).await?;
        let js = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(5))
            .ack_timeout(Duration::from_secs(5))
            .max_ack_inflight(WINDOW)
            .backpressure_on_inflight(true)
            .build(client);
        let stream = ensure_stream(&js, &self.network).await?;
        self.describe(&js).await?;
        let last = last_event(&stream, &self.network).await?;
        let local = self.store.read(|m| m.last_seq().0).map_err(|e| e.to_string())?;
        if last > local {
            return Err(format!(
                "the stream {} holds event {last} and this database only {local}: it is another \
                 history of the network (a restored backup?); nothing is published",
                feed::stream_name(&self.network)
            ));
        }
        self.published.store(last, Ordering::Relaxed);
        tracing::info!(stream = %feed::stream_name(&self.network), from = last + 1, "publishing the event log");
        // Acknowledgements are awaited in order by a task of their own; the
        // first failure ends the session.
        let (acks, mut pending) = mpsc::channel::<(u64, jetstream::context::PublishAckFuture)>(WINDOW);
        let published = self.published.clone();
        let mut acker = tokio::spawn(async move {
            while let Some((seq, ack)) = pending.recv().await {
                ack.await.map_err(|e| format!("JetStream did not take event {seq}: {e}"))?;
                published.store(seq, Ordering::Relaxed);
            }
            Ok::<(), String>(())
        });
        let mut next = last + 1;
        let result = loop {
            let durable = *self.durable.borrow_and_update();
            if durable < next && drain {
                break Ok(());
            }
            if durable < next {
                tokio::select! {
                    changed = self.durable.changed() => {
                        if changed.is_err() {
                            break Ok(());
                        }
                    }
                    done = &mut acker => break done.map_err(|e| e.to_string()).and_then(|r| r),
                }
                continue;
            }
            let want = usize::try_from(durable - next + 1).unwrap_or(usize::MAX).min(READ_BATCH);
            let store = self.store.clone();
            let network = self.network.clone();
            let messages = tokio::task::spawn_blocking(move || encode_batch(&store, &network, next, want))
                .await
                .map_err(|e| e.to_string())??;
            if messages.is_empty() {
                break Err(format!("event {next} is durable but cannot be read"));
            }
            for (seq, subject, message) in messages {
                let ack = js.send_publish(subject, message).await.map_err(|e| e.to_string());
                let sent = match ack {
                    Ok(ack) => {
                        acks.send((seq, ack)).await.map_err(|_| "the acknowledgements stopped".to_owned())
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = sent {
                    acker.abort();
                    return Err(e);
                }
                next = seq + 1;
            }
        };
        drop(acks);
        if drain && result.is_ok() {
            // Every message sent; the session is done when JetStream has taken them all.
            return acker.await.map_err(|e| e.to_string()).and_then(|r| r);
        }
        acker.abort();
        result
    }

    /// Writes what a replica needs before the first event, and where the primary is.
    async fn describe(&self, js: &jetstream::Context) -> Result<(), String> {
        let name = feed::meta_stream(&self.network);
        js.get_or_create_stream(stream::Config {
            name: name.clone(),
            description: Some(format!("connreq network {}: its creation policy and primary", self.network)),
            subjects: vec![feed::meta_subject(&self.network, "*")],
            storage: stream::StorageType::File,
            max_messages_per_subject: 1,
            allow_direct: true,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("cannot open the stream {name}: {e}"))?;
        let policy = self.store.creation_policy().map_err(|e| e.to_string())?;
        let policy = serde_json::to_vec(&policy).map_err(|e| e.to_string())?;
        for (key, value) in
            [(feed::POLICY_KEY, policy), (feed::PRIMARY_KEY, self.primary.clone().into_bytes())]
        {
            js.publish(feed::meta_subject(&self.network, key), value.into())
                .await
                .map_err(|e| format!("cannot write to {name}: {e}"))?
                .await
                .map_err(|e| format!("cannot write to {name}: {e}"))?;
        }
        Ok(())
    }
}

/// The network's stream, created when missing: file storage, every event
/// kept (a replica may start from the first), duplicates dropped within
/// [`feed::DUPLICATE_WINDOW`], direct gets allowed (replicas read the last message).
pub async fn ensure_stream(js: &jetstream::Context, network: &str) -> Result<stream::Stream, String> {
    let name = feed::stream_name(network);
    js.get_or_create_stream(stream::Config {
        name: name.clone(),
        description: Some(format!("the event log of connreq network {network}")),
        subjects: vec![feed::subjects(network)],
        storage: stream::StorageType::File,
        duplicate_window: feed::DUPLICATE_WINDOW,
        allow_direct: true,
        ..Default::default()
    })
    .await
    .map_err(|e| format!("cannot open the stream {name}: {e}"))
}

/// The last event the stream holds (0 when it holds none).
pub async fn last_event(stream: &stream::Stream, network: &str) -> Result<u64, String> {
    let info = stream.get_info().await.map_err(|e| format!("cannot read the stream: {e}"))?;
    let last = info.state.last_sequence;
    if info.state.messages == 0 {
        return Ok(0);
    }
    let message = stream
        .get_raw_message(last)
        .await
        .map_err(|e| format!("cannot read the stream's message {last}: {e}"))?;
    let id = message.headers.get(message::MSG_ID_HEADER).map(|v| v.as_str().to_owned()).unwrap_or_default();
    message::seq_of_message_id(network, &id)
        .ok_or_else(|| format!("the stream's last message ({last}) is not an event of network {network}"))
}

/// The messages of up to `want` events from `from` on.
fn encode_batch(
    store: &Store,
    network: &str,
    from: u64,
    want: usize,
) -> Result<Vec<(u64, String, jetstream::message::PublishMessage)>, String> {
    let events = store.raw_events(Seq(from - 1), Some(want)).map_err(|e| e.to_string())?;
    store
        .read(|m| {
            events
                .iter()
                .map(|e| {
                    let record = e.record(|id| m.parties(id));
                    message::encode(network, e, &record).map(|(subject, msg)| (e.seq.0, subject, msg))
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .map_err(|e| e.to_string())?
}
