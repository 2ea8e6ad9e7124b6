//! The panic boundary: every exported function runs its body through one of these
//! wrappers, so a Rust panic never unwinds into C.
//!
//! A caught panic becomes `MQSEAL_PANIC` (901) with a last-error message that names no
//! data: a panic payload may format values, and messages must never carry key bytes or
//! plaintext. The default panic hook still prints the panic location to standard error,
//! which is what a bug report needs.
//!
//! Unwind safety: a panic may leave a handle's caches half-updated, but never memory
//! unsafe: the core's shared state sits behind atomics and poisoning locks, and a poisoned
//! lock turns later calls into `MQSEAL_INTERNAL` errors rather than undefined behaviour.
//! That is why the closures are wrapped in `AssertUnwindSafe`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use mqseal_core::{Error, ErrorCode, Result};

use crate::error::{MQSEAL_OK, MQSEAL_PANIC, record};

fn panic_error() -> Error {
    Error::new(
        ErrorCode::Panic,
        "a panic was caught at the mqseal C ABI boundary; this is a bug in mqseal, please \
         report it with the panic location printed on standard error",
    )
}

/// Runs `f` and turns its result into a status: `MQSEAL_OK`, the error's code (recorded
/// as this thread's last error), or `MQSEAL_PANIC` when `f` panicked.
pub(crate) fn status(f: impl FnOnce() -> Result<()>) -> i32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => MQSEAL_OK,
        Ok(Err(e)) => record(&e),
        Err(payload) => {
            // Dropping a payload can itself panic; keep that inside the boundary too.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            record(&panic_error())
        }
    }
}

/// Like [`status`], but leaves the last error untouched: for the function that reads it.
pub(crate) fn status_unrecorded(f: impl FnOnce() -> Result<()>) -> i32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => MQSEAL_OK,
        Ok(Err(e)) => e.code().as_i32(),
        Err(payload) => {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            MQSEAL_PANIC
        }
    }
}

/// Runs an infallible `f` that returns a value; returns `fallback` (and records a panic
/// as the last error) when `f` panicked. For getters and `_free` functions.
pub(crate) fn value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            record(&panic_error());
            fallback
        }
    }
}
