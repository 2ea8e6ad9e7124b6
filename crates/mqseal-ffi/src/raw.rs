//! Conversions from C pointers to Rust references and slices.
//!
//! This is the only module that turns raw pointers into references, slices or boxes, so
//! the pointer rules of the header contract are implemented once:
//!
//! - a NULL handle or a NULL required pointer is `MQSEAL_NULL_ARGUMENT`;
//! - (NULL, 0) is an empty buffer; NULL with a non-zero length is `MQSEAL_NULL_ARGUMENT`;
//! - out-params are checked before any work and written only through [`Out::write`],
//!   which the entry points call once everything else has succeeded.

use std::ffi::{CStr, c_char};
use std::marker::PhantomData;
use std::ptr::NonNull;

use mqseal_core::{Error, ErrorCode, Result};

fn null_argument(name: &str) -> Error {
    Error::new(
        ErrorCode::NullArgument,
        format!("argument `{name}` is NULL; pass a valid pointer"),
    )
}

/// Borrows the `len` bytes at `ptr`. (NULL, 0) is the empty slice; NULL with a non-zero
/// length is a `NullArgument` error.
///
/// # Safety
///
/// When `ptr` is not NULL it must point to `len` readable, initialized bytes that stay
/// valid and are not written to for the lifetime `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Error::new(
                ErrorCode::NullArgument,
                format!(
                    "argument `{name}` is NULL with length {len}; pass (NULL, 0) for an empty buffer"
                ),
            ))
        };
    }
    check_len(len, name)?;
    // SAFETY: `ptr` is not NULL, and the caller guarantees `len` readable bytes that live
    // and stay unmodified for 'a; `check_len` keeps the size within `isize::MAX`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows the caller's output buffer of `cap` bytes at `ptr`. (NULL, 0) is an empty
/// buffer; NULL with a non-zero capacity is a `NullArgument` error.
///
/// # Safety
///
/// When `ptr` is not NULL it must point to `cap` writable bytes that nothing else reads or
/// writes for the lifetime `'a` (in particular, no input buffer of the same call).
pub(crate) unsafe fn bytes_mut<'a>(ptr: *mut u8, cap: usize, name: &str) -> Result<&'a mut [u8]> {
    if ptr.is_null() {
        return if cap == 0 {
            Ok(&mut [])
        } else {
            Err(Error::new(
                ErrorCode::NullArgument,
                format!(
                    "argument `{name}` is NULL with capacity {cap}; pass (NULL, 0) to query the size"
                ),
            ))
        };
    }
    check_len(cap, name)?;
    // SAFETY: `ptr` is not NULL, and the caller guarantees `cap` writable bytes used by
    // nothing else for 'a; `check_len` keeps the size within `isize::MAX`.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, cap) })
}

/// Borrows a caller's `char` buffer of `cap` bytes as bytes, with the rules of
/// [`bytes_mut`].
///
/// # Safety
///
/// As for [`bytes_mut`].
pub(crate) unsafe fn chars_mut<'a>(
    ptr: *mut c_char,
    cap: usize,
    name: &str,
) -> Result<&'a mut [u8]> {
    // SAFETY: `c_char` and `u8` have the same size and alignment; the caller's guarantee
    // about `ptr` carries over unchanged.
    unsafe { bytes_mut(ptr.cast::<u8>(), cap, name) }
}

fn check_len(len: usize, name: &str) -> Result<()> {
    if isize::try_from(len).is_err() {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("length {len} of argument `{name}` exceeds the address space"),
        ));
    }
    Ok(())
}

/// Returns true when the input range `[a, a + a_len)` and the output range
/// `[b, b + b_len)` overlap. Compares addresses only; never dereferences.
pub(crate) fn overlaps(a: *const u8, a_len: usize, b: *mut u8, b_len: usize) -> bool {
    if a_len == 0 || b_len == 0 || a.is_null() || b.is_null() {
        return false;
    }
    let (a0, b0) = (a.addr(), b.addr());
    a0 < b0.saturating_add(b_len) && b0 < a0.saturating_add(a_len)
}

/// Borrows a NUL-terminated UTF-8 string. NULL is a `NullArgument` error; invalid UTF-8
/// is an `InvalidArgument` error.
///
/// # Safety
///
/// When `ptr` is not NULL it must point to a NUL-terminated string that stays valid and
/// unmodified for the lifetime `'a`.
pub(crate) unsafe fn str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(null_argument(name));
    }
    // SAFETY: `ptr` is not NULL and the caller guarantees a NUL-terminated string that
    // lives for 'a.
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str().map_err(|_| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("argument `{name}` is not valid UTF-8"),
        )
    })
}

/// Like [`str`], but NULL is `None`.
///
/// # Safety
///
/// As for [`str`].
pub(crate) unsafe fn opt_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded from the caller.
    unsafe { str(ptr, name) }.map(Some)
}

/// Borrows a handle. NULL is a `NullArgument` error.
///
/// # Safety
///
/// When `ptr` is not NULL it must be a live handle of type `T` returned by this library
/// (not yet freed) and not freed for the lifetime `'a`.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, name: &str) -> Result<&'a T> {
    // SAFETY: the caller guarantees that a non-NULL `ptr` is a live `Box<T>` allocation
    // of this library; shared access is what every handle allows concurrently.
    unsafe { ptr.as_ref() }.ok_or_else(|| null_argument(name))
}

/// Borrows an optional handle: NULL is `None`.
///
/// # Safety
///
/// As for [`handle`].
pub(crate) unsafe fn opt_handle<'a, T>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: as in `handle`.
    unsafe { ptr.as_ref() }
}

/// Borrows a handle for mutation. NULL is a `NullArgument` error.
///
/// # Safety
///
/// When `ptr` is not NULL it must be a live handle of type `T` returned by this library
/// that no other thread uses for the lifetime `'a`.
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T> {
    // SAFETY: the caller guarantees a live `Box<T>` allocation of this library with no
    // other user for 'a, so a unique reference is sound.
    unsafe { ptr.as_mut() }.ok_or_else(|| null_argument(name))
}

/// Moves `value` to the heap and returns the handle that C owns from now on.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Frees a handle made by [`into_handle`]. NULL is ignored.
///
/// # Safety
///
/// When `ptr` is not NULL it must come from [`into_handle`] with the same `T`, must not
/// have been freed, and must not be used afterwards by anyone.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: the caller guarantees `ptr` came from `Box::into_raw` in `into_handle`
        // and is freed exactly once.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// A checked, not yet written out-param.
pub(crate) struct Out<'a, T> {
    ptr: NonNull<T>,
    _lifetime: PhantomData<&'a mut T>,
}

impl<T> Out<'_, T> {
    /// Writes the result. Called only once the whole operation has succeeded.
    pub(crate) fn write(self, value: T) {
        // SAFETY: `out`/`opt_out` built `self` from a non-NULL pointer that their caller
        // guaranteed to be valid and aligned for a write of `T`; `write` does not read or
        // drop the old contents, which may be uninitialized.
        unsafe { self.ptr.as_ptr().write(value) }
    }
}

/// Checks a required out-param. NULL is a `NullArgument` error.
///
/// # Safety
///
/// When `ptr` is not NULL it must be valid and aligned for a write of `T` for the
/// lifetime `'a`.
pub(crate) unsafe fn out<'a, T>(ptr: *mut T, name: &str) -> Result<Out<'a, T>> {
    NonNull::new(ptr)
        .map(|ptr| Out {
            ptr,
            _lifetime: PhantomData,
        })
        .ok_or_else(|| null_argument(name))
}

/// Checks an optional out-param: NULL is `None`.
///
/// # Safety
///
/// As for [`out`].
pub(crate) unsafe fn opt_out<'a, T>(ptr: *mut T) -> Option<Out<'a, T>> {
    NonNull::new(ptr).map(|ptr| Out {
        ptr,
        _lifetime: PhantomData,
    })
}

/// Returns a pointer to bytes as C reads a string: `const char *`. The bytes must end
/// with a NUL for C to read them as a string.
pub(crate) fn c_chars(bytes: &[u8]) -> *const c_char {
    bytes.as_ptr().cast::<c_char>()
}

/// Copies `s` into a fixed `char` array, NUL-terminated, cutting it at a character
/// boundary when it does not fit. Returns the number of bytes copied (without the NUL).
pub(crate) fn fill_chars(dst: &mut [c_char], s: &str) -> usize {
    let Some(room) = dst.len().checked_sub(1) else {
        return 0;
    };
    let mut n = s.len().min(room);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    for (d, b) in dst.iter_mut().zip(&s.as_bytes()[..n]) {
        *d = c_char::from_ne_bytes([*b]);
    }
    for d in &mut dst[n..] {
        *d = 0;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_rules() {
        // SAFETY: NULL pointers are never dereferenced.
        unsafe {
            assert_eq!(bytes(std::ptr::null(), 0, "x").expect("empty"), b"");
            assert_eq!(
                bytes(std::ptr::null(), 3, "x").expect_err("null").code(),
                ErrorCode::NullArgument
            );
            assert!(bytes_mut(std::ptr::null_mut(), 0, "x").is_ok());
            assert!(str(std::ptr::null(), "x").is_err());
            assert_eq!(opt_str(std::ptr::null(), "x").expect("none"), None);
            assert!(handle::<u8>(std::ptr::null(), "x").is_err());
            assert!(out::<u8>(std::ptr::null_mut(), "x").is_err());
        }
    }

    #[test]
    fn overlap_detection() {
        let mut buf = [0u8; 16];
        let q = buf.as_mut_ptr();
        let p = q.cast_const();
        assert!(overlaps(p, 8, q.wrapping_add(4), 8));
        assert!(!overlaps(p, 8, q.wrapping_add(8), 8));
        assert!(!overlaps(p, 0, q, 8));
    }

    #[test]
    fn fill_chars_truncates_at_char_boundary() {
        let mut dst = [1 as c_char; 4];
        assert_eq!(fill_chars(&mut dst, "ab"), 2);
        assert_eq!(dst, [b'a' as c_char, b'b' as c_char, 0, 0]);
        assert_eq!(fill_chars(&mut dst, "aé!"), 3);
        assert_eq!(fill_chars(&mut dst, "abé"), 2);
        assert_eq!(dst[2], 0);
    }
}
