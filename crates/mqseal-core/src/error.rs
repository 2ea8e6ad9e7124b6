//! Error taxonomy with stable numeric codes.
//!
//! Codes are grouped by kind in blocks of 100. A code is never renumbered or reused: a
//! retired code stays listed here as a comment. Every binding maps these codes to its
//! own error types in exactly one place.

use std::fmt;

/// Stable error code shared by every API (Rust, C, Java, Python).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// An argument is invalid: a wrong length, an out-of-range value, a bad name.
    InvalidArgument = 100,
    /// A required pointer or handle was NULL (C ABI and bindings).
    NullArgument = 101,
    /// The output buffer is too small; the error carries the required size.
    BufferTooSmall = 102,
    /// A configuration value is missing or invalid.
    InvalidConfig = 103,
    /// The handle was already closed or freed (bindings).
    HandleClosed = 104,
    /// The envelope is structurally invalid.
    MalformedEnvelope = 200,
    /// The envelope ends before a field it declares.
    TruncatedEnvelope = 201,
    /// The input does not start with the envelope magic byte: it is not an mqseal envelope.
    NotEncrypted = 202,
    /// The envelope version is not supported by this build.
    UnsupportedVersion = 300,
    /// The envelope names a cipher suite that this build does not support.
    UnsupportedSuite = 301,
    /// The envelope uses a flag or feature that this build does not support.
    UnsupportedFeature = 302,
    /// Authentication failed: tampered data, wrong key, or wrong context.
    AuthenticationFailed = 400,
    /// The unwrapped data key does not match the envelope's key commitment.
    KeyCommitmentMismatch = 401,
    /// No configured provider holds the named key id.
    KeyNotFound = 500,
    /// The provider holds the key id but not the named key version.
    KeyVersionNotFound = 501,
    /// The key provider could not be reached or failed transiently.
    ProviderUnavailable = 600,
    /// The key provider throttled the request.
    ProviderThrottled = 601,
    /// The key provider did not answer in time.
    ProviderTimeout = 602,
    /// The key provider denied access to the key.
    ProviderDenied = 700,
    /// The key is disabled or pending deletion in the provider.
    KeyDisabled = 701,
    /// The key provider returned key material that cannot be used.
    ProviderInvalidResponse = 702,
    /// A data-key usage limit or a size limit was exceeded.
    UsageLimitExceeded = 800,
    /// An internal invariant failed; this is a bug in mqseal.
    Internal = 900,
    /// A Rust panic was caught at an API boundary; this is a bug in mqseal.
    Panic = 901,
}

impl ErrorCode {
    /// Every code, in numeric order. Bindings use it to check their mapping tables.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidArgument,
        ErrorCode::NullArgument,
        ErrorCode::BufferTooSmall,
        ErrorCode::InvalidConfig,
        ErrorCode::HandleClosed,
        ErrorCode::MalformedEnvelope,
        ErrorCode::TruncatedEnvelope,
        ErrorCode::NotEncrypted,
        ErrorCode::UnsupportedVersion,
        ErrorCode::UnsupportedSuite,
        ErrorCode::UnsupportedFeature,
        ErrorCode::AuthenticationFailed,
        ErrorCode::KeyCommitmentMismatch,
        ErrorCode::KeyNotFound,
        ErrorCode::KeyVersionNotFound,
        ErrorCode::ProviderUnavailable,
        ErrorCode::ProviderThrottled,
        ErrorCode::ProviderTimeout,
        ErrorCode::ProviderDenied,
        ErrorCode::KeyDisabled,
        ErrorCode::ProviderInvalidResponse,
        ErrorCode::UsageLimitExceeded,
        ErrorCode::Internal,
        ErrorCode::Panic,
    ];

    /// Returns the numeric value of the code.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// Looks up a code by its numeric value.
    pub fn from_i32(value: i32) -> Option<ErrorCode> {
        Self::ALL.iter().copied().find(|c| c.as_i32() == value)
    }

    /// Returns true when the same call may succeed later without any change:
    /// the provider was unavailable, throttled or timed out.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::ProviderUnavailable
                | ErrorCode::ProviderThrottled
                | ErrorCode::ProviderTimeout
        )
    }

    /// Returns the stable snake_case name of the code, used in logs and message properties.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::NullArgument => "null_argument",
            ErrorCode::BufferTooSmall => "buffer_too_small",
            ErrorCode::InvalidConfig => "invalid_config",
            ErrorCode::HandleClosed => "handle_closed",
            ErrorCode::MalformedEnvelope => "malformed_envelope",
            ErrorCode::TruncatedEnvelope => "truncated_envelope",
            ErrorCode::NotEncrypted => "not_encrypted",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::UnsupportedSuite => "unsupported_suite",
            ErrorCode::UnsupportedFeature => "unsupported_feature",
            ErrorCode::AuthenticationFailed => "authentication_failed",
            ErrorCode::KeyCommitmentMismatch => "key_commitment_mismatch",
            ErrorCode::KeyNotFound => "key_not_found",
            ErrorCode::KeyVersionNotFound => "key_version_not_found",
            ErrorCode::ProviderUnavailable => "provider_unavailable",
            ErrorCode::ProviderThrottled => "provider_throttled",
            ErrorCode::ProviderTimeout => "provider_timeout",
            ErrorCode::ProviderDenied => "provider_denied",
            ErrorCode::KeyDisabled => "key_disabled",
            ErrorCode::ProviderInvalidResponse => "provider_invalid_response",
            ErrorCode::UsageLimitExceeded => "usage_limit_exceeded",
            ErrorCode::Internal => "internal",
            ErrorCode::Panic => "panic",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.as_i32())
    }
}

/// An mqseal error: a stable code, a message naming the value and the fix, and for
/// [`ErrorCode::BufferTooSmall`] the required size.
///
/// Messages never contain key bytes or plaintext.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
    required_size: Option<usize>,
}

impl Error {
    /// Creates an error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            required_size: None,
        }
    }

    /// Creates a [`ErrorCode::BufferTooSmall`] error that carries the required size.
    pub fn buffer_too_small(required: usize, given: usize) -> Self {
        Error {
            code: ErrorCode::BufferTooSmall,
            message: format!(
                "output buffer of {given} bytes is too small: {required} bytes are required; \
                 allocate at least that many and call again"
            ),
            required_size: Some(required),
        }
    }

    /// Returns the stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// Returns the message: what failed, on which value, and what to do.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Returns true when the same call may succeed later without any change.
    pub fn is_retryable(&self) -> bool {
        self.code.is_retryable()
    }

    /// Returns the required output size of a [`ErrorCode::BufferTooSmall`] error.
    pub fn required_size(&self) -> Option<usize> {
        self.required_size
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidArgument, message)
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidConfig, message)
    }

    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::MalformedEnvelope, message)
    }

    pub(crate) fn truncated(field: &str, offset: usize) -> Self {
        Error::new(
            ErrorCode::TruncatedEnvelope,
            format!("envelope is truncated: it ends inside the {field} field at byte {offset}"),
        )
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Internal, message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("code", &self.code)
            .field("message", &self.message)
            .field("required_size", &self.required_size)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.message, self.code.name())
    }
}

impl std::error::Error for Error {}

/// Quotes `value` for an error message, cut to its first 64 characters. (The `{:.64?}`
/// format does not cut: `Debug` of a string ignores the precision.)
pub(crate) fn quote_short(value: &str) -> String {
    const MAX_CHARS: usize = 64;
    match value.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{:?}...", &value[..cut]),
        None => format!("{value:?}"),
    }
}

/// Result type of mqseal.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_i32() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_i32(code.as_i32()), Some(*code));
        }
        assert_eq!(ErrorCode::from_i32(0), None);
    }

    #[test]
    fn codes_are_sorted_and_unique() {
        let values: Vec<i32> = ErrorCode::ALL.iter().map(|c| c.as_i32()).collect();
        let mut sorted = values.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(values, sorted);
    }

    #[test]
    fn only_provider_transients_are_retryable() {
        let retryable: Vec<ErrorCode> = ErrorCode::ALL
            .iter()
            .copied()
            .filter(|c| c.is_retryable())
            .collect();
        assert_eq!(
            retryable,
            vec![
                ErrorCode::ProviderUnavailable,
                ErrorCode::ProviderThrottled,
                ErrorCode::ProviderTimeout
            ]
        );
    }

    #[test]
    fn quote_short_cuts_long_values() {
        assert_eq!(quote_short("abc"), "\"abc\"");
        let long = "x".repeat(100);
        let quoted = quote_short(&long);
        assert_eq!(quoted, format!("\"{}\"...", "x".repeat(64)));
    }

    #[test]
    fn buffer_too_small_carries_size() {
        let e = Error::buffer_too_small(120, 10);
        assert_eq!(e.code(), ErrorCode::BufferTooSmall);
        assert_eq!(e.required_size(), Some(120));
        assert!(e.message().contains("120"));
    }
}
