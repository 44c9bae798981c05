//! The writer: one thread that carries out every command, with group commit.
//!
//! Handlers send commands down a channel. The writer takes every command
//! waiting, carries each out on the store (each still one atomic append to
//! the log), flushes once, and only then answers them all and hands the new
//! notifications to the live streams: an answer, and a notification on a
//! stream, always follow the flush that made the command durable. Concurrent
//! commands share the flush (PostgreSQL's `commit_delay`, every write-ahead log).
//!
//! Commands sent with an idempotency key are checked against the key's
//! record first (a replay is answered from it), and carried out together with
//! the record in one atomic write (see `connreq_store::Recorded`).

use crate::error::ApiError;
use crate::feed::status::ReplicaStatus;
use crate::metrics::Metrics;
use crate::reply::Reply;
use crate::sse::Hub;
use crate::time::now;
use connreq_core::Network as _;
use connreq_core::{Command, Error, NotificationId, Outcome, Timestamp};
use connreq_store::{Recorded, Store};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// How long an idempotency key is remembered.
pub const KEY_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// How often forgotten keys are cleaned out.
const CLEAN_EVERY: Duration = Duration::from_secs(600);
/// The most commands one flush answers.
const MAX_BATCH: usize = 4096;

/// Builds the answer of a command that succeeded, from the state after it.
pub type Answer = Box<dyn FnOnce(&Store, Outcome) -> Result<Reply, Error> + Send>;
/// A check made just before the command runs (who may act on what).
pub type Check = Box<dyn FnOnce(&Store) -> Result<(), ApiError> + Send>;

/// An idempotency key (already scoped to its caller) and the fingerprint of the request.
#[derive(Clone, Debug)]
pub struct Keyed {
    /// The key as stored.
    pub key: Vec<u8>,
    /// Method, path and body, hashed.
    pub fingerprint: Vec<u8>,
}

/// One command for the writer.
pub struct Job {
    /// The command's kind, for metrics.
    pub kind: &'static str,
    /// The command.
    pub command: Command,
    /// Its time.
    pub at: Timestamp,
    /// Checked first, when given.
    pub check: Option<Check>,
    /// The answer on success.
    pub answer: Answer,
    /// The idempotency key, when the request had one.
    pub keyed: Option<Keyed>,
}

enum Msg {
    Job(Box<Job>, Instant, oneshot::Sender<Reply>),
    Stop,
}

/// The handle handlers send commands through.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Msg>,
    /// On a read replica: every command is refused, naming the primary.
    replica: Option<Arc<ReplicaStatus>>,
}

impl Writer {
    /// The writer of a read replica: it refuses every command with 503,
    /// naming the primary (no thread; the follower alone writes).
    pub fn replica(status: Arc<ReplicaStatus>) -> Self {
        let (tx, _) = mpsc::channel();
        Self { tx, replica: Some(status) }
    }

    /// Queues a command and waits for its answer (given after the flush).
    pub async fn submit(&self, job: Job) -> Reply {
        if let Some(status) = &self.replica {
            return ApiError::replica(&status.primary()).reply();
        }
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Job(Box::new(job), Instant::now(), tx)).is_err() {
            return ApiError::unavailable().reply();
        }
        rx.await.unwrap_or_else(|_| ApiError::unavailable().reply())
    }

    /// Queues a command from a thread outside the runtime (the mail loop)
    /// without waiting: [`Pending::wait`] gives its answer.
    pub fn queue(&self, job: Job) -> Pending {
        if self.replica.is_some() {
            return Pending(None);
        }
        let (tx, rx) = oneshot::channel();
        match self.tx.send(Msg::Job(Box::new(job), Instant::now(), tx)) {
            Ok(()) => Pending(Some(rx)),
            Err(_) => Pending(None),
        }
    }

    /// Asks the writer to finish what is queued, flush and stop.
    pub fn stop(&self) {
        let _ = self.tx.send(Msg::Stop);
    }
}

/// A command queued with [`Writer::queue`].
pub struct Pending(Option<oneshot::Receiver<Reply>>);

impl Pending {
    /// Waits for the answer (given after the flush), blocking the thread.
    pub fn wait(self) -> Reply {
        match self.0 {
            Some(rx) => rx.blocking_recv().unwrap_or_else(|_| ApiError::unavailable().reply()),
            None => ApiError::unavailable().reply(),
        }
    }
}

/// What the writer shares with the rest of the server.
pub struct Shared {
    /// The database.
    pub store: Arc<Store>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Live notification streams.
    pub hub: Arc<Hub>,
    /// Set when a flush failed: every later command is refused.
    pub degraded: Arc<AtomicBool>,
    /// Woken after each flush that made notifications (the mail loop).
    pub wake: Option<mpsc::SyncSender<()>>,
    /// Set to the last durable event after each flush (the event feed reads
    /// the log up to it; setting it never waits).
    pub durable: watch::Sender<u64>,
}

/// Starts the writer thread.
pub fn spawn(shared: Shared) -> std::io::Result<(Writer, JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel();
    let handle =
        std::thread::Builder::new().name("connreq-writer".into()).spawn(move || run(&shared, &rx))?;
    Ok((Writer { tx, replica: None }, handle))
}

const PENDING: u8 = b'P';
const ANSWERED: u8 = b'A';

fn encode_outcome(o: Outcome) -> Vec<u8> {
    let (tag, n) = match o {
        Outcome::Done => (0u8, 0u64),
        Outcome::Request(r) => (1, r.0),
        Outcome::Count(n) => (2, n),
    };
    let mut out = vec![PENDING, tag];
    out.extend_from_slice(&n.to_be_bytes());
    out
}

fn decode_outcome(bytes: &[u8]) -> Option<Outcome> {
    let n = u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?);
    match bytes.get(1)? {
        0 => Some(Outcome::Done),
        1 => Some(Outcome::Request(connreq_core::RequestId(n))),
        2 => Some(Outcome::Count(n)),
        _ => None,
    }
}

fn answered(reply: &Reply) -> Vec<u8> {
    let mut out = vec![ANSWERED];
    out.extend_from_slice(&reply.encode());
    out
}

fn replay(mut reply: Reply) -> Reply {
    reply.replayed = true;
    reply
}

fn answer_of(store: &Store, answer: Answer, outcome: Outcome, at: Timestamp) -> Reply {
    match answer(store, outcome) {
        Ok(r) => r,
        Err(e) => ApiError::from_core(&e, at).reply(),
    }
}

/// How a job ended: its answer, the outcome for metrics, and whether it
/// wrote an idempotency record (which needs the flush too).
type Done = (Reply, &'static str, bool);

fn outcome_name(r: &Reply) -> &'static str {
    if r.status < 300 { "ok" } else { crate::error::class_of(&r.body) }
}

/// Carries out one job.
fn carry_out(store: &Store, job: Job) -> Done {
    let Job { kind: _, command, at, check, answer, keyed } = job;
    let Some(keyed) = keyed else {
        if let Some(check) = check
            && let Err(e) = check(store)
        {
            let r = e.reply();
            let n = outcome_name(&r);
            return (r, n, false);
        }
        let r = match store.execute(command, at) {
            Ok(o) => answer_of(store, answer, o, at),
            Err(e) => ApiError::from_core(&e, at).reply(),
        };
        let n = outcome_name(&r);
        return (r, n, false);
    };
    let clock = now();
    let fresh_after = Timestamp(clock.0 - KEY_LIFETIME.as_millis() as i64);
    match store.recorded(&keyed.key) {
        Err(e) => return (ApiError::from_core(&e, at).reply(), "StorageError", false),
        Ok(Some(r)) if r.at >= fresh_after => {
            if r.fingerprint != keyed.fingerprint {
                let e = ApiError::invalid("this Idempotency-Key was already used with another request");
                return (e.reply(), "InvalidInput", false);
            }
            let reply = match r.answer.as_deref() {
                Some([ANSWERED, rest @ ..]) => Reply::decode(rest),
                Some(pending @ [PENDING, ..]) => decode_outcome(pending).map(|o| {
                    // The command is durable but its answer was not recorded
                    // (a crash came between): answer it from the state now.
                    let reply = answer_of(store, answer, o, at);
                    let _ = store.record(
                        &keyed.key,
                        &Recorded {
                            fingerprint: keyed.fingerprint.clone(),
                            at: r.at,
                            answer: Some(answered(&reply)),
                        },
                    );
                    reply
                }),
                _ => None,
            };
            return match reply {
                Some(reply) => (replay(reply), "replayed", true),
                None => {
                    let e = Error::StorageError("damaged idempotency record".into());
                    (ApiError::from_core(&e, at).reply(), "StorageError", false)
                }
            };
        }
        Ok(_) => {}
    }
    let reply = match check.map_or(Ok(()), |c| c(store)) {
        Err(e) => e.reply(),
        Ok(()) => {
            let entry = |o: Outcome| Recorded {
                fingerprint: keyed.fingerprint.clone(),
                at: clock,
                answer: Some(encode_outcome(o)),
            };
            match store.execute_recorded(command, at, &keyed.key, entry) {
                Ok(o) => answer_of(store, answer, o, at),
                Err(e) => ApiError::from_core(&e, at).reply(),
            }
        }
    };
    if reply.is_final() {
        let entry =
            Recorded { fingerprint: keyed.fingerprint.clone(), at: clock, answer: Some(answered(&reply)) };
        if let Err(e) = store.record(&keyed.key, &entry) {
            return (ApiError::from_core(&e, at).reply(), "StorageError", true);
        }
    }
    let n = outcome_name(&reply);
    (reply, n, true)
}

fn run(shared: &Shared, rx: &mpsc::Receiver<Msg>) {
    let store = &*shared.store;
    let mut last_clean = Instant::now();
    let _ = store.forget_recorded_before(Timestamp(now().0 - KEY_LIFETIME.as_millis() as i64));
    let mut durable = store.read(|m| m.last_notification_id()).unwrap_or(NotificationId(0));
    shared.hub.set_durable(durable);
    let mut stopping = false;
    let mut batch: Vec<(Box<Job>, Instant, oneshot::Sender<Reply>)> = Vec::new();
    while !stopping {
        match rx.recv() {
            Ok(Msg::Job(j, t, r)) => batch.push((j, t, r)),
            Ok(Msg::Stop) | Err(_) => break,
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Msg::Job(j, t, r)) => batch.push((j, t, r)),
                Ok(Msg::Stop) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        let seq_before = store.read(|m| m.last_seq()).unwrap_or_default();
        let mut answers = Vec::with_capacity(batch.len());
        let mut records = false;
        for (job, started, reply) in batch.drain(..) {
            let kind = job.kind;
            let (answer, outcome, recorded) = if shared.degraded.load(Ordering::Relaxed) {
                (ApiError::unavailable().reply(), "StorageError", false)
            } else {
                carry_out(store, *job)
            };
            records |= recorded;
            answers.push((answer, outcome, kind, started, reply));
        }
        let seq_after = store.read(|m| m.last_seq()).unwrap_or_default();
        // Idempotency records without events (refusals, answers) need the flush too.
        let wrote = seq_after != seq_before || records;
        if wrote {
            if let Err(e) = store.flush() {
                tracing::error!(error = %e, "the flush failed: the server refuses commands from now on");
                shared.degraded.store(true, Ordering::Relaxed);
                for a in &mut answers {
                    a.0 = ApiError::unavailable().reply();
                    a.1 = "StorageError";
                }
            } else {
                shared.metrics.flushes.inc();
                shared.metrics.per_flush.observe(answers.len() as f64);
                shared.durable.send_replace(seq_after.0);
            }
        }
        if !shared.degraded.load(Ordering::Relaxed) {
            let newest = store.read(|m| m.last_notification_id()).unwrap_or(durable);
            if newest > durable {
                let made = store.read(|m| m.notifications_after(durable, usize::MAX)).unwrap_or_default();
                durable = newest;
                shared.hub.publish(made, durable);
                if let Some(wake) = &shared.wake {
                    let _ = wake.try_send(());
                }
            }
        }
        for (answer, outcome, kind, started, reply) in answers {
            shared.metrics.command(kind, outcome, started.elapsed().as_secs_f64());
            let _ = reply.send(answer);
        }
        if last_clean.elapsed() >= CLEAN_EVERY {
            last_clean = Instant::now();
            let _ = store.forget_recorded_before(Timestamp(now().0 - KEY_LIFETIME.as_millis() as i64));
        }
    }
    // Whatever is still queued is refused; what ran is flushed.
    while let Ok(Msg::Job(_, _, reply)) = rx.try_recv() {
        let _ = reply.send(ApiError::unavailable().reply());
    }
    let _ = store.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use connreq_core::RequestId;

    #[test]
    fn outcomes_read_back_as_stored() {
        for o in [Outcome::Done, Outcome::Request(RequestId(u64::MAX)), Outcome::Count(3)] {
            assert_eq!(decode_outcome(&encode_outcome(o)), Some(o));
        }
        assert_eq!(decode_outcome(&[PENDING, 9, 0, 0, 0, 0, 0, 0, 0, 0]), None);
    }
}
