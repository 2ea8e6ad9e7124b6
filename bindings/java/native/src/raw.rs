//! Single JNI calls for the per-message path.
//!
//! The `jni` crate checks for a pending Java exception before, and often after, each
//! JNI function it wraps, so one wrapper costs two or three JNI calls. In a `perf`
//! profile of 1 KiB round trips those checks took about 7 % of the time. The
//! functions here make one call each. They are used only while no exception is
//! pending: every JNI call before them on the same path either succeeded or ended the
//! native method with its error.

use jni::Env;
use jni::objects::JByteArray;
use jni::sys::{self, jbyteArray, jsize};

use crate::entry::{BridgeError, BridgeResult, invalid};

/// Returns the raw `JNIEnv` pointer of `env`.
fn raw(env: &Env<'_>) -> *mut sys::JNIEnv {
    env.get_raw()
}

/// Returns the length of a non-null Java array.
pub(crate) fn array_length(env: &Env<'_>, array: jbyteArray) -> usize {
    let raw_env = raw(env);
    // SAFETY: `raw_env` is this thread's live JNIEnv, `array` a non-null local reference
    // of the current frame, and GetArrayLength never raises an exception.
    let len = unsafe { ((**raw_env).v1_1.GetArrayLength)(raw_env, array) };
    usize::try_from(len).unwrap_or(0)
}

/// Copies a whole non-null Java `byte[]` into a new `Vec`.
pub(crate) fn read_byte_array(env: &Env<'_>, array: jbyteArray) -> Vec<u8> {
    let len = array_length(env, array);
    let mut out = vec![0u8; len];
    if len > 0 {
        let raw_env = raw(env);
        // SAFETY: `out` has room for `len` bytes, which is the array's length, so the
        // region is in bounds and GetByteArrayRegion raises nothing. `len` came from a
        // `jsize`, so the cast back is lossless.
        unsafe {
            ((**raw_env).v1_1.GetByteArrayRegion)(
                raw_env,
                array,
                0,
                len as jsize,
                out.as_mut_ptr().cast(),
            );
        }
    }
    out
}

/// Allocates a new Java `byte[]` of `len` zero bytes.
///
/// On failure the JVM has an `OutOfMemoryError` pending, which the caller's error
/// handling leaves for Java to receive.
pub(crate) fn new_byte_array<'local>(
    env: &Env<'local>,
    len: usize,
) -> BridgeResult<JByteArray<'local>> {
    let jlen = jsize::try_from(len)
        .map_err(|_| invalid(format!("{len} bytes do not fit a Java array")))?;
    let raw_env = raw(env);
    // SAFETY: `raw_env` is this thread's live JNIEnv and no exception is pending.
    let array = unsafe { ((**raw_env).v1_1.NewByteArray)(raw_env, jlen) };
    if array.is_null() {
        return Err(BridgeError::Jni(jni::errors::Error::JavaException));
    }
    // SAFETY: `array` is a new, non-null local reference of the current frame ('local),
    // owned by no other wrapper.
    Ok(unsafe { JByteArray::from_raw(env, array) })
}

/// Allocates a new Java `byte[]` holding a copy of `bytes`.
pub(crate) fn byte_array_from_slice<'local>(
    env: &Env<'local>,
    bytes: &[u8],
) -> BridgeResult<JByteArray<'local>> {
    let array = new_byte_array(env, bytes.len())?;
    if !bytes.is_empty() {
        let raw_env = raw(env);
        // SAFETY: the array was just allocated with `bytes.len()` elements, so the region
        // is in bounds and SetByteArrayRegion raises nothing. `new_byte_array` checked
        // that the length fits a `jsize`.
        unsafe {
            ((**raw_env).v1_1.SetByteArrayRegion)(
                raw_env,
                array.as_raw(),
                0,
                bytes.len() as jsize,
                bytes.as_ptr().cast(),
            );
        }
    }
    Ok(array)
}
