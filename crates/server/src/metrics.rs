//! `/metrics`: Prometheus text through prometheus-client — commands by kind
//! and outcome, command latency by kind, flushes and commands per flush,
//! emails sent, failed and skipped, open notification streams.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A command's kind and how it ended (`ok` or the error class).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandLabels {
    /// `send`, `accept`, …
    pub kind: String,
    /// `ok` or the SPEC §8 class name.
    pub outcome: String,
}

/// A command's kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// `send`, `accept`, …
    pub kind: String,
}

type HistogramFamily = Family<KindLabel, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 50 µs to about 1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// Every metric the server keeps.
pub struct Metrics {
    registry: Registry,
    /// Commands by kind and outcome.
    pub commands: Family<CommandLabels, Counter>,
    /// Seconds from a command's arrival at the writer's queue to its answer.
    pub latency: HistogramFamily,
    /// Flushes the writer made.
    pub flushes: Counter,
    /// Commands answered per flush (group commit).
    pub per_flush: Histogram,
    /// Emails a mail server took.
    pub emails_sent: Counter,
    /// Attempts the mail server failed (the email stays queued).
    pub emails_failed: Counter,
    /// Emails the mailer refused for good (an address SMTP cannot take).
    pub emails_skipped: Counter,
    /// Notification streams open now.
    pub open_streams: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("connreq");
        let commands = Family::<CommandLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let flushes = Counter::default();
        let per_flush = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        let emails_sent = Counter::default();
        let emails_failed = Counter::default();
        let emails_skipped = Counter::default();
        let open_streams = Gauge::default();
        registry.register("commands", "Commands by kind and outcome", commands.clone());
        registry.register("command_seconds", "Command latency at the writer, by kind", latency.clone());
        registry.register("flushes", "Flushes of the database by the writer", flushes.clone());
        registry.register(
            "commands_per_flush",
            "Commands answered per flush (group commit)",
            per_flush.clone(),
        );
        registry.register("emails_sent", "Emails a mail server took", emails_sent.clone());
        registry.register("emails_failed", "Email attempts the mail server failed", emails_failed.clone());
        registry.register(
            "emails_skipped",
            "Emails refused for good (addresses SMTP cannot take)",
            emails_skipped.clone(),
        );
        registry.register("open_streams", "Notification streams open now", open_streams.clone());
        Self {
            registry,
            commands,
            latency,
            flushes,
            per_flush,
            emails_sent,
            emails_failed,
            emails_skipped,
            open_streams,
        }
    }
}

impl Metrics {
    /// Counts one command and its latency.
    pub fn command(&self, kind: &str, outcome: &str, seconds: f64) {
        self.commands
            .get_or_create(&CommandLabels { kind: kind.to_owned(), outcome: outcome.to_owned() })
            .inc();
        self.latency.get_or_create(&KindLabel { kind: kind.to_owned() }).observe(seconds);
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_names_every_metric() {
        let m = Metrics::default();
        m.command("send", "ok", 0.001);
        m.flushes.inc();
        let text = m.encode();
        for name in [
            "connreq_commands_total{kind=\"send\",outcome=\"ok\"} 1",
            "connreq_command_seconds_bucket",
            "connreq_flushes_total 1",
            "connreq_commands_per_flush",
            "connreq_emails_sent_total",
            "connreq_open_streams",
        ] {
            assert!(text.contains(name), "{name} in {text}");
        }
    }
}
