//! A read replica's log: events decided by another store (the primary),
//! received in order from its feed, appended and applied exactly as the
//! primary appended and applied them.
//!
//! Nothing is decided here: the events carry every decision (notices, email
//! plans, outcome windows, standing causes), and `Model::apply` is the same
//! `evolve` the primary ran, so the replica's model is the primary's as of
//! the same event. An erasure is carried out as on the primary: the log is
//! rewritten without the member's texts (`erasure`).

use crate::codec;
use crate::store::Store;
use connreq_core::{Error, Event, EventBody, Seq};

impl Store {
    /// Appends `events`, decided by the primary this store replicates, and
    /// applies them to the model. They must continue the log: the first
    /// right after [`Store::last_seq`], each the next. Events at or before
    /// the last one held are skipped (a redelivery), so a caller may resend
    /// what it is unsure of; a gap is refused with `StorageError` and
    /// changes nothing.
    ///
    /// Durable as the store's [`crate::Durability`] says (a replica runs
    /// `Background`: what a crash loses is fetched again from the feed).
    pub fn replicate(&self, events: &[Event]) -> Result<(), Error> {
        let mut guard = self.command_inner()?;
        let inner = &mut *guard;
        let last = inner.model.last_seq();
        let fresh: &[Event] = match events.iter().position(|e| e.seq > last) {
            Some(i) => &events[i..],
            None => return Ok(()),
        };
        for (expected, e) in (last.0 + 1..).zip(fresh) {
            if e.seq.0 != expected {
                return Err(Error::StorageError(format!(
                    "the feed skipped events: event {} came where {expected} was expected",
                    e.seq.0
                )));
            }
        }
        // Runs of ordinary events are one append each; an erasure rewrites the log.
        let mut start = 0;
        while start < fresh.len() {
            let erasure =
                fresh[start..].iter().position(|e| matches!(e.body, EventBody::MemberErased { .. }));
            let end = match erasure {
                Some(0) => {
                    self.erase_with(inner, &fresh[start..=start])?;
                    start += 1;
                    continue;
                }
                Some(i) => start + i,
                None => fresh.len(),
            };
            let run = &fresh[start..end];
            let open =
                inner.open.as_mut().ok_or_else(|| Error::StorageError("the database is closed".into()))?;
            open.append(run[0].seq, run.len(), codec::encode(run)?)?;
            inner.model.apply(run);
            if let Some(open) = inner.open.as_mut()
                && open.tail_is_full()
                && open.merge_tail().is_err()
                && let Some(tail) = open.tail.as_mut()
            {
                tail.failed_merges = tail.failed_merges.saturating_add(1);
            }
            start = end;
        }
        Ok(())
    }

    /// The policy the database was created with: what a replica's model
    /// starts from before the first event (later changes are events).
    pub fn creation_policy(&self) -> Result<connreq_core::Policy, Error> {
        Ok(self.read_inner()?.origin.policy.clone())
    }

    /// The last event of the log (0 when it is empty).
    pub fn last_seq(&self) -> Result<Seq, Error> {
        Ok(self.read_inner()?.model.last_seq())
    }
}
