//! mqseal-core: envelope encryption of Apache RocketMQ message bodies.
//!
//! A [`Cipher`] seals a message body into a self-describing envelope: a random 256-bit
//! data key (DEK) encrypts the body with AES-256-GCM or ChaCha20-Poly1305, and a key
//! provider's key-encryption key (KEK) wraps the DEK into the envelope header. The
//! consumer needs only the envelope and its own key provider.
//!
//! The byte layout is specified in `docs/FORMAT.md`. This crate never logs; bindings
//! decide where logs go.

#![deny(missing_docs)]

mod attrs;
mod buf;
mod cache;
mod cipher;
mod clock;
pub mod config;
mod counters;
mod dek;
pub mod envelope;
mod error;
mod fork;
mod limits;
pub mod properties;
pub mod provider;
mod suite;

pub use attrs::{Attributes, Context, Properties};
pub use cipher::{
    Cipher, CipherConfig, DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_TTL, DEFAULT_COMPRESSION_MIN_SIZE,
    DEFAULT_MAX_BODY_LEN, DEFAULT_ROTATION_CHECK, DecryptInfo, Decrypted, EncryptOptions,
    MAX_BODY_LEN,
};
pub use counters::{COUNTER_FIELDS, CounterSnapshot};
pub use dek::{COMMITMENT_LEN, DataKey, WrappedKey};
pub use envelope::{Envelope, EnvelopeInfo, looks_encrypted};
pub use error::{Error, ErrorCode, Result};
pub use limits::{
    DEFAULT_MAX_AGE, DEFAULT_MAX_BYTES, DEFAULT_MAX_MESSAGES, HARD_MAX_BYTES, HARD_MAX_MESSAGES,
    UsageLimits,
};
pub use provider::{CallbackProvider, KeyProvider, LocalKeyring, ResilienceConfig};
pub use suite::{Backend, KEY_LEN, NONCE_LEN, Suite, TAG_LEN};

/// Version of this crate, as in `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
