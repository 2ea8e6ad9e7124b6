//! Envelope format version 1: parsing and header construction.
//!
//! The byte layout is specified in `docs/FORMAT.md`. All integers are big-endian.

use crate::attrs::Attributes;
use crate::dek::{COMMITMENT_LEN, WrappedKey};
use crate::error::{Error, ErrorCode, Result, quote_short};
use crate::suite::{NONCE_LEN, Suite, TAG_LEN};

/// First byte of every envelope. 0x8E is a UTF-8 continuation byte, so no UTF-8 text
/// (JSON, XML, plain text) can be mistaken for an envelope.
pub const MAGIC: u8 = 0x8E;
/// Envelope format version written by this build.
pub const VERSION: u8 = 1;

/// Flag: the body was compressed (LZ4 block format) before encryption.
pub const FLAG_COMPRESSED: u8 = 0x01;
/// Flag: the plaintext starts with sealed application properties.
pub const FLAG_SEALED_PROPERTIES: u8 = 0x02;
/// Flag: the canonical context is stored in the header.
pub const FLAG_CONTEXT_STORED: u8 = 0x04;
const KNOWN_FLAGS: u8 = FLAG_COMPRESSED | FLAG_SEALED_PROPERTIES | FLAG_CONTEXT_STORED;

/// Maximum number of wrapped data keys in one envelope.
pub const MAX_WRAPPED_KEYS: usize = 8;
/// Maximum length of a key id, in bytes.
pub const MAX_KEY_ID_LEN: usize = 255;
/// Maximum length of one wrapped data key, in bytes.
pub const MAX_WRAPPED_KEY_LEN: usize = 8192;
/// Length of the sequence number that forms the nonce, in bytes.
pub const SEQUENCE_LEN: usize = 4;

/// Fixed bytes of an envelope with one wrapped key, besides the key id and the wrapped
/// key: magic, version, suite, flags, key count, key id length, key version, wrapped
/// key length, commitment, sequence number and tag.
pub const FIXED_OVERHEAD: usize = 5 + 1 + 4 + 2 + COMMITMENT_LEN + SEQUENCE_LEN + TAG_LEN;

/// Builds the 96-bit nonce from a sequence number: eight zero bytes, then the number.
pub(crate) fn nonce_for(sequence: u32) -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    nonce[NONCE_LEN - SEQUENCE_LEN..].copy_from_slice(&sequence.to_be_bytes());
    nonce
}

/// One wrapped data key as it appears in a parsed envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEntry<'a> {
    /// Provider key id.
    pub key_id: &'a str,
    /// Key version.
    pub key_version: u32,
    /// Wrapped data key.
    pub wrapped: &'a [u8],
}

impl KeyEntry<'_> {
    /// Copies the entry into an owned [`WrappedKey`].
    pub fn to_wrapped_key(&self) -> WrappedKey {
        WrappedKey {
            key_id: self.key_id.to_owned(),
            key_version: self.key_version,
            ciphertext: self.wrapped.to_vec(),
        }
    }
}

/// A parsed envelope that borrows from the input bytes. Parsing does no cryptography.
#[derive(Clone, Debug)]
pub struct Envelope<'a> {
    /// Cipher suite.
    pub suite: Suite,
    /// Flag byte.
    pub flags: u8,
    /// Wrapped data keys, at least one; any one of them recovers the data key.
    pub keys: Vec<KeyEntry<'a>>,
    /// Canonical context stored in the header, when [`FLAG_CONTEXT_STORED`] is set.
    pub stored_context: Option<&'a [u8]>,
    /// Key commitment of the data key.
    pub commitment: &'a [u8],
    /// Sequence number that forms the nonce.
    pub sequence: u32,
    /// Every header byte, from the magic byte through the sequence number.
    pub header: &'a [u8],
    /// Offset in `header` where the list of wrapped keys ends. The wrapped keys are the
    /// only header bytes outside the associated data, so they can be re-wrapped.
    pub keys_end: usize,
    /// Encrypted payload, without the tag.
    pub ciphertext: &'a [u8],
    /// Authentication tag.
    pub tag: &'a [u8; TAG_LEN],
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8]> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.bytes.len() => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            _ => Err(Error::truncated(field, self.bytes.len())),
        }
    }

    fn u8(&mut self, field: &str) -> Result<u8> {
        Ok(self.take(1, field)?[0])
    }

    fn u16(&mut self, field: &str) -> Result<u16> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, field: &str) -> Result<u32> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Returns true when `bytes` starts with the envelope magic byte and a known version.
/// A cheap check for "is this body encrypted"; it does not validate the envelope.
pub fn looks_encrypted(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == MAGIC && bytes[1] == VERSION
}

impl<'a> Envelope<'a> {
    /// Parses an envelope. Checks the magic byte, version, suite and flags first, then
    /// the structure; fails with a typed error on any inconsistency.
    pub fn parse(bytes: &'a [u8]) -> Result<Envelope<'a>> {
        let mut r = Reader { bytes, pos: 0 };
        if bytes.is_empty() {
            return Err(Error::new(
                ErrorCode::NotEncrypted,
                "the input is empty, so it is not an mqseal envelope",
            ));
        }
        let magic = r.u8("magic")?;
        if magic != MAGIC {
            return Err(Error::new(
                ErrorCode::NotEncrypted,
                format!(
                    "the input is not an mqseal envelope: its first byte is 0x{magic:02x}, not 0x{MAGIC:02x}; \
                     it may be plaintext sent without encryption"
                ),
            ));
        }
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(Error::new(
                ErrorCode::UnsupportedVersion,
                format!(
                    "envelope format version {version} is not supported by this build, which reads version {VERSION}; \
                     upgrade mqseal on the consumer"
                ),
            ));
        }
        let suite = Suite::from_id(r.u8("suite")?)?;
        let flags = r.u8("flags")?;
        if flags & !KNOWN_FLAGS != 0 {
            return Err(Error::new(
                ErrorCode::UnsupportedFeature,
                format!(
                    "envelope sets unknown flag bits 0x{:02x}; upgrade mqseal on the consumer",
                    flags & !KNOWN_FLAGS
                ),
            ));
        }
        let count = r.u8("key count")? as usize;
        if count == 0 || count > MAX_WRAPPED_KEYS {
            return Err(Error::malformed(format!(
                "envelope declares {count} wrapped keys; between 1 and {MAX_WRAPPED_KEYS} are allowed"
            )));
        }
        let mut keys = Vec::with_capacity(count);
        for _ in 0..count {
            let id_len = r.u8("key id length")? as usize;
            if id_len == 0 {
                return Err(Error::malformed("envelope contains an empty key id"));
            }
            let key_id = std::str::from_utf8(r.take(id_len, "key id")?)
                .map_err(|_| Error::malformed("envelope key id is not valid UTF-8"))?;
            let key_version = r.u32("key version")?;
            let wrapped_len = r.u16("wrapped key length")? as usize;
            if wrapped_len == 0 || wrapped_len > MAX_WRAPPED_KEY_LEN {
                return Err(Error::malformed(format!(
                    "wrapped key length {wrapped_len} is outside 1..={MAX_WRAPPED_KEY_LEN}"
                )));
            }
            let wrapped = r.take(wrapped_len, "wrapped key")?;
            keys.push(KeyEntry {
                key_id,
                key_version,
                wrapped,
            });
        }
        let keys_end = r.pos;
        let stored_context = if flags & FLAG_CONTEXT_STORED != 0 {
            let len = r.u16("stored context length")? as usize;
            let ctx = r.take(len, "stored context")?;
            Attributes::decode(ctx)?;
            Some(ctx)
        } else {
            None
        };
        let commitment = r.take(COMMITMENT_LEN, "key commitment")?;
        let sequence = r.u32("sequence number")?;
        let header = &bytes[..r.pos];
        let rest = &bytes[r.pos..];
        if rest.len() < TAG_LEN {
            return Err(Error::truncated("authentication tag", bytes.len()));
        }
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| Error::internal("tag split"))?;
        Ok(Envelope {
            suite,
            flags,
            keys,
            stored_context,
            commitment,
            sequence,
            header,
            keys_end,
            ciphertext,
            tag,
        })
    }

    /// Appends the header part of the associated data to `aad`: the first four header
    /// bytes and the header bytes after the wrapped keys. The canonical context follows.
    pub(crate) fn associated_header(&self, aad: &mut impl crate::buf::ByteSink) {
        aad.put(&self.header[..FLAGS_OFFSET + 1]);
        aad.put(&self.header[self.keys_end..]);
    }

    /// Returns an owned summary for display (`mqseal inspect`); contains no secrets.
    pub fn info(&self) -> Result<EnvelopeInfo> {
        Ok(EnvelopeInfo {
            version: VERSION,
            suite: self.suite,
            compressed: self.flags & FLAG_COMPRESSED != 0,
            sealed_properties: self.flags & FLAG_SEALED_PROPERTIES != 0,
            stored_context: self.stored_context.map(Attributes::decode).transpose()?,
            keys: self.keys.iter().map(KeyEntry::to_wrapped_key).collect(),
            sequence: self.sequence,
            header_len: self.header.len(),
            ciphertext_len: self.ciphertext.len(),
        })
    }
}

/// Header fields of an envelope, for display. Holds no key material in plaintext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeInfo {
    /// Format version.
    pub version: u8,
    /// Cipher suite.
    pub suite: Suite,
    /// Whether the body was compressed before encryption.
    pub compressed: bool,
    /// Whether application properties are sealed inside.
    pub sealed_properties: bool,
    /// The stored context, when the producer asked to store it.
    pub stored_context: Option<Attributes>,
    /// The wrapped data keys.
    pub keys: Vec<WrappedKey>,
    /// Sequence number (nonce).
    pub sequence: u32,
    /// Header length in bytes.
    pub header_len: usize,
    /// Encrypted payload length in bytes, without the tag.
    pub ciphertext_len: usize,
}

/// Writes the header prefix that is the same for every message under one data key:
/// magic, version, suite, a zero flag byte (patched per message) and the wrapped keys.
pub(crate) fn write_key_prefix(suite: Suite, keys: &[WrappedKey]) -> Result<Vec<u8>> {
    if keys.is_empty() || keys.len() > MAX_WRAPPED_KEYS {
        return Err(Error::invalid(format!(
            "an envelope carries between 1 and {MAX_WRAPPED_KEYS} wrapped keys, not {}",
            keys.len()
        )));
    }
    let mut out = vec![MAGIC, VERSION, suite.id(), 0, keys.len() as u8];
    for k in keys {
        if k.key_id.is_empty() || k.key_id.len() > MAX_KEY_ID_LEN {
            return Err(Error::invalid(format!(
                "key id {} must be 1 to {MAX_KEY_ID_LEN} bytes long",
                quote_short(&k.key_id)
            )));
        }
        if k.ciphertext.is_empty() || k.ciphertext.len() > MAX_WRAPPED_KEY_LEN {
            return Err(Error::new(
                ErrorCode::ProviderInvalidResponse,
                format!(
                    "the provider wrapped key {:?} into {} bytes; 1 to {MAX_WRAPPED_KEY_LEN} are allowed",
                    k.key_id,
                    k.ciphertext.len()
                ),
            ));
        }
        out.push(k.key_id.len() as u8);
        out.extend_from_slice(k.key_id.as_bytes());
        out.extend_from_slice(&k.key_version.to_be_bytes());
        out.extend_from_slice(&(k.ciphertext.len() as u16).to_be_bytes());
        out.extend_from_slice(&k.ciphertext);
    }
    Ok(out)
}

/// Offset of the flag byte in every envelope.
pub(crate) const FLAGS_OFFSET: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let keys = vec![WrappedKey {
            key_id: "orders".into(),
            key_version: 3,
            ciphertext: vec![7; 40],
        }];
        let mut v = write_key_prefix(Suite::Aes256Gcm, &keys).expect("prefix");
        v.extend_from_slice(&[0xCC; COMMITMENT_LEN]);
        v.extend_from_slice(&9u32.to_be_bytes());
        v.extend_from_slice(b"ciphertext");
        v.extend_from_slice(&[0xAB; TAG_LEN]);
        v
    }

    #[test]
    fn parses_fields() {
        let bytes = sample();
        let e = Envelope::parse(&bytes).expect("parses");
        assert_eq!(e.suite, Suite::Aes256Gcm);
        assert_eq!(e.keys.len(), 1);
        assert_eq!(e.keys[0].key_id, "orders");
        assert_eq!(e.keys[0].key_version, 3);
        assert_eq!(e.sequence, 9);
        assert_eq!(e.ciphertext, b"ciphertext");
        assert_eq!(e.header.len() + e.ciphertext.len() + TAG_LEN, bytes.len());
    }

    #[test]
    fn overhead_is_within_budget() {
        assert_eq!(FIXED_OVERHEAD, 64);
        let bytes = sample();
        // 8 = key id "orders" (6) + ... computed: fixed + id + wrapped + payload.
        assert_eq!(bytes.len(), FIXED_OVERHEAD + 6 + 40 + b"ciphertext".len());
    }

    #[test]
    fn checks_magic_version_suite_and_flags_in_order() {
        let good = sample();
        let mut b = good.clone();
        b[0] = b'{';
        assert_eq!(
            Envelope::parse(&b).expect_err("magic").code(),
            ErrorCode::NotEncrypted
        );
        let mut b = good.clone();
        b[1] = 2;
        assert_eq!(
            Envelope::parse(&b).expect_err("version").code(),
            ErrorCode::UnsupportedVersion
        );
        let mut b = good.clone();
        b[2] = 9;
        assert_eq!(
            Envelope::parse(&b).expect_err("suite").code(),
            ErrorCode::UnsupportedSuite
        );
        let mut b = good;
        b[3] = 0x80;
        assert_eq!(
            Envelope::parse(&b).expect_err("flags").code(),
            ErrorCode::UnsupportedFeature
        );
    }

    #[test]
    fn every_truncation_is_a_typed_error() {
        let good = sample();
        for len in 0..good.len() - b"ciphertext".len() {
            let err = Envelope::parse(&good[..len]).expect_err("truncated input must fail");
            assert!(
                matches!(
                    err.code(),
                    ErrorCode::TruncatedEnvelope | ErrorCode::NotEncrypted
                ),
                "length {len}: {err:?}"
            );
        }
    }

    #[test]
    fn nonce_layout() {
        assert_eq!(nonce_for(0x01020304), [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    }
}
