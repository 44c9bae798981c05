//! Lists threaded through records: a member's sent and received requests and
//! inbox are not arrays of their own but links from each record to an earlier
//! one of the same list, so appending touches only the member and the new
//! record, and a walk keeps several cache misses in flight.

use crate::chunked::Chunked;
use serde::{Deserialize, Serialize};

/// The most requests, and the most notifications, one network holds: the
/// lists threaded through them link by 32-bit positions (see [`Link`]).
pub const MAX_RECORDS: usize = u32::MAX as usize;

/// A position in the requests or the notifications: index + 1, or 0 for none.
/// A member's requests and inbox are lists threaded through those records, each
/// record linking to the previous one of the list, so adding to a list touches
/// no memory beyond the member and the new record, and allocates nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Link(u32);

impl Link {
    /// The end of a list.
    pub const NONE: Link = Link(0);

    /// The link to the record at `index` (below [`MAX_RECORDS`]: `Model::decide`
    /// refuses any command that would go beyond it).
    pub fn to(index: usize) -> Link {
        debug_assert!(index < MAX_RECORDS);
        Link(u32::try_from(index + 1).unwrap_or(0))
    }

    /// The index it names, if any.
    pub fn index(self) -> Option<usize> {
        (self.0 as usize).checked_sub(1)
    }
}

/// A list threaded through records, newest first. Each record links to the
/// one `span` places before it in the list, and the walk starts knowing the
/// first `span` records, so it always knows the next `span` records before it
/// reads them: that many cache misses are in flight at a time instead of one.
/// It only ever moves to earlier records, so a damaged link ends it instead of
/// looping.
pub struct Thread<'a, T, B> {
    records: &'a Chunked<T>,
    /// The next records of the list, newest first (`Link::NONE` past its end);
    /// only the first `span` are used.
    ahead: [Link; 3],
    span: usize,
    /// A record's link to the record `span` places before it.
    back: B,
}

impl<'a, T, B: Fn(&T) -> Link> Thread<'a, T, B> {
    /// A walk from the list's newest records `first` (newest first, up to `span` of them).
    pub(crate) fn new(records: &'a Chunked<T>, first: [Link; 3], span: usize, back: B) -> Self {
        let mut ahead = [Link::NONE; 3];
        for k in 0..span.min(3) {
            // Each must be older than the one before it, or the list ends there.
            if k == 0 || (ahead[k - 1] != Link::NONE && first[k] < ahead[k - 1]) {
                ahead[k] = first[k];
            }
        }
        Self { records, ahead, span: span.clamp(1, 3), back }
    }
}

impl<'a, T, B: Fn(&T) -> Link> Iterator for Thread<'a, T, B> {
    type Item = (usize, &'a T);
    fn next(&mut self) -> Option<Self::Item> {
        let index = self.ahead[0].index()?;
        let record = self.records.get(index)?;
        let last = self.ahead[self.span - 1];
        let back = (self.back)(record);
        let next = if last != Link::NONE && back < last { back } else { Link::NONE };
        self.ahead.copy_within(1..self.span, 0);
        self.ahead[self.span - 1] = next;
        Some((index, record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records that are only their link back.
    fn records(links: &[u32]) -> Chunked<Link> {
        let mut c = Chunked::default();
        for l in links {
            c.push(Link(*l));
        }
        c
    }

    fn walk(c: &Chunked<Link>, first: [u32; 3], span: usize) -> Vec<usize> {
        Thread::new(c, first.map(Link), span, |l: &Link| *l).map(|(i, _)| i).collect()
    }

    #[test]
    fn a_thread_runs_newest_first_and_a_damaged_link_ends_it_instead_of_looping() {
        // One step back: 1 <- 3 <- 4 <- 6 (1-based); 2 and 5 belong to another list.
        let c = records(&[0, 0, 1, 3, 0, 4]);
        assert_eq!(walk(&c, [6, 0, 0], 1), vec![5, 3, 2, 0]);
        assert_eq!(walk(&c, [0, 0, 0], 1), Vec::<usize>::new());
        // Three steps back: the list 9, 8, 6, 5, 3, 2, 1 (1-based), each record
        // naming the one three places before it; the walk starts from 9, 8, 6.
        let c = records(&[0, 0, 0, 0, 1, 2, 0, 3, 5]);
        assert_eq!(walk(&c, [9, 8, 6], 3), vec![8, 7, 5, 4, 2, 1, 0]);
        // Shorter than three.
        assert_eq!(walk(&c, [8, 6, 0], 3), vec![7, 5]);
        // A link to itself, forwards, or past the end.
        assert_eq!(walk(&records(&[1]), [1, 0, 0], 1), vec![0]);
        assert_eq!(walk(&records(&[0, 2]), [2, 0, 0], 1), vec![1]);
        assert_eq!(walk(&records(&[0, 5]), [2, 0, 0], 1), vec![1]);
        assert_eq!(walk(&records(&[0]), [9, 0, 0], 1), Vec::<usize>::new());
        assert_eq!(walk(&records(&[0, 0, 9, 9]), [4, 3, 2], 3), vec![3, 2, 1]);
        // Starting links out of order end the list where the order breaks.
        assert_eq!(walk(&records(&[0, 0, 0, 0]), [3, 4, 1], 3), vec![2]);
        assert_eq!(Link::to(0), Link(1));
        assert_eq!(Link::to(6).index(), Some(6));
        assert_eq!(Link::NONE.index(), None);
    }
}
