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
    pub(crate) provider_attempts: AtomicU64,
    pub(crate) provider_retries: AtomicU64,
    pub(crate) provider_transient_failures: AtomicU64,
    pub(crate) provider_permanent_failures: AtomicU64,
    pub(crate) provider_latency_us_total: AtomicU64,
    pub(crate) provider_latency_us_max: AtomicU64,
    pub(crate) breaker_opens: AtomicU64,
    pub(crate) breaker_rejections: AtomicU64,
    pub(crate) negative_cache_hits: AtomicU64,
    pub(crate) rotations: AtomicU64,
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
            provider_attempts: get(&self.provider_attempts),
            provider_retries: get(&self.provider_retries),
            provider_transient_failures: get(&self.provider_transient_failures),
            provider_permanent_failures: get(&self.provider_permanent_failures),
            provider_latency_us_total: get(&self.provider_latency_us_total),
            provider_latency_us_max: get(&self.provider_latency_us_max),
            breaker_opens: get(&self.breaker_opens),
            breaker_rejections: get(&self.breaker_rejections),
            negative_cache_hits: get(&self.negative_cache_hits),
            rotations: get(&self.rotations),
        }
    }
}

/// Number of fields of [`CounterSnapshot`], as [`CounterSnapshot::fields`] returns them.
pub const COUNTER_FIELDS: usize = 18;

/// A point-in-time copy of a cipher's counters.
///
/// `provider_calls` and `provider_failures` count the calls the cipher makes, each with
/// its retries; the `provider_attempts` to `breaker_rejections` fields count what the
/// resilience layer sends to the providers.
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
    /// Calls to key providers (generate, wrap, unwrap), each counted once whatever its
    /// retries.
    pub provider_calls: u64,
    /// Provider calls that failed after their retries.
    pub provider_failures: u64,
    /// Data keys created for encryption.
    pub data_keys_created: u64,
    /// Requests sent to key providers, retries and rotation checks included.
    pub provider_attempts: u64,
    /// Retries of transiently failed requests.
    pub provider_retries: u64,
    /// Requests that failed transiently (unavailable, throttled, timed out).
    pub provider_transient_failures: u64,
    /// Requests that failed permanently (denied, disabled, not found, invalid).
    pub provider_permanent_failures: u64,
    /// Total time of provider requests, in microseconds.
    pub provider_latency_us_total: u64,
    /// Maximum time of one provider request, in microseconds.
    pub provider_latency_us_max: u64,
    /// Times a provider's circuit breaker opened.
    pub breaker_opens: u64,
    /// Calls rejected at once because a circuit breaker was open.
    pub breaker_rejections: u64,
    /// Unwraps served from the negative cache of unusable wrapped keys.
    pub negative_cache_hits: u64,
    /// Producer data keys replaced because a rotation check found a new primary KEK.
    pub rotations: u64,
}

impl CounterSnapshot {
    /// Returns the counters as (name, value) pairs in a fixed order, for bindings. New
    /// counters are only ever appended.
    pub fn fields(&self) -> [(&'static str, u64); COUNTER_FIELDS] {
        [
            ("encrypted", self.encrypted),
            ("decrypted", self.decrypted),
            ("decrypt_failures", self.decrypt_failures),
            ("cache_hits", self.cache_hits),
            ("cache_misses", self.cache_misses),
            ("provider_calls", self.provider_calls),
            ("provider_failures", self.provider_failures),
            ("data_keys_created", self.data_keys_created),
            ("provider_attempts", self.provider_attempts),
            ("provider_retries", self.provider_retries),
            (
                "provider_transient_failures",
                self.provider_transient_failures,
            ),
            (
                "provider_permanent_failures",
                self.provider_permanent_failures,
            ),
            ("provider_latency_us_total", self.provider_latency_us_total),
            ("provider_latency_us_max", self.provider_latency_us_max),
            ("breaker_opens", self.breaker_opens),
            ("breaker_rejections", self.breaker_rejections),
            ("negative_cache_hits", self.negative_cache_hits),
            ("rotations", self.rotations),
        ]
    }
}
