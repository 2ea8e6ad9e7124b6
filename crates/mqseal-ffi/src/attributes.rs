//! `mqseal_attributes`: string maps for the authenticated context and sealed properties.

use std::ffi::c_char;
use std::sync::OnceLock;

use mqseal_core::{Attributes, Error, ErrorCode, Result};
use zeroize::Zeroizing;

use crate::{boundary, raw};

/// One entry as C reads it: key and value, each followed by a NUL byte.
struct CEntry {
    key: Zeroizing<Vec<u8>>,
    value: Zeroizing<Vec<u8>>,
}

fn nul_terminated(s: &str) -> Zeroizing<Vec<u8>> {
    let mut v = Zeroizing::new(Vec::with_capacity(s.len() + 1));
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    v
}

/// A map of UTF-8 keys to UTF-8 values, kept in canonical order (ascending bytewise order
/// of keys). Used for the authenticated context (for example `topic=orders`) and for
/// sealed properties.
///
/// Thread safety: reading functions (`_get`, `_count`, `_entry`) and passing the map to
/// encryption or decryption may run on many threads at once; `mqseal_attributes_set` and
/// `mqseal_attributes_free` need the map to themselves.
pub struct mqseal_attributes {
    map: Attributes,
    /// NUL-terminated copies in canonical order, built on the first read after a change.
    view: OnceLock<Vec<CEntry>>,
}

impl mqseal_attributes {
    pub(crate) fn from_core(map: Attributes) -> Self {
        mqseal_attributes {
            map,
            view: OnceLock::new(),
        }
    }

    /// The map in the core's form, for encryption and decryption.
    pub(crate) fn core(&self) -> &Attributes {
        &self.map
    }

    fn view(&self) -> &[CEntry] {
        self.view.get_or_init(|| {
            self.map
                .iter()
                .map(|(k, v)| CEntry {
                    key: nul_terminated(k),
                    value: nul_terminated(v),
                })
                .collect()
        })
    }

    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        if self.map.get(key).is_some() {
            // The core map rejects duplicate keys; a replacement rebuilds it.
            let rebuilt = Attributes::from_pairs(
                self.map
                    .iter()
                    .map(|(k, v)| (k, if k == key { value } else { v })),
            )?;
            self.map = rebuilt;
        } else {
            self.map.insert(key, value)?;
        }
        self.view = OnceLock::new();
        Ok(())
    }
}

/// Creates an empty map and writes it to `*out`; free it with `mqseal_attributes_free`.
///
/// # Safety
///
/// `out` must point to a writable `mqseal_attributes *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_attributes_new(out: *mut *mut mqseal_attributes) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a writable pointer slot.
        let out = unsafe { raw::out(out, "out") }?;
        out.write(raw::into_handle(mqseal_attributes::from_core(
            Attributes::new(),
        )));
        Ok(())
    })
}

/// Sets `key` to `value`, replacing an existing value. Both are NUL-terminated UTF-8; the
/// key must not be empty, and each is at most 65535 bytes.
///
/// Pointers returned by `mqseal_attributes_get` and `mqseal_attributes_entry` for this
/// map become invalid.
///
/// Errors: `MQSEAL_NULL_ARGUMENT`; `MQSEAL_INVALID_ARGUMENT` for an empty key, invalid
/// UTF-8, an over-long key or value, or more than 65535 entries.
///
/// # Safety
///
/// `attrs` must be a live map used by no other thread during the call; `key` and `value`
/// must be NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_attributes_set(
    attrs: *mut mqseal_attributes,
    key: *const c_char,
    value: *const c_char,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a live map that no other thread uses during the call.
        let attrs = unsafe { raw::handle_mut(attrs, "attrs") }?;
        // SAFETY: the caller passes a NUL-terminated string.
        let key = unsafe { raw::str(key, "key") }?;
        // SAFETY: the caller passes a NUL-terminated string.
        let value = unsafe { raw::str(value, "value") }?;
        attrs.set(key, value)
    })
}

/// Looks up `key`. On success writes the NUL-terminated value to `*value` and its length
/// in bytes (without the NUL) to `*value_len` when `value_len` is not NULL; when the key
/// is absent writes NULL and 0.
///
/// The value pointer is owned by the map and stays valid until the map is changed or
/// freed. A value decrypted from an envelope may contain NUL bytes; use `value_len` to
/// read it whole.
///
/// # Safety
///
/// `attrs` must be a live map; `key` a NUL-terminated string; `value` a writable
/// `const char *`; `value_len` NULL or a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_attributes_get(
    attrs: *const mqseal_attributes,
    key: *const c_char,
    value: *mut *const c_char,
    value_len: *mut usize,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a live map.
        let attrs = unsafe { raw::handle(attrs, "attrs") }?;
        // SAFETY: the caller passes a NUL-terminated string.
        let key = unsafe { raw::str(key, "key") }?;
        // SAFETY: the caller passes a writable pointer slot.
        let value_out = unsafe { raw::out(value, "value") }?;
        // SAFETY: the caller passes NULL or a writable `size_t`.
        let len_out = unsafe { raw::opt_out(value_len) };
        let view = attrs.view();
        let found = view
            .binary_search_by(|e| e.key[..e.key.len() - 1].cmp(key.as_bytes()))
            .ok()
            .map(|i| &view[i]);
        match found {
            Some(e) => {
                value_out.write(raw::c_chars(&e.value));
                if let Some(l) = len_out {
                    l.write(e.value.len() - 1);
                }
            }
            None => {
                value_out.write(std::ptr::null());
                if let Some(l) = len_out {
                    l.write(0);
                }
            }
        }
        Ok(())
    })
}

/// Writes the number of entries to `*count`.
///
/// # Safety
///
/// `attrs` must be a live map; `count` a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_attributes_count(
    attrs: *const mqseal_attributes,
    count: *mut usize,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a live map.
        let attrs = unsafe { raw::handle(attrs, "attrs") }?;
        // SAFETY: the caller passes a writable `size_t`.
        let count = unsafe { raw::out(count, "count") }?;
        count.write(attrs.map.len());
        Ok(())
    })
}

/// Reads entry `index` (0 to count - 1) in canonical order: ascending bytewise order of
/// keys. Writes the NUL-terminated key and value to `*key` and `*value`, and their
/// lengths without the NUL to `*key_len` and `*value_len` when those are not NULL.
///
/// The pointers are owned by the map and stay valid until the map is changed or freed.
///
/// Errors: `MQSEAL_NULL_ARGUMENT`; `MQSEAL_INVALID_ARGUMENT` when `index` is not below the
/// count.
///
/// # Safety
///
/// `attrs` must be a live map; `key` and `value` writable `const char *` slots;
/// `key_len` and `value_len` NULL or writable `size_t`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_attributes_entry(
    attrs: *const mqseal_attributes,
    index: usize,
    key: *mut *const c_char,
    key_len: *mut usize,
    value: *mut *const c_char,
    value_len: *mut usize,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a live map.
        let attrs = unsafe { raw::handle(attrs, "attrs") }?;
        // SAFETY: the caller passes a writable pointer slot.
        let key_out = unsafe { raw::out(key, "key") }?;
        // SAFETY: the caller passes a writable pointer slot.
        let value_out = unsafe { raw::out(value, "value") }?;
        // SAFETY: the caller passes NULL or a writable `size_t`.
        let key_len_out = unsafe { raw::opt_out(key_len) };
        // SAFETY: the caller passes NULL or a writable `size_t`.
        let value_len_out = unsafe { raw::opt_out(value_len) };
        let view = attrs.view();
        let e = view.get(index).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "entry index {index} is out of range: the map has {} entries",
                    view.len()
                ),
            )
        })?;
        key_out.write(raw::c_chars(&e.key));
        value_out.write(raw::c_chars(&e.value));
        if let Some(l) = key_len_out {
            l.write(e.key.len() - 1);
        }
        if let Some(l) = value_len_out {
            l.write(e.value.len() - 1);
        }
        Ok(())
    })
}

/// Frees a map, wiping the copies of its strings. NULL is ignored.
///
/// # Safety
///
/// `attrs` must be NULL or a live map, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_attributes_free(attrs: *mut mqseal_attributes) {
    boundary::value((), || {
        // SAFETY: the caller passes NULL or a live map that it gives up here.
        unsafe { raw::free_handle(attrs) }
    })
}
