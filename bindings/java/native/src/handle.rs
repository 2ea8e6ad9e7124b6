//! The native handle of `io.mqseal.MqsealCipher`: a `long` holding a boxed cipher.
//!
//! Java owns the handle's lifetime. `NativeHandle.java` counts calls in flight and
//! calls [`free`] exactly once, after `close()` and once no call is in flight, so a
//! handle passed to a native method is never freed while that method runs.

use std::sync::atomic::{AtomicI64, Ordering};

use jni::sys::jlong;
use mqseal_core::{Cipher, Error, ErrorCode};

use crate::entry::BridgeResult;
use crate::region::PinMode;

/// Number of handles created and not yet freed.
static LIVE_HANDLES: AtomicI64 = AtomicI64::new(0);

/// Returns the number of cipher handles created and not yet freed.
pub(crate) fn live_handles() -> i64 {
    LIVE_HANDLES.load(Ordering::SeqCst)
}

/// The state behind one Java handle. `Cipher` is itself a shared reference (an `Arc`)
/// to the caches and counters, so the box is small.
pub(crate) struct CipherHandle {
    pub(crate) cipher: Cipher,
    /// How heap arrays are pinned: [`PinMode::Copy`] when a key provider calls into
    /// Java, which a critical section forbids.
    pub(crate) pin: PinMode,
}

/// Moves `cipher` to the heap and returns its handle. Release it with [`free`].
pub(crate) fn into_handle(cipher: Cipher, pin: PinMode) -> jlong {
    LIVE_HANDLES.fetch_add(1, Ordering::SeqCst);
    Box::into_raw(Box::new(CipherHandle { cipher, pin })) as jlong
}

/// Borrows the cipher and settings behind `handle`.
///
/// # Safety
///
/// `handle` must be 0 or a value returned by [`into_handle`] that has not been passed to
/// [`free`], and it must stay so for the lifetime `'a`.
pub(crate) unsafe fn borrow<'a>(handle: jlong) -> BridgeResult<&'a CipherHandle> {
    let pointer = handle as *const CipherHandle;
    if pointer.is_null() {
        return Err(Error::new(
            ErrorCode::HandleClosed,
            "the cipher handle is closed; create a new MqsealCipher",
        )
        .into());
    }
    // SAFETY: the caller guarantees the pointer came from `into_handle` and is live.
    Ok(unsafe { &*pointer })
}

/// Frees the cipher behind `handle`; 0 is ignored.
///
/// # Safety
///
/// `handle` must be 0 or a value returned by [`into_handle`] that has not been freed,
/// and no other thread may be using it.
pub(crate) unsafe fn free(handle: jlong) {
    let pointer = handle as *mut CipherHandle;
    if !pointer.is_null() {
        // SAFETY: the caller guarantees the pointer came from `Box::into_raw` in
        // `into_handle` and is freed only once.
        drop(unsafe { Box::from_raw(pointer) });
        LIVE_HANDLES.fetch_sub(1, Ordering::SeqCst);
    }
}
