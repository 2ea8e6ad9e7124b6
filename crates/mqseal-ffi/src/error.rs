//! Status codes, error names, and the per-thread last error.

use std::cell::RefCell;
use std::ffi::{CStr, c_char};

use mqseal_core::{Error, ErrorCode};

use crate::{boundary, raw};

/// Success.
pub const MQSEAL_OK: i32 = 0;
/// An argument is invalid: a wrong length, an out-of-range value, a bad name.
pub const MQSEAL_INVALID_ARGUMENT: i32 = 100;
/// A required pointer or handle was NULL, or a buffer was NULL with a non-zero length.
pub const MQSEAL_NULL_ARGUMENT: i32 = 101;
/// The output buffer is too small; the required size was written to the length out-param.
pub const MQSEAL_BUFFER_TOO_SMALL: i32 = 102;
/// A configuration value is missing or invalid.
pub const MQSEAL_INVALID_CONFIG: i32 = 103;
/// The handle was already closed or freed (bindings).
pub const MQSEAL_HANDLE_CLOSED: i32 = 104;
/// The envelope is structurally invalid.
pub const MQSEAL_MALFORMED_ENVELOPE: i32 = 200;
/// The envelope ends before a field it declares.
pub const MQSEAL_TRUNCATED_ENVELOPE: i32 = 201;
/// The input does not start with the envelope magic byte: it is not an mqseal envelope.
pub const MQSEAL_NOT_ENCRYPTED: i32 = 202;
/// The envelope version is not supported by this build.
pub const MQSEAL_UNSUPPORTED_VERSION: i32 = 300;
/// The envelope names a cipher suite that this build does not support.
pub const MQSEAL_UNSUPPORTED_SUITE: i32 = 301;
/// The envelope uses a flag or feature that this build does not support.
pub const MQSEAL_UNSUPPORTED_FEATURE: i32 = 302;
/// Authentication failed: tampered data, wrong key, or wrong context.
pub const MQSEAL_AUTHENTICATION_FAILED: i32 = 400;
/// The unwrapped data key does not match the envelope's key commitment.
pub const MQSEAL_KEY_COMMITMENT_MISMATCH: i32 = 401;
/// No configured provider has the named key id.
pub const MQSEAL_KEY_NOT_FOUND: i32 = 500;
/// The provider has the key id but not the named key version.
pub const MQSEAL_KEY_VERSION_NOT_FOUND: i32 = 501;
/// The key provider could not be reached or failed transiently (retryable).
pub const MQSEAL_PROVIDER_UNAVAILABLE: i32 = 600;
/// The key provider throttled the request (retryable).
pub const MQSEAL_PROVIDER_THROTTLED: i32 = 601;
/// The key provider did not respond in time (retryable).
pub const MQSEAL_PROVIDER_TIMEOUT: i32 = 602;
/// The key provider denied access to the key.
pub const MQSEAL_PROVIDER_DENIED: i32 = 700;
/// The key is disabled or pending deletion in the provider.
pub const MQSEAL_KEY_DISABLED: i32 = 701;
/// The key provider returned key material that cannot be used.
pub const MQSEAL_PROVIDER_INVALID_RESPONSE: i32 = 702;
/// A data-key usage limit or a size limit was exceeded.
pub const MQSEAL_USAGE_LIMIT_EXCEEDED: i32 = 800;
/// An internal invariant failed; this is a bug in mqseal.
pub const MQSEAL_INTERNAL: i32 = 900;
/// A Rust panic was caught at the C ABI boundary; this is a bug in mqseal.
pub const MQSEAL_PANIC: i32 = 901;

/// Every status constant with its C name, for the tests that keep this list, the core's
/// `ErrorCode` and the header in step.
#[cfg(test)]
pub(crate) const STATUS_CONSTANTS: &[(&str, i32)] = &[
    ("MQSEAL_OK", MQSEAL_OK),
    ("MQSEAL_INVALID_ARGUMENT", MQSEAL_INVALID_ARGUMENT),
    ("MQSEAL_NULL_ARGUMENT", MQSEAL_NULL_ARGUMENT),
    ("MQSEAL_BUFFER_TOO_SMALL", MQSEAL_BUFFER_TOO_SMALL),
    ("MQSEAL_INVALID_CONFIG", MQSEAL_INVALID_CONFIG),
    ("MQSEAL_HANDLE_CLOSED", MQSEAL_HANDLE_CLOSED),
    ("MQSEAL_MALFORMED_ENVELOPE", MQSEAL_MALFORMED_ENVELOPE),
    ("MQSEAL_TRUNCATED_ENVELOPE", MQSEAL_TRUNCATED_ENVELOPE),
    ("MQSEAL_NOT_ENCRYPTED", MQSEAL_NOT_ENCRYPTED),
    ("MQSEAL_UNSUPPORTED_VERSION", MQSEAL_UNSUPPORTED_VERSION),
    ("MQSEAL_UNSUPPORTED_SUITE", MQSEAL_UNSUPPORTED_SUITE),
    ("MQSEAL_UNSUPPORTED_FEATURE", MQSEAL_UNSUPPORTED_FEATURE),
    ("MQSEAL_AUTHENTICATION_FAILED", MQSEAL_AUTHENTICATION_FAILED),
    (
        "MQSEAL_KEY_COMMITMENT_MISMATCH",
        MQSEAL_KEY_COMMITMENT_MISMATCH,
    ),
    ("MQSEAL_KEY_NOT_FOUND", MQSEAL_KEY_NOT_FOUND),
    ("MQSEAL_KEY_VERSION_NOT_FOUND", MQSEAL_KEY_VERSION_NOT_FOUND),
    ("MQSEAL_PROVIDER_UNAVAILABLE", MQSEAL_PROVIDER_UNAVAILABLE),
    ("MQSEAL_PROVIDER_THROTTLED", MQSEAL_PROVIDER_THROTTLED),
    ("MQSEAL_PROVIDER_TIMEOUT", MQSEAL_PROVIDER_TIMEOUT),
    ("MQSEAL_PROVIDER_DENIED", MQSEAL_PROVIDER_DENIED),
    ("MQSEAL_KEY_DISABLED", MQSEAL_KEY_DISABLED),
    (
        "MQSEAL_PROVIDER_INVALID_RESPONSE",
        MQSEAL_PROVIDER_INVALID_RESPONSE,
    ),
    ("MQSEAL_USAGE_LIMIT_EXCEEDED", MQSEAL_USAGE_LIMIT_EXCEEDED),
    ("MQSEAL_INTERNAL", MQSEAL_INTERNAL),
    ("MQSEAL_PANIC", MQSEAL_PANIC),
];

/// The stable snake_case name of a status, NUL-terminated and static.
fn name_of(status: i32) -> &'static CStr {
    if status == MQSEAL_OK {
        return c"ok";
    }
    match ErrorCode::from_i32(status) {
        Some(ErrorCode::InvalidArgument) => c"invalid_argument",
        Some(ErrorCode::NullArgument) => c"null_argument",
        Some(ErrorCode::BufferTooSmall) => c"buffer_too_small",
        Some(ErrorCode::InvalidConfig) => c"invalid_config",
        Some(ErrorCode::HandleClosed) => c"handle_closed",
        Some(ErrorCode::MalformedEnvelope) => c"malformed_envelope",
        Some(ErrorCode::TruncatedEnvelope) => c"truncated_envelope",
        Some(ErrorCode::NotEncrypted) => c"not_encrypted",
        Some(ErrorCode::UnsupportedVersion) => c"unsupported_version",
        Some(ErrorCode::UnsupportedSuite) => c"unsupported_suite",
        Some(ErrorCode::UnsupportedFeature) => c"unsupported_feature",
        Some(ErrorCode::AuthenticationFailed) => c"authentication_failed",
        Some(ErrorCode::KeyCommitmentMismatch) => c"key_commitment_mismatch",
        Some(ErrorCode::KeyNotFound) => c"key_not_found",
        Some(ErrorCode::KeyVersionNotFound) => c"key_version_not_found",
        Some(ErrorCode::ProviderUnavailable) => c"provider_unavailable",
        Some(ErrorCode::ProviderThrottled) => c"provider_throttled",
        Some(ErrorCode::ProviderTimeout) => c"provider_timeout",
        Some(ErrorCode::ProviderDenied) => c"provider_denied",
        Some(ErrorCode::KeyDisabled) => c"key_disabled",
        Some(ErrorCode::ProviderInvalidResponse) => c"provider_invalid_response",
        Some(ErrorCode::UsageLimitExceeded) => c"usage_limit_exceeded",
        Some(ErrorCode::Internal) => c"internal",
        Some(ErrorCode::Panic) => c"panic",
        _ => c"unknown",
    }
}

struct LastError {
    status: i32,
    message: String,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = const {
        RefCell::new(LastError { status: MQSEAL_OK, message: String::new() })
    };
}

/// Records `error` as this thread's last error and returns its status.
pub(crate) fn record(error: &Error) -> i32 {
    let status = error.code().as_i32();
    // `try_with` fails only while the thread is being torn down; the status still reaches
    // the caller then, only the message is lost.
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut last) = cell.try_borrow_mut() {
            last.status = status;
            last.message.clear();
            last.message.push_str(error.message());
        }
    });
    status
}

/// Returns the stable snake_case name of a status code, such as `"authentication_failed"`
/// for 400, `"ok"` for 0 and `"unknown"` for a number that is no mqseal status.
///
/// The string is static: never free it. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn mqseal_error_name(status: i32) -> *const c_char {
    boundary::value(c"panic".as_ptr(), || name_of(status).as_ptr())
}

/// Returns true when the same call may succeed later without any change: the status is
/// `MQSEAL_PROVIDER_UNAVAILABLE`, `MQSEAL_PROVIDER_THROTTLED` or `MQSEAL_PROVIDER_TIMEOUT`.
///
/// Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn mqseal_error_is_retryable(status: i32) -> bool {
    boundary::value(false, || {
        ErrorCode::from_i32(status).is_some_and(ErrorCode::is_retryable)
    })
}

/// Returns the status of the last failed mqseal call on the calling thread, or
/// `MQSEAL_OK` when no call has failed on this thread yet.
///
/// Successful calls do not reset it. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn mqseal_last_error_code() -> i32 {
    boundary::value(MQSEAL_INTERNAL, || {
        LAST_ERROR
            .try_with(|cell| cell.try_borrow().map_or(MQSEAL_INTERNAL, |l| l.status))
            .unwrap_or(MQSEAL_INTERNAL)
    })
}

/// Copies the message of the last failed mqseal call on the calling thread into `buf`.
///
/// The message says what failed, on which value, and what to do; it never contains key
/// bytes or plaintext. It is empty when no call has failed on this thread yet. Each
/// thread has its own last error; successful calls do not reset it.
///
/// Writes at most `cap - 1` bytes and a terminating NUL (cut at a UTF-8 character
/// boundary when the message does not fit), and writes the full message length, without
/// the NUL, to `*len` when `len` is not NULL. Call with `(NULL, 0)` to learn the length.
///
/// Returns `MQSEAL_OK`, or `MQSEAL_NULL_ARGUMENT` when `buf` is NULL and `cap` is not 0.
/// Unlike every other function, this one never changes the last error, even when it
/// fails.
///
/// # Safety
///
/// `buf` must be NULL with `cap` 0, or point to `cap` writable bytes; `len` must be NULL
/// or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_last_error_message(
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> i32 {
    let run = || -> Result<(), Error> {
        // SAFETY: the caller passes NULL with cap 0 or `cap` writable bytes.
        let dst = unsafe { raw::chars_mut(buf, cap, "buf") }?;
        // SAFETY: the caller passes NULL or a writable `size_t`.
        let len_out = unsafe { raw::opt_out(len) };
        let full = LAST_ERROR
            .try_with(|cell| {
                let last = cell.try_borrow().ok()?;
                let message = &last.message;
                if let Some(room) = dst.len().checked_sub(1) {
                    let mut n = message.len().min(room);
                    while !message.is_char_boundary(n) {
                        n -= 1;
                    }
                    dst[..n].copy_from_slice(&message.as_bytes()[..n]);
                    dst[n] = 0;
                }
                Some(message.len())
            })
            .ok()
            .flatten()
            .unwrap_or(0);
        if let Some(out) = len_out {
            out.write(full);
        }
        Ok(())
    };
    boundary::status_unrecorded(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_core_codes() {
        for code in ErrorCode::ALL {
            let c_name = format!("MQSEAL_{}", code.name().to_ascii_uppercase());
            let found = STATUS_CONSTANTS
                .iter()
                .find(|(name, _)| *name == c_name)
                .unwrap_or_else(|| panic!("no constant {c_name} for {code:?}"));
            assert_eq!(found.1, code.as_i32(), "{c_name}");
        }
        assert_eq!(STATUS_CONSTANTS.len(), ErrorCode::ALL.len() + 1);
    }

    #[test]
    fn names_match_core_names() {
        for code in ErrorCode::ALL {
            assert_eq!(name_of(code.as_i32()).to_str().expect("ascii"), code.name());
        }
        assert_eq!(name_of(0), c"ok");
        assert_eq!(name_of(12345), c"unknown");
    }
}
