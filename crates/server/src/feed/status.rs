//! What a read replica knows of how far behind its primary it is.
//!
//! - **Lag in events**: how many events the stream holds after the last one
//!   the replica applied: the stream's last sequence (its sequence numbers
//!   are the events', see `message`) as last learnt — from each message's
//!   own sequence and from the stream's state, read every 250 ms — less the
//!   last event applied.
//! - **Lag in seconds**: 0 when nothing is pending; otherwise how long ago
//!   the last event applied was published — how old the state the replica
//!   shows is, now that newer exists. While the stream cannot be reached,
//!   the time since the replica last heard from it.
//! - **End-to-end lag** of every event applied: from the time the primary
//!   recorded it (`at`, the primary's clock when the command came without a
//!   time) to the moment the replica applied it, in a histogram of whole
//!   milliseconds (the figure the benchmark's p99 is read from).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

/// Milliseconds the end-to-end histogram tells apart; longer lags share its last bucket.
const HISTOGRAM_MS: usize = 60_000;

/// A replica's view of its lag, shared by the follower and `/healthz`.
pub struct ReplicaStatus {
    /// The URL commands go to (the primary's, as it published it).
    pub primary: Mutex<String>,
    /// The NATS server the replica follows.
    pub nats: String,
    applied: AtomicU64,
    /// The stream's last sequence, as last learnt (only grows).
    stream_last: AtomicU64,
    /// Publication time (epoch ms) of the last event applied.
    applied_published_ms: AtomicI64,
    /// Last time (epoch ms) the stream was heard from.
    heard_ms: AtomicI64,
    connected: AtomicBool,
    histogram: Mutex<Vec<u64>>,
}

/// The lag as `/healthz` reports it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lag {
    /// Events the stream holds that the replica has not applied.
    pub events: u64,
    /// Seconds (see the module's notes).
    pub seconds: f64,
    /// Whether the stream answers now.
    pub connected: bool,
}

impl ReplicaStatus {
    /// A replica of the primary at `primary` (as far as it knows), following `nats`.
    pub fn new(primary: String, nats: String, applied: u64) -> Self {
        Self {
            primary: Mutex::new(primary),
            nats,
            applied: AtomicU64::new(applied),
            stream_last: AtomicU64::new(applied),
            applied_published_ms: AtomicI64::new(0),
            heard_ms: AtomicI64::new(now_ms()),
            connected: AtomicBool::new(false),
            histogram: Mutex::new(vec![0; HISTOGRAM_MS + 1]),
        }
    }

    /// The primary's URL.
    pub fn primary(&self) -> String {
        self.primary.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// The follower applied events up to `seq`; the stream then held up
    /// to `stream_last`; the last was published at `published_ms`; `ats`
    /// are the times the primary recorded the events applied.
    pub fn applied(&self, seq: u64, stream_last: u64, published_ms: i64, ats: impl Iterator<Item = i64>) {
        let now = now_ms();
        self.applied.store(seq, Ordering::Relaxed);
        self.stream_last.fetch_max(stream_last, Ordering::Relaxed);
        self.applied_published_ms.store(published_ms, Ordering::Relaxed);
        self.heard(true);
        if let Ok(mut h) = self.histogram.lock() {
            for at in ats {
                let ms = usize::try_from((now - at).max(0)).unwrap_or(HISTOGRAM_MS).min(HISTOGRAM_MS);
                h[ms] += 1;
            }
        }
    }

    /// The stream was heard from (`true`) or could not be reached (`false`).
    pub fn heard(&self, connected: bool) {
        if connected {
            self.heard_ms.store(now_ms(), Ordering::Relaxed);
        }
        self.connected.store(connected, Ordering::Relaxed);
    }

    /// The stream holds events up to `last` (its state, read now).
    pub fn stream_holds(&self, last: u64) {
        self.stream_last.fetch_max(last, Ordering::Relaxed);
    }

    /// The last event applied.
    pub fn applied_seq(&self) -> u64 {
        self.applied.load(Ordering::Relaxed)
    }

    /// The lag now.
    pub fn lag(&self) -> Lag {
        let now = now_ms();
        let events =
            self.stream_last.load(Ordering::Relaxed).saturating_sub(self.applied.load(Ordering::Relaxed));
        let connected = self.connected.load(Ordering::Relaxed);
        let ms = if !connected {
            now - self.heard_ms.load(Ordering::Relaxed)
        } else if events == 0 {
            0
        } else {
            now - self.applied_published_ms.load(Ordering::Relaxed)
        };
        Lag { events, seconds: ms.max(0) as f64 / 1000.0, connected }
    }

    /// The end-to-end lag (seconds) below which a fraction `q` of the events
    /// applied so far were applied, and how many there were.
    pub fn quantile(&self, q: f64) -> (f64, u64) {
        let Ok(h) = self.histogram.lock() else { return (0.0, 0) };
        let total: u64 = h.iter().sum();
        if total == 0 {
            return (0.0, 0);
        }
        let target = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (ms, n) in h.iter().enumerate() {
            seen += n;
            if seen >= target {
                return (ms as f64 / 1000.0, total);
            }
        }
        (HISTOGRAM_MS as f64 / 1000.0, total)
    }
}

/// Now, in epoch milliseconds.
pub fn now_ms() -> i64 {
    crate::time::now().0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_zero_when_nothing_is_pending() {
        let s = ReplicaStatus::new("http://p".into(), "nats://n".into(), 0);
        let now = now_ms();
        s.applied(10, 10, now - 5_000, [now - 20, now - 20, now - 900].into_iter());
        let lag = s.lag();
        assert_eq!((lag.events, lag.seconds, lag.connected), (0, 0.0, true));
        s.applied(11, 15, now - 5_000, std::iter::empty());
        assert_eq!(s.lag().events, 4);
        assert!(s.lag().seconds >= 5.0);
        // A stale message cannot make the lag grow back; the stream's state can.
        s.applied(15, 12, now, std::iter::empty());
        assert_eq!(s.lag().events, 0);
        s.stream_holds(18);
        assert_eq!(s.lag().events, 3);
        let (p50, n) = s.quantile(0.5);
        assert_eq!(n, 3);
        assert!((0.02..0.1).contains(&p50));
        assert!(s.quantile(0.99).0 >= 0.9);
    }
}
