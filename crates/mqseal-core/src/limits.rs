//! Usage limits of one data key, with hard caps derived from the AEAD's bounds.

use std::time::Duration;

use crate::error::{Error, Result};

/// Hard cap on messages per data key: the sequence number that forms the nonce is 32
/// bits wide, so a data key can never seal more than 2^32 messages.
pub const HARD_MAX_MESSAGES: u64 = 1 << 32;

/// Hard cap on plaintext bytes per data key: 2^40 bytes (2^36 AES blocks). For AES-GCM
/// the confidentiality advantage after σ blocks and q messages is about (σ + q)² / 2^129
/// (Luykx and Paterson, "Limits on Authenticated Encryption Use in TLS", and the CFRG
/// draft "Usage Limits on AEAD Algorithms"), which stays near 2^-57 at this cap.
pub const HARD_MAX_BYTES: u64 = 1 << 40;

/// Default messages per data key: 2^24.
pub const DEFAULT_MAX_MESSAGES: u64 = 1 << 24;
/// Default plaintext bytes per data key: 2^36 (64 GiB), an AES-GCM advantage near 2^-65.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 36;
/// Default lifetime of a data key on the producer side: one hour.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);

/// Limits after which the producer replaces its data key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageLimits {
    /// Messages sealed under one data key.
    pub max_messages: u64,
    /// Plaintext bytes sealed under one data key (after compression and sealed properties).
    pub max_bytes: u64,
    /// Time from the creation of a data key to its last use for sealing.
    pub max_age: Duration,
}

impl Default for UsageLimits {
    fn default() -> Self {
        UsageLimits {
            max_messages: DEFAULT_MAX_MESSAGES,
            max_bytes: DEFAULT_MAX_BYTES,
            max_age: DEFAULT_MAX_AGE,
        }
    }
}

impl UsageLimits {
    /// Checks every limit is positive and within its hard cap.
    pub fn validate(&self) -> Result<()> {
        if self.max_messages == 0 || self.max_messages > HARD_MAX_MESSAGES {
            return Err(Error::config(format!(
                "limits.max_messages = {} is outside 1..={HARD_MAX_MESSAGES}",
                self.max_messages
            )));
        }
        if self.max_bytes == 0 || self.max_bytes > HARD_MAX_BYTES {
            return Err(Error::config(format!(
                "limits.max_bytes = {} is outside 1..={HARD_MAX_BYTES}",
                self.max_bytes
            )));
        }
        if self.max_age.is_zero() {
            return Err(Error::config("limits.max_age_seconds must be positive"));
        }
        Ok(())
    }
}
