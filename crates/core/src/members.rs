//! Members: the record every command reads (one cache line), the profile
//! beside it (address, name, contacts), the summary of a connection list, and
//! `MemberTable`, members by id, found with one array read when ids are dense.
//!
//! Services number their members densely (database sequences), so most ids
//! index an array directly: the member record (one cache line) sits in a
//! page of the array, found without a hash probe (control bytes, then the
//! bucket, then the record: three likely cache misses on a large network).
//! Ids far beyond the number of members go to a hash map, so a sparse
//! numbering costs little: the array never covers more than twice the number
//! of members plus a small constant.
//!
//! Where a member lives (array or map) depends on the order members were
//! added; equality, iteration and serialization do not: the table is a map
//! from id to member, and is serialized as one.

use crate::collections::{Map, Set};
use crate::ids::MemberId;
use crate::kinds::{InvitationSetting, Locale, Standing};
use crate::text::EmailAddress;
use crate::thread::Link;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A one-word summary of a connection list: bit `h(id)` set for every
/// connection. A clear bit means "not connected" for certain; a set bit means
/// "look in the list" (with a typical handful of connections, rarely needed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionBits(u32);

impl ConnectionBits {
    fn bit(id: MemberId) -> u32 {
        // Fibonacci hashing: the top five bits of the id times 2^64/φ.
        1 << (id.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 59)
    }

    /// The summary of `connections`.
    pub fn of(connections: &[MemberId]) -> Self {
        Self(connections.iter().fold(0, |bits, id| bits | Self::bit(*id)))
    }

    /// Adds a connection.
    pub fn add(&mut self, id: MemberId) {
        self.0 |= Self::bit(id);
    }

    /// False when `id` is certainly not a connection.
    pub fn may_contain(self, id: MemberId) -> bool {
        self.0 & Self::bit(id) != 0
    }
}

/// What a member rarely needs on the way to a decision: address, name and
/// imported contacts (held beside the members, in [`State::profiles`], so the
/// member record itself stays one cache line).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Address for emails.
    pub email: Option<EmailAddress>,
    /// Display name.
    pub name: Option<Box<str>>,
    /// Lowercased imported contact addresses.
    pub contacts: Option<Box<Set<String>>>,
    /// The language the member's texts are written in.
    pub locale: Locale,
}

/// A registered member: 64 bytes, one cache line, since nearly every command
/// reads one or two of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[repr(align(64))]
pub struct Member {
    /// Connections, sorted by id.
    pub connections: Vec<MemberId>,
    /// How many of the member's notifications are unread (at most
    /// [`MAX_RECORDS`], so 32 bits hold it).
    pub unread: u32,
    /// A 32-bit Bloom filter of the connections: most "are these two
    /// connected?" checks are answered here, without reading the list.
    pub connection_bits: ConnectionBits,
    /// The three newest requests the member sent, newest first; each request
    /// links to the sender's request three before it.
    pub sent: [Link; 3],
    /// The three newest requests the member received, newest first.
    pub received: [Link; 3],
    /// The newest notification in the member's inbox; each links to the one before.
    pub last_notification: Link,
    /// Who may invite this member.
    pub setting: InvitationSetting,
    /// Moderation standing.
    pub standing: Standing,
    /// What every notification needs to know about the member's email: an
    /// address, a daily digest, kinds switched off (read on every notification).
    pub mail: MailFlags,
    /// Whether the member was erased (SPEC §11): a tombstone that keeps the
    /// id taken and the requests that name it, and is `UnknownMember` to every command.
    pub erased: bool,
}

/// A member's email settings as one byte of the member record: whether they
/// have an address, whether they chose a daily digest, and whether they
/// switched any kind off (which kinds: `State::email_off`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailFlags(u8);

impl MailFlags {
    const HAS_EMAIL: u8 = 1;
    const DAILY: u8 = 2;
    const SOME_OFF: u8 = 4;

    fn with(self, bit: u8, on: bool) -> Self {
        Self(if on { self.0 | bit } else { self.0 & !bit })
    }

    /// Whether the member's profile holds an address.
    pub fn has_email(self) -> bool {
        self.0 & Self::HAS_EMAIL != 0
    }

    /// Whether the member gets a daily digest instead of an email per notification.
    pub fn daily(self) -> bool {
        self.0 & Self::DAILY != 0
    }

    /// Whether the member switched any kind of email off.
    pub fn some_off(self) -> bool {
        self.0 & Self::SOME_OFF != 0
    }

    /// These flags with the address present or not.
    pub fn with_email(self, on: bool) -> Self {
        self.with(Self::HAS_EMAIL, on)
    }

    /// These flags with the daily digest chosen or not.
    pub fn with_daily(self, on: bool) -> Self {
        self.with(Self::DAILY, on)
    }

    /// These flags with some kind switched off or none.
    pub fn with_some_off(self, on: bool) -> Self {
        self.with(Self::SOME_OFF, on)
    }
}

impl Member {
    /// Whether two members (each with its id) are connected, looked up in the
    /// shorter of their two connection lists (connections are symmetric): a
    /// busy member's list spans many cache lines, a typical one a single line;
    /// most answers come from the shorter list's summary alone.
    pub fn connected((a, ma): (MemberId, &Member), (b, mb): (MemberId, &Member)) -> bool {
        let (m, other) = if ma.connections.len() <= mb.connections.len() { (ma, b) } else { (mb, a) };
        m.connection_bits.may_contain(other) && m.connections.binary_search(&other).is_ok()
    }
}

impl Member {
    /// Whether two members have a connection in common: the shorter list's
    /// members looked up in the longer one (its summary first).
    pub fn share_a_connection(a: &Member, b: &Member) -> bool {
        let (short, long) = if a.connections.len() <= b.connections.len() { (a, b) } else { (b, a) };
        short
            .connections
            .iter()
            .any(|c| long.connection_bits.may_contain(*c) && long.connections.binary_search(c).is_ok())
    }
}

impl Profile {
    /// A profile with this address, name and locale, if there is anything
    /// but the defaults.
    pub(crate) fn new(email: Option<EmailAddress>, name: Option<Box<str>>, locale: Locale) -> Option<Self> {
        (email.is_some() || name.is_some() || locale != Locale::default()).then_some(Self {
            email,
            name,
            contacts: None,
            locale,
        })
    }
}

/// Ids the array may cover beyond twice the number of members.
const SLACK: usize = 4096;
/// Members per page of the array (256 KiB of records).
const PAGE: usize = 4096;

/// Up to `PAGE` slots, filled up to the highest member in the page (a small
/// network holds a few slots, not a whole page).
type Page = Vec<Option<Member>>;

/// Members by id: an array of pages indexed by id for dense ids, a map for the rest.
#[derive(Clone, Default)]
pub struct MemberTable {
    /// Page `id / PAGE`, slot `id % PAGE`: the member with that id, when it
    /// lives in the array. A page is allocated when its first member arrives.
    pages: Vec<Option<Page>>,
    /// Ids below this live in the array (or, if added before it reached them, in the map).
    covered: usize,
    /// Members whose id was too far beyond the array when they were added.
    sparse: Map<MemberId, Box<Member>>,
    /// How many members in all.
    len: usize,
}

impl MemberTable {
    /// How many members.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }

    fn slot(&self, id: MemberId) -> Option<usize> {
        usize::try_from(id.0).ok().filter(|i| *i < self.covered)
    }

    /// The member with this id.
    #[inline]
    pub fn get(&self, id: &MemberId) -> Option<&Member> {
        if let Some(i) = self.slot(*id)
            && let Some(Some(page)) = self.pages.get(i / PAGE)
            && let Some(Some(m)) = page.get(i % PAGE)
        {
            return Some(m);
        }
        if self.sparse.is_empty() { None } else { self.sparse.get(id).map(|m| &**m) }
    }

    /// The member with this id, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: &MemberId) -> Option<&mut Member> {
        if let Some(i) = self.slot(*id)
            && let Some(Some(page)) = self.pages.get_mut(i / PAGE)
            && let Some(Some(m)) = page.get_mut(i % PAGE)
        {
            return Some(m);
        }
        if self.sparse.is_empty() { None } else { self.sparse.get_mut(id).map(|m| &mut **m) }
    }

    /// Ids below this are found in the array (or not at all): the size of an
    /// array indexed by member id that covers the dense ids.
    pub fn dense_bound(&self) -> usize {
        self.covered
    }

    /// Whether a member has this id.
    pub fn contains_key(&self, id: &MemberId) -> bool {
        self.get(id).is_some()
    }

    /// Adds or replaces the member with this id; returns the one replaced.
    pub fn insert(&mut self, id: MemberId, member: Member) -> Option<Member> {
        if let Some(old) = self.get_mut(&id) {
            return Some(std::mem::replace(old, member));
        }
        self.len += 1;
        match usize::try_from(id.0) {
            Ok(i) if i < self.covered || i < 2 * self.len + SLACK => {
                self.covered = self.covered.max(i + 1);
                if self.pages.len() <= i / PAGE {
                    self.pages.resize_with(i / PAGE + 1, || None);
                }
                let page = self.pages[i / PAGE].get_or_insert_with(Vec::new);
                if page.len() <= i % PAGE {
                    page.resize_with(i % PAGE + 1, || None);
                }
                page[i % PAGE] = Some(member);
            }
            _ => {
                self.sparse.insert(id, Box::new(member));
            }
        }
        None
    }

    /// Every member with its id: ids in the array in ascending order, then the rest.
    pub fn iter(&self) -> impl Iterator<Item = (MemberId, &Member)> {
        let dense = self.pages.iter().enumerate().filter_map(|(p, page)| Some((p, page.as_ref()?))).flat_map(
            |(p, page)| {
                page.iter()
                    .enumerate()
                    .filter_map(move |(i, m)| Some((MemberId((p * PAGE + i) as u64), m.as_ref()?)))
            },
        );
        dense.chain(self.sparse.iter().map(|(id, m)| (*id, &**m)))
    }

    /// Every member.
    pub fn values(&self) -> impl Iterator<Item = &Member> {
        self.iter().map(|(_, m)| m)
    }

    /// Heap bytes of the table: pages of records (members in the array
    /// included) and the map's buckets with its members; not what members point to.
    pub fn table_bytes(&self) -> usize {
        let pages =
            self.pages.iter().flatten().map(Vec::capacity).sum::<usize>() * size_of::<Option<Member>>();
        pages
            + self.pages.capacity() * size_of::<Option<Page>>()
            + self.sparse.capacity() * (size_of::<(MemberId, Box<Member>)>() + 1)
            + self.sparse.len() * size_of::<Member>()
    }
}

/// Equal when the same ids hold equal members, wherever each lives.
impl PartialEq for MemberTable {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().all(|(id, m)| other.get(&id) == Some(m))
    }
}

impl std::fmt::Debug for MemberTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Serialized as a map from id to member.
impl Serialize for MemberTable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len))?;
        for (id, m) in self.iter() {
            map.serialize_entry(&id, m)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for MemberTable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = MemberTable;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of members")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<MemberTable, A::Error> {
                // Bounded like every map decoded from a snapshot.
                let mut table = MemberTable::default();
                while let Some((id, member)) = access.next_entry::<MemberId, Member>()? {
                    if table.insert(id, member).is_some() {
                        return Err(serde::de::Error::custom(format!("{id} appears twice")));
                    }
                }
                Ok(table)
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_bits_never_deny_a_connection_and_deny_most_others() {
        let list: Vec<MemberId> = (1..=4).map(|i| MemberId(i * 7_919)).collect();
        let bits = ConnectionBits::of(&list);
        assert!(list.iter().all(|id| bits.may_contain(*id)));
        let mut grown = ConnectionBits::default();
        list.iter().for_each(|id| grown.add(*id));
        assert_eq!(grown, bits);
        let denied = (100_000..110_000).map(MemberId).filter(|id| !bits.may_contain(*id)).count();
        assert!(denied > 8_000, "four connections should leave most ids denied, got {denied} of 10,000");
        assert!(!ConnectionBits::default().may_contain(MemberId(1)));
    }

    /// A member told apart from others by `n` (a hash of it in a field).
    fn named(n: &str) -> Member {
        let tag = n.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        Member { unread: tag, ..Member::default() }
    }

    #[test]
    fn dense_and_sparse_ids_are_found_replaced_and_counted() {
        let mut t = MemberTable::default();
        assert!(t.insert(MemberId(3), named("a")).is_none());
        assert!(t.insert(MemberId(u64::MAX), named("b")).is_none());
        assert!(t.insert(MemberId(1 << 40), named("c")).is_none());
        assert!(t.insert(MemberId(0), named("d")).is_none());
        assert_eq!(t.len(), 4);
        assert_eq!(t.get(&MemberId(3)), Some(&named("a")));
        assert_eq!(t.get(&MemberId(u64::MAX)), Some(&named("b")));
        assert_eq!(t.get(&MemberId(1 << 40)), Some(&named("c")));
        assert_eq!(t.get(&MemberId(0)), Some(&named("d")));
        assert_eq!(t.get(&MemberId(2)), None);
        assert_eq!(t.get(&MemberId(1 << 41)), None);
        assert_eq!(t.insert(MemberId(1 << 40), named("e")), Some(named("c")));
        assert_eq!(t.insert(MemberId(3), named("f")), Some(named("a")));
        assert_eq!(t.len(), 4);
        t.get_mut(&MemberId(u64::MAX)).unwrap().unread = 7;
        assert_eq!(t.get(&MemberId(u64::MAX)).unwrap().unread, 7);
        let mut ids: Vec<u64> = t.iter().map(|(id, _)| id.0).collect();
        ids.sort_unstable();
        assert_eq!(ids, vec![0, 3, 1 << 40, u64::MAX]);
        assert!(t.table_bytes() < 2 * PAGE * 64, "a sparse id must not grow the array");
    }

    #[test]
    fn a_small_network_holds_a_few_slots_not_a_page() {
        let mut t = MemberTable::default();
        for id in 1..=10 {
            t.insert(MemberId(id), Member::default());
        }
        assert!(t.table_bytes() < 64 * 64, "{} bytes for ten members", t.table_bytes());
    }

    #[test]
    fn a_sparse_member_stays_found_after_the_array_grows_past_its_id() {
        let mut t = MemberTable::default();
        t.insert(MemberId(5_000), named("early"));
        t.insert(MemberId(50_000), named("early"));
        for i in 0..60_000 {
            if i != 5_000 && i != 50_000 {
                t.insert(MemberId(i), named("x"));
            }
        }
        assert_eq!(t.get(&MemberId(5_000)), Some(&named("early")));
        assert_eq!(t.get(&MemberId(50_000)), Some(&named("early")));
        assert_eq!(t.len(), 60_000);
        assert_eq!(t.iter().count(), 60_000);
        assert_eq!(t.insert(MemberId(50_000), named("later")), Some(named("early")));
        assert_eq!(t.len(), 60_000);
    }

    #[test]
    fn equality_and_the_encoding_ignore_where_members_live() {
        // The same members added in opposite orders live in different places.
        let mut a = MemberTable::default();
        let mut b = MemberTable::default();
        let ids: Vec<u64> = (0..30_000).step_by(3).chain([2_000_000, 5]).collect();
        for id in &ids {
            a.insert(MemberId(*id), named(&id.to_string()));
        }
        for id in ids.iter().rev() {
            b.insert(MemberId(*id), named(&id.to_string()));
        }
        assert_eq!(a, b);
        let bytes = postcard::to_allocvec(&a).unwrap();
        let back: MemberTable = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, a);
        // Encoded exactly as the map it replaces.
        let as_map: std::collections::BTreeMap<MemberId, Member> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(as_map.len(), ids.len());
        b.insert(MemberId(5), named("other"));
        assert_ne!(a, b);
    }

    #[test]
    fn an_encoding_naming_a_member_twice_is_refused() {
        let twice: Vec<(MemberId, Member)> = vec![(MemberId(1), named("a")), (MemberId(1), named("b"))];
        let bytes = postcard::to_allocvec(&twice.into_iter().collect::<TwiceMap>()).unwrap();
        let err = postcard::from_bytes::<MemberTable>(&bytes).unwrap_err();
        assert!(!err.to_string().is_empty());
    }

    /// A map that keeps duplicate keys, to write a damaged encoding.
    struct TwiceMap(Vec<(MemberId, Member)>);
    impl FromIterator<(MemberId, Member)> for TwiceMap {
        fn from_iter<I: IntoIterator<Item = (MemberId, Member)>>(i: I) -> Self {
            Self(i.into_iter().collect())
        }
    }
    impl Serialize for TwiceMap {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(Some(self.0.len()))?;
            for (k, v) in &self.0 {
                map.serialize_entry(k, v)?;
            }
            map.end()
        }
    }
}
