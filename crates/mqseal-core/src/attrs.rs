//! Canonical encoding of string maps: the authenticated context and sealed properties.
//!
//! Encoding: a `u16` big-endian entry count, then for each entry in ascending bytewise
//! order of keys a `u16` key length, the key, a `u16` value length and the value. Keys
//! are non-empty UTF-8 and unique, values are UTF-8 and may be empty. The same map
//! always encodes to the same bytes whatever order it was built in.

use std::collections::BTreeMap;
use std::fmt;

use crate::buf::ByteSink;
use crate::error::{Error, Result, quote_short};

/// Maximum number of entries in an encoded map.
pub const MAX_ENTRIES: usize = u16::MAX as usize;
/// Maximum length of one key or value, in bytes.
pub const MAX_FIELD_LEN: usize = u16::MAX as usize;

/// An ordered map of UTF-8 keys to UTF-8 values with a canonical binary encoding.
///
/// Used for the authenticated context (for example the logical topic) and for sealed
/// message properties. `Debug` prints keys only, because values may be confidential.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Attributes {
    entries: BTreeMap<String, String>,
}

/// The authenticated context bound to an envelope as associated data.
pub type Context = Attributes;

/// Application properties carried inside the ciphertext.
pub type Properties = Attributes;

impl Attributes {
    /// Creates an empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts an entry, rejecting an empty key, an over-long key or value, or a duplicate key.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Result<()> {
        let key = key.into();
        let value = value.into();
        if key.is_empty() {
            return Err(Error::invalid(
                "context and property keys must not be empty",
            ));
        }
        if key.len() > MAX_FIELD_LEN || value.len() > MAX_FIELD_LEN {
            return Err(Error::invalid(format!(
                "entry {} is too long: keys and values are limited to {MAX_FIELD_LEN} bytes",
                quote_short(&key)
            )));
        }
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(&key) {
            return Err(Error::invalid(format!(
                "too many entries: at most {MAX_ENTRIES} are allowed"
            )));
        }
        if self.entries.contains_key(&key) {
            return Err(Error::invalid(format!(
                "duplicate key {}: each key may appear once",
                quote_short(&key)
            )));
        }
        self.entries.insert(key, value);
        Ok(())
    }

    /// Builds a map from pairs, rejecting duplicates.
    pub fn from_pairs<K, V, I>(pairs: I) -> Result<Self>
    where
        K: Into<String>,
        V: Into<String>,
        I: IntoIterator<Item = (K, V)>,
    {
        let mut map = Attributes::new();
        for (k, v) in pairs {
            map.insert(k, v)?;
        }
        Ok(map)
    }

    /// Returns the value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }

    /// Returns the number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns true when the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Iterates over the entries in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Returns the length of the canonical encoding.
    pub fn encoded_len(&self) -> usize {
        2 + self
            .entries
            .iter()
            .map(|(k, v)| 4 + k.len() + v.len())
            .sum::<usize>()
    }

    /// Appends the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        self.write_to(out);
    }

    pub(crate) fn write_to(&self, out: &mut impl ByteSink) {
        out.put(&(self.entries.len() as u16).to_be_bytes());
        for (k, v) in &self.entries {
            out.put(&(k.len() as u16).to_be_bytes());
            out.put(k.as_bytes());
            out.put(&(v.len() as u16).to_be_bytes());
            out.put(v.as_bytes());
        }
    }

    /// Returns the canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Parses a canonical encoding, rejecting any other encoding of the same map.
    pub fn decode(bytes: &[u8]) -> Result<Attributes> {
        let bad = |what: &str| Error::malformed(format!("invalid attribute map encoding: {what}"));
        let mut pos = 0usize;
        let mut take = |n: usize| -> Result<&[u8]> {
            let end = pos
                .checked_add(n)
                .filter(|&e| e <= bytes.len())
                .ok_or_else(|| bad("truncated"))?;
            let s = &bytes[pos..end];
            pos = end;
            Ok(s)
        };
        let count = u16::from_be_bytes([take(1)?[0], take(1)?[0]]) as usize;
        let mut map = Attributes::new();
        let mut previous: Option<String> = None;
        for _ in 0..count {
            let kl = take(2)?;
            let key_len = u16::from_be_bytes([kl[0], kl[1]]) as usize;
            let key = std::str::from_utf8(take(key_len)?)
                .map_err(|_| bad("key is not UTF-8"))?
                .to_owned();
            let vl = take(2)?;
            let value_len = u16::from_be_bytes([vl[0], vl[1]]) as usize;
            let value = std::str::from_utf8(take(value_len)?)
                .map_err(|_| bad("value is not UTF-8"))?
                .to_owned();
            if key.is_empty() {
                return Err(bad("empty key"));
            }
            if previous
                .as_ref()
                .is_some_and(|prev| prev.as_bytes() >= key.as_bytes())
            {
                return Err(bad("keys are not in strictly ascending order"));
            }
            previous = Some(key.clone());
            map.entries.insert(key, value);
        }
        if pos != bytes.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(map)
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.entries.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_order_independent() {
        let a = Attributes::from_pairs([("topic", "orders"), ("app", "billing")]).expect("valid");
        let b = Attributes::from_pairs([("app", "billing"), ("topic", "orders")]).expect("valid");
        assert_eq!(a.encode(), b.encode());
        assert_eq!(a.encode().len(), a.encoded_len());
    }

    #[test]
    fn encoding_round_trips() {
        let a = Attributes::from_pairs([("k", ""), ("topic", "orders")]).expect("valid");
        assert_eq!(Attributes::decode(&a.encode()).expect("decodes"), a);
        assert_eq!(
            Attributes::decode(&[0, 0]).expect("empty"),
            Attributes::new()
        );
    }

    #[test]
    fn empty_and_duplicate_keys_rejected() {
        assert!(Attributes::from_pairs([("", "x")]).is_err());
        assert!(Attributes::from_pairs([("a", "x"), ("a", "y")]).is_err());
    }

    #[test]
    fn non_canonical_encoding_rejected() {
        // Two entries out of order: "b" then "a".
        let bytes = [0, 2, 0, 1, b'b', 0, 0, 0, 1, b'a', 0, 0];
        assert!(Attributes::decode(&bytes).is_err());
        // Trailing byte.
        assert!(Attributes::decode(&[0, 0, 7]).is_err());
        // Truncated.
        assert!(Attributes::decode(&[0, 1, 0, 5, b'a']).is_err());
    }

    #[test]
    fn debug_hides_values() {
        let a = Attributes::from_pairs([("secret-prop", "hunter2")]).expect("valid");
        let shown = format!("{a:?}");
        assert!(shown.contains("secret-prop"));
        assert!(!shown.contains("hunter2"));
    }
}
