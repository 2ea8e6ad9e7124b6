//! Envelope inspection without keys: `mqseal_envelope_inspect`, `mqseal_looks_encrypted`.

use std::ffi::c_char;

use mqseal_core::{Envelope, Suite, looks_encrypted};

use crate::attributes::mqseal_attributes;
use crate::cipher::{MQSEAL_KEY_ID_CAP, suite_id};
use crate::{boundary, raw};

/// Largest number of wrapped data keys in one envelope: the size of
/// `mqseal_envelope_info.keys`.
pub const MQSEAL_MAX_WRAPPED_KEYS: usize = 8;

const _: () = assert!(MQSEAL_MAX_WRAPPED_KEYS == mqseal_core::envelope::MAX_WRAPPED_KEYS);

/// One wrapped data key of an envelope, as `mqseal_envelope_inspect` reports it. Holds
/// no key material: the wrapped key itself is reported by length only.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mqseal_envelope_key {
    /// Key version of the key-encryption key.
    pub key_version: u32,
    /// Length of the wrapped data key in bytes.
    pub wrapped_len: usize,
    /// Length of `key_id` in bytes, without the NUL.
    pub key_id_len: usize,
    /// Key id of the key-encryption key, NUL-terminated.
    pub key_id: [c_char; MQSEAL_KEY_ID_CAP],
}

/// Header fields of an envelope, as `mqseal_envelope_inspect` reports them.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mqseal_envelope_info {
    /// Envelope format version.
    pub version: u32,
    /// Suite id (`MQSEAL_SUITE_*`).
    pub suite: u32,
    /// Whether the body was compressed before encryption.
    pub compressed: bool,
    /// Whether application properties are sealed inside.
    pub sealed_properties: bool,
    /// Whether the context is stored in the header.
    pub stored_context: bool,
    /// Sequence number that forms the nonce.
    pub sequence: u32,
    /// Header length in bytes.
    pub header_len: usize,
    /// Encrypted payload length in bytes, without the 16-byte tag.
    pub ciphertext_len: usize,
    /// Number of valid entries in `keys` (1 to `MQSEAL_MAX_WRAPPED_KEYS`).
    pub key_count: usize,
    /// The wrapped data keys; entries from `key_count` on are zeroed.
    pub keys: [mqseal_envelope_key; MQSEAL_MAX_WRAPPED_KEYS],
}

const EMPTY_KEY: mqseal_envelope_key = mqseal_envelope_key {
    key_version: 0,
    wrapped_len: 0,
    key_id_len: 0,
    key_id: [0; MQSEAL_KEY_ID_CAP],
};

/// Parses the header of `envelope` without any key and writes its fields to `*out`.
/// When `stored_context` is not NULL it receives a new map with the context stored in
/// the header (empty when none is stored), to free with `mqseal_attributes_free`.
///
/// Does no cryptography: a header that parses may still fail to decrypt.
///
/// Errors: `MQSEAL_NULL_ARGUMENT`; `MQSEAL_NOT_ENCRYPTED`, `MQSEAL_TRUNCATED_ENVELOPE`,
/// `MQSEAL_MALFORMED_ENVELOPE`, `MQSEAL_UNSUPPORTED_VERSION`, `MQSEAL_UNSUPPORTED_SUITE`,
/// `MQSEAL_UNSUPPORTED_FEATURE`.
///
/// # Safety
///
/// `envelope` must be NULL with 0 or `envelope_len` readable bytes; `out` a writable
/// `mqseal_envelope_info`; `stored_context` NULL or a writable `mqseal_attributes *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_envelope_inspect(
    envelope: *const u8,
    envelope_len: usize,
    out: *mut mqseal_envelope_info,
    stored_context: *mut *mut mqseal_attributes,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes NULL with 0 or `envelope_len` readable bytes.
        let bytes = unsafe { raw::bytes(envelope, envelope_len, "envelope") }?;
        // SAFETY: the caller passes a writable info struct.
        let out = unsafe { raw::out(out, "out") }?;
        // SAFETY: the caller passes NULL or a writable pointer slot.
        let context_out = unsafe { raw::opt_out(stored_context) };
        let info = Envelope::parse(bytes)?.info()?;
        let mut c = mqseal_envelope_info {
            version: u32::from(info.version),
            suite: suite_id(info.suite),
            compressed: info.compressed,
            sealed_properties: info.sealed_properties,
            stored_context: info.stored_context.is_some(),
            sequence: info.sequence,
            header_len: info.header_len,
            ciphertext_len: info.ciphertext_len,
            key_count: info.keys.len(),
            keys: [EMPTY_KEY; MQSEAL_MAX_WRAPPED_KEYS],
        };
        for (dst, key) in c.keys.iter_mut().zip(&info.keys) {
            dst.key_version = key.key_version;
            dst.wrapped_len = key.ciphertext.len();
            dst.key_id_len = raw::fill_chars(&mut dst.key_id, &key.key_id);
        }
        out.write(c);
        if let Some(slot) = context_out {
            let map = info.stored_context.unwrap_or_default();
            slot.write(raw::into_handle(mqseal_attributes::from_core(map)));
        }
        Ok(())
    })
}

/// Writes to `*out` whether `data` starts like an mqseal envelope (magic byte and a
/// known format version). A cheap check for "is this body encrypted"; it does not
/// validate the envelope.
///
/// # Safety
///
/// `data` must be NULL with 0 or `len` readable bytes; `out` a writable `bool`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_looks_encrypted(
    data: *const u8,
    len: usize,
    out: *mut bool,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes NULL with 0 or `len` readable bytes.
        let bytes = unsafe { raw::bytes(data, len, "data") }?;
        // SAFETY: the caller passes a writable `bool`.
        let out = unsafe { raw::out(out, "out") }?;
        out.write(looks_encrypted(bytes));
        Ok(())
    })
}

/// Returns the configuration name of a suite id, such as `"aes-256-gcm"` for 1, or
/// `"unknown"`. The string is static. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn mqseal_suite_name(suite: u32) -> *const c_char {
    boundary::value(c"unknown".as_ptr(), || {
        let known = u8::try_from(suite)
            .ok()
            .and_then(|id| Suite::from_id(id).ok());
        match known {
            Some(Suite::Aes256Gcm) => c"aes-256-gcm".as_ptr(),
            Some(Suite::ChaCha20Poly1305) => c"chacha20-poly1305".as_ptr(),
            _ => c"unknown".as_ptr(),
        }
    })
}
