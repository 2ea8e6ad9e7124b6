//! `mqseal_buffer`: bytes allocated by the library and handed to C.

use zeroize::Zeroizing;

use crate::{boundary, raw};

/// Bytes allocated by mqseal: an envelope or a decrypted body. Read it with
/// `mqseal_buffer_data` and `mqseal_buffer_len`; free it with `mqseal_buffer_free`, which
/// wipes the bytes first (a buffer may hold plaintext).
///
/// A buffer never changes after it is returned, so any number of threads may read it at
/// once; freeing it must not race with reading it.
pub struct mqseal_buffer {
    bytes: Zeroizing<Vec<u8>>,
}

impl mqseal_buffer {
    /// Wraps bytes produced by the library, wiping them when the buffer is freed.
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        mqseal_buffer {
            bytes: Zeroizing::new(bytes),
        }
    }
}

/// Returns a pointer to the bytes of `buffer`, valid until `mqseal_buffer_free(buffer)`.
/// Returns NULL when `buffer` is NULL or holds no bytes (then its length is 0).
///
/// Never fails.
///
/// # Safety
///
/// `buffer` must be NULL or a live buffer returned by mqseal.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_buffer_data(buffer: *const mqseal_buffer) -> *const u8 {
    boundary::value(std::ptr::null(), || {
        // SAFETY: the caller passes NULL or a live buffer handle.
        match unsafe { raw::opt_handle(buffer) } {
            Some(b) if !b.bytes.is_empty() => b.bytes.as_ptr(),
            _ => std::ptr::null(),
        }
    })
}

/// Returns the number of bytes in `buffer`; 0 when `buffer` is NULL.
///
/// Never fails.
///
/// # Safety
///
/// `buffer` must be NULL or a live buffer returned by mqseal.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_buffer_len(buffer: *const mqseal_buffer) -> usize {
    boundary::value(0, || {
        // SAFETY: the caller passes NULL or a live buffer handle.
        unsafe { raw::opt_handle(buffer) }.map_or(0, |b| b.bytes.len())
    })
}

/// Wipes and frees a buffer. NULL is ignored.
///
/// # Safety
///
/// `buffer` must be NULL or a live buffer returned by mqseal, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_buffer_free(buffer: *mut mqseal_buffer) {
    boundary::value((), || {
        // SAFETY: the caller passes NULL or a live buffer handle that it gives up here.
        unsafe { raw::free_handle(buffer) }
    })
}
