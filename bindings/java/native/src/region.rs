//! Borrowed byte regions of Java arrays and direct buffers, read without copies.
//!
//! A region is first resolved with JNI calls (array length, direct buffer address and
//! capacity) and its bounds are checked; only then is it pinned. Heap arrays are pinned
//! with `GetPrimitiveArrayCritical`, so no JNI call may happen until every [`Pinned`]
//! guard is dropped: callers resolve all regions first, pin them, run pure Rust code,
//! and drop the guards before touching JNI again. Input arrays are released with
//! `JNI_ABORT`, so the JVM never copies them back.
//!
//! A cipher whose key provider calls into Java cannot run inside a critical section, so
//! its regions use [`PinMode::Copy`]: heap array ranges are copied into zeroed-on-drop
//! native buffers, and output ranges are copied back when the guard drops.
//!
//! NOTE: the JVM may keep running Java threads that write the same array or buffer
//! while it is pinned. Callers must not modify a body while it is being encrypted or
//! decrypted; doing so gives undefined output, as with any JNI library.

use std::marker::PhantomData;
use std::ptr;

use jni::Env;
use jni::objects::{JByteArray, JByteBuffer};
use jni::sys::{self, jbyteArray, jint, jsize};
use zeroize::Zeroizing;

use crate::entry::{BridgeResult, invalid};
use crate::raw;

/// How heap arrays are made visible to Rust code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PinMode {
    /// `GetPrimitiveArrayCritical`: no copy, but no JNI call until the guard drops.
    Critical,
    /// A native copy of the range (zeroed when dropped), so JNI calls stay allowed.
    Copy,
}

/// Storage of a region's bytes.
#[derive(Clone, Copy)]
enum Storage {
    /// A Java `byte[]`, to be pinned.
    Array(jbyteArray),
    /// The memory of a direct `ByteBuffer`, which does not move.
    Direct(*mut u8),
    /// Zero bytes: nothing to pin.
    Empty,
}

/// A checked byte range of a Java array or direct buffer, not yet pinned.
pub(crate) struct ByteRegion<'local> {
    storage: Storage,
    offset: usize,
    len: usize,
    _frame: PhantomData<&'local ()>,
}

/// Converts a Java `int` offset or length to `usize`, rejecting negative values.
fn non_negative(value: jint, argument: &str) -> BridgeResult<usize> {
    usize::try_from(value)
        .map_err(|_| invalid(format!("{argument} is {value}; it must not be negative")))
}

fn check_bounds(offset: usize, len: usize, capacity: usize, argument: &str) -> BridgeResult<()> {
    match offset.checked_add(len) {
        Some(end) if end <= capacity => Ok(()),
        _ => Err(invalid(format!(
            "{argument}: offset {offset} plus length {len} exceeds the capacity of {capacity} bytes"
        ))),
    }
}

impl<'local> ByteRegion<'local> {
    /// Resolves `len` bytes at `offset` of `array`, or of `direct` when `array` is null.
    /// Exactly one of them must be non-null.
    pub(crate) fn resolve(
        env: &Env<'local>,
        array: &JByteArray<'_>,
        direct: &JByteBuffer<'_>,
        offset: jint,
        len: jint,
        argument: &str,
    ) -> BridgeResult<ByteRegion<'local>> {
        let offset = non_negative(offset, argument)?;
        let len = non_negative(len, argument)?;
        let storage = match (array.is_null(), direct.is_null()) {
            (false, true) => {
                check_bounds(
                    offset,
                    len,
                    raw::array_length(env, array.as_raw()),
                    argument,
                )?;
                Storage::Array(array.as_raw())
            }
            (true, false) => {
                let capacity = env.get_direct_buffer_capacity(direct)?;
                check_bounds(offset, len, capacity, argument)?;
                Storage::Direct(env.get_direct_buffer_address(direct)?)
            }
            _ => {
                return Err(invalid(format!(
                    "{argument}: pass exactly one of a byte array or a direct buffer"
                )));
            }
        };
        let storage = if len == 0 { Storage::Empty } else { storage };
        Ok(ByteRegion {
            storage,
            offset,
            len,
            _frame: PhantomData,
        })
    }

    /// Resolves all of `array`.
    pub(crate) fn whole_array(
        env: &Env<'local>,
        array: &JByteArray<'_>,
        argument: &str,
    ) -> BridgeResult<ByteRegion<'local>> {
        if array.is_null() {
            return Err(invalid(format!("{argument} is null; pass a byte array")));
        }
        let len = jint::try_from(raw::array_length(env, array.as_raw()))
            .map_err(|_| invalid(format!("{argument} is longer than a Java array can be")))?;
        Self::resolve(env, array, &JByteBuffer::null(), 0, len, argument)
    }

    /// Returns the region length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Returns true when the two regions share at least one byte: the same Java array
    /// with intersecting ranges, or intersecting direct buffer memory. Checked before
    /// pinning, because a JVM may pin an array by handing out a copy, and the copy's
    /// address does not identify the original.
    pub(crate) fn overlaps(&self, env: &Env<'_>, other: &ByteRegion<'_>) -> BridgeResult<bool> {
        let ranges_intersect = |a: usize, b: usize| a < b + other.len && b < a + self.len;
        Ok(match (self.storage, other.storage) {
            (Storage::Array(a), Storage::Array(b)) => {
                let raw_env = env.get_raw();
                // SAFETY: `raw_env` is this thread's live JNIEnv and both arrays are local
                // references of the current frame; IsSameObject is in every JNI version.
                let same = unsafe { ((**raw_env).v1_1.IsSameObject)(raw_env, a, b) };
                same && ranges_intersect(self.offset, other.offset)
            }
            (Storage::Direct(a), Storage::Direct(b)) => {
                ranges_intersect(a as usize + self.offset, b as usize + other.offset)
            }
            _ => false,
        })
    }

    /// Pins the region for reading. The JVM does not copy the array back on release.
    ///
    /// # Safety
    ///
    /// With [`PinMode::Critical`], until the returned guard is dropped, the current
    /// thread must make no JNI call other than pinning further regions.
    pub(crate) unsafe fn pin_input(
        &self,
        env: &Env<'local>,
        mode: PinMode,
    ) -> BridgeResult<Pinned<'_>> {
        // SAFETY: forwarded from the caller.
        unsafe { self.pin(env, sys::JNI_ABORT, mode) }
    }

    /// Pins the region for writing. The JVM copies the array back on release when it
    /// handed out a copy.
    ///
    /// # Safety
    ///
    /// Same as [`ByteRegion::pin_input`].
    pub(crate) unsafe fn pin_output(
        &self,
        env: &Env<'local>,
        mode: PinMode,
    ) -> BridgeResult<Pinned<'_>> {
        // SAFETY: forwarded from the caller.
        unsafe { self.pin(env, 0, mode) }
    }

    /// # Safety
    ///
    /// Same as [`ByteRegion::pin_input`].
    unsafe fn pin(
        &self,
        env: &Env<'local>,
        release_mode: jint,
        mode: PinMode,
    ) -> BridgeResult<Pinned<'_>> {
        let raw_env = env.get_raw();
        if let (PinMode::Copy, Storage::Array(array)) = (mode, self.storage) {
            return self.copy(raw_env, array, release_mode);
        }
        let base = match self.storage {
            Storage::Empty => ptr::NonNull::<u8>::dangling().as_ptr(),
            Storage::Direct(address) => address,
            Storage::Array(array) => {
                // SAFETY: `raw_env` is the live JNIEnv of this thread and `array` a local
                // reference of the current frame ('local). GetPrimitiveArrayCritical is in
                // every JNI version this crate supports. The caller upholds the critical
                // section rules.
                let pointer = unsafe {
                    let get = (**raw_env).v1_2.GetPrimitiveArrayCritical;
                    get(raw_env, array, ptr::null_mut())
                };
                if pointer.is_null() {
                    return Err(crate::entry::BridgeError::Jni(jni::errors::Error::JniCall(
                        jni::errors::JniError::NoMemory,
                    )));
                }
                pointer.cast::<u8>()
            }
        };
        Ok(Pinned {
            raw_env,
            storage: self.storage,
            base,
            // SAFETY: `resolve` checked offset + len against the array length or the
            // buffer capacity, so the pointer stays inside the allocation.
            start: unsafe { base.add(if self.len == 0 { 0 } else { self.offset }) },
            len: self.len,
            release_mode,
            copy: None,
            _region: PhantomData,
        })
    }

    /// Copies the range of `array` into a native buffer, for [`PinMode::Copy`].
    fn copy(
        &self,
        raw_env: *mut sys::JNIEnv,
        array: jbyteArray,
        release_mode: jint,
    ) -> BridgeResult<Pinned<'_>> {
        let mut copy = Zeroizing::new(vec![0u8; self.len]);
        // SAFETY: `resolve` checked offset + len against the array length, and both fit a
        // `jsize` because they came from `jint`s. No exception is pending on this path.
        unsafe {
            ((**raw_env).v1_1.GetByteArrayRegion)(
                raw_env,
                array,
                self.offset as jsize,
                self.len as jsize,
                copy.as_mut_ptr().cast(),
            );
        }
        let start = copy.as_mut_ptr();
        Ok(Pinned {
            raw_env,
            storage: self.storage,
            base: start,
            start,
            len: self.len,
            release_mode,
            copy: Some((self.offset, copy)),
            _region: PhantomData,
        })
    }
}

/// A pinned region; the array is released when the guard is dropped.
pub(crate) struct Pinned<'region> {
    raw_env: *mut sys::JNIEnv,
    storage: Storage,
    base: *mut u8,
    start: *mut u8,
    len: usize,
    release_mode: jint,
    /// For [`PinMode::Copy`]: the array offset and the native copy that `start` points
    /// into.
    copy: Option<(usize, Zeroizing<Vec<u8>>)>,
    _region: PhantomData<&'region ()>,
}

impl Pinned<'_> {
    /// Returns the region as a shared slice.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `start` points to `len` initialized bytes (Java arrays and direct
        // buffers are always initialized) that stay pinned and valid while `self` lives.
        // For an empty region `start` is a dangling, well-aligned pointer, valid for 0
        // bytes.
        unsafe { std::slice::from_raw_parts(self.start, self.len) }
    }

    /// Returns the region as a mutable slice.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; `&mut self` makes this the only slice handed out by
        // this guard, and callers check with `overlaps` that no other pinned region they
        // read shares these bytes.
        unsafe { std::slice::from_raw_parts_mut(self.start, self.len) }
    }
}

impl Drop for Pinned<'_> {
    fn drop(&mut self) {
        if let (Some((offset, copy)), Storage::Array(array)) = (&self.copy, self.storage) {
            // SAFETY: `raw_env` is this thread's live JNIEnv. The range was checked when
            // the copy was made and fits a `jsize`. SetByteArrayRegion must not run with an
            // exception pending, so the copy-back is skipped then; the error is thrown anyway.
            unsafe {
                let pending = ((**self.raw_env).v1_2.ExceptionCheck)(self.raw_env);
                if self.release_mode == 0 && !pending {
                    ((**self.raw_env).v1_1.SetByteArrayRegion)(
                        self.raw_env,
                        array,
                        *offset as jsize,
                        copy.len() as jsize,
                        copy.as_ptr().cast(),
                    );
                }
            }
            return;
        }
        if let Storage::Array(array) = self.storage {
            // SAFETY: `base` came from GetPrimitiveArrayCritical on `array` with the same
            // JNIEnv and is released exactly once, here.
            unsafe {
                let release = (**self.raw_env).v1_2.ReleasePrimitiveArrayCritical;
                release(self.raw_env, array, self.base.cast(), self.release_mode);
            }
        }
    }
}
