//! Operation counters, readable through every API.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) encrypted: AtomicU64,
    pub(crate) decrypted: AtomicU64,
    pub(crate) decrypt_failures: AtomicU64,
    pub(crate) cache_hits: AtomicU64,
    pub(crate) cache_misses: AtomicU64,
    pub(crate) provider_calls: AtomicU64,
    pub(crate) provider_failures: AtomicU64,
    pub(crate) data_keys_created: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> CounterSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterSnapshot {
            encrypted: get(&self.encrypted),
            decrypted: get(&self.decrypted),
            decrypt_failures: get(&self.decrypt_failures),
            cache_hits: get(&self.cache_hits),
            cache_misses: get(&self.cache_misses),
            provider_calls: get(&self.provider_calls),
            provider_failures: get(&self.provider_failures),
            data_keys_created: get(&self.data_keys_created),
        }
    }
}

/// A point-in-time copy of a cipher's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Messages encrypted.
    pub encrypted: u64,
    /// Messages decrypted.
    pub decrypted: u64,
    /// Decryptions that failed, for any reason.
    pub decrypt_failures: u64,
    /// Data-key lookups served from the cache (producer and consumer).
    pub cache_hits: u64,
    /// Data-key lookups that needed the provider (producer and consumer).
    pub cache_misses: u64,
    /// Calls to key providers (generate, wrap, unwrap).
    pub provider_calls: u64,
    /// Provider calls that failed.
    pub provider_failures: u64,
    /// Data keys created for encryption.
    pub data_keys_created: u64,
}

impl CounterSnapshot {
    /// Returns the counters as (name, value) pairs in a fixed order, for bindings.
    pub fn fields(&self) -> [(&'static str, u64); 8] {
        [
            ("encrypted", self.encrypted),
            ("decrypted", self.decrypted),
            ("decrypt_failures", self.decrypt_failures),
            ("cache_hits", self.cache_hits),
            ("cache_misses", self.cache_misses),
            ("provider_calls", self.provider_calls),
            ("provider_failures", self.provider_failures),
            ("data_keys_created", self.data_keys_created),
        ]
    }
}
