//! The hash map and set of the state, and decoding a map at its full size.

use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// The hash map of the state: foldhash, several times faster than SipHash on
/// small keys, still seeded per process.
pub type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
/// The hash set of the state.
pub type Set<K> = HashSet<K, foldhash::fast::RandomState>;

/// Deserializes a map at its full size at once: a snapshot's maps hold
/// millions of entries, and growing them by doubling rehashes each entry
/// several times. The length comes from a snapshot whose checksum was verified.
pub(crate) fn sized_map<'de, D, K, V>(deserializer: D) -> Result<Map<K, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: Deserialize<'de> + Eq + std::hash::Hash,
    V: Deserialize<'de>,
{
    struct Entries<K, V>(std::marker::PhantomData<(K, V)>);
    impl<'de, K: Deserialize<'de> + Eq + std::hash::Hash, V: Deserialize<'de>> serde::de::Visitor<'de>
        for Entries<K, V>
    {
        type Value = Map<K, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Map<K, V>, A::Error> {
            // Bounded: a snapshot changed in a way its checksum misses must fail to
            // decode, not reserve whatever memory its length field names.
            let capacity = access.size_hint().unwrap_or(0).min(1 << 24);
            let mut map = Map::with_capacity_and_hasher(capacity, Default::default());
            while let Some((k, v)) = access.next_entry()? {
                map.insert(k, v);
            }
            Ok(map)
        }
    }
    deserializer.deserialize_map(Entries(std::marker::PhantomData))
}
