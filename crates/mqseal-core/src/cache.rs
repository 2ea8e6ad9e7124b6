//! Data-key caches: the producer's current data key, and the consumer's unwrapped keys.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::clock;

use crate::dek::DerivedKeys;
use crate::error::{Error, ErrorCode, Result};
use crate::fork;
use crate::limits::UsageLimits;

/// The producer's data key with its usage state. Replaced, never reset, when a limit is
/// reached; the old one is dropped (and its keys zeroized) when its last user finishes.
pub(crate) struct ActiveKey {
    pub(crate) keys: Arc<DerivedKeys>,
    /// Magic, version, suite, a zero flag byte, and the wrapped keys.
    pub(crate) prefix: Vec<u8>,
    /// Key id and key version of each wrapped key, in the order of the configured key ids.
    pub(crate) wrapped: Vec<(String, u32)>,
    /// Time of the next rotation check in [`clock::now_millis`] milliseconds; `u64::MAX`
    /// when checks are off.
    next_rotation_check: AtomicU64,
    fork_generation: u64,
    /// Expiry time in [`clock::now_millis`] milliseconds.
    expires: u64,
    max_messages: u64,
    max_bytes: u64,
    next_sequence: AtomicU64,
    bytes: AtomicU64,
}

impl ActiveKey {
    pub(crate) fn new(
        keys: Arc<DerivedKeys>,
        prefix: Vec<u8>,
        wrapped: Vec<(String, u32)>,
        limits: &UsageLimits,
        rotation_check: Duration,
    ) -> Self {
        let next_check = if rotation_check.is_zero() {
            u64::MAX
        } else {
            clock::now_millis().saturating_add(clock::millis(rotation_check))
        };
        ActiveKey {
            keys,
            prefix,
            wrapped,
            next_rotation_check: AtomicU64::new(next_check),
            fork_generation: fork::generation(),
            expires: clock::now_millis().saturating_add(clock::millis(limits.max_age)),
            max_messages: limits.max_messages,
            max_bytes: limits.max_bytes,
            next_sequence: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// Reserves a sequence number for a message of `len` plaintext bytes, or returns
    /// `None` when this key is exhausted, expired, or inherited across `fork()`.
    ///
    /// Each call takes a fresh number from an atomic counter, so no two messages under
    /// this key get the same nonce, whatever the number of threads.
    pub(crate) fn reserve(&self, len: u64) -> Option<u32> {
        if self.fork_generation != fork::generation() || clock::now_millis() >= self.expires {
            return None;
        }
        let sequence = self.next_sequence.fetch_add(1, Ordering::Relaxed);
        if sequence >= self.max_messages {
            return None;
        }
        let total = self
            .bytes
            .fetch_add(len, Ordering::Relaxed)
            .saturating_add(len);
        if total > self.max_bytes {
            return None;
        }
        u32::try_from(sequence).ok()
    }

    /// Returns true for exactly one caller once the rotation check is due, and moves the
    /// next check `interval` later.
    pub(crate) fn claim_rotation_check(&self, interval: Duration) -> bool {
        let due = self.next_rotation_check.load(Ordering::Relaxed);
        let now = clock::now_millis();
        if now < due {
            return false;
        }
        let next = now.saturating_add(clock::millis(interval));
        self.next_rotation_check
            .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    /// Marks the key as used up so the next reservation replaces it.
    pub(crate) fn retire(&self) {
        self.next_sequence.store(u64::MAX / 2, Ordering::Relaxed);
    }
}

/// The producer's slot for its current data key, with single-flight replacement.
#[derive(Default)]
pub(crate) struct ProducerSlot {
    current: RwLock<Option<Arc<ActiveKey>>>,
    refresh: Mutex<()>,
}

impl ProducerSlot {
    pub(crate) fn current(&self) -> Option<Arc<ActiveKey>> {
        self.current.read().ok().and_then(|g| g.clone())
    }

    /// Replaces `stale` with a key made by `create`, unless another thread replaced it
    /// first. Only one thread calls `create` at a time; the others wait and then use its
    /// result. A failure is returned to the caller and not cached.
    pub(crate) fn replace(
        &self,
        stale: Option<&Arc<ActiveKey>>,
        create: impl FnOnce() -> Result<ActiveKey>,
    ) -> Result<()> {
        // TODO: any cache lock (this one, the slot and consumer-cache locks, the keyring's)
        // held by another thread at fork() stays held in the child, which then blocks when
        // it takes it. The Python binding waits for running calls at fork; C and Java callers
        // must not fork while other threads use a cipher until the child gets fresh locks.
        let _guard = self
            .refresh
            .lock()
            .map_err(|_| Error::internal("producer key lock poisoned"))?;
        let now = self.current();
        let replaced = match (&now, stale) {
            (Some(n), Some(s)) => !Arc::ptr_eq(n, s),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if replaced {
            return Ok(());
        }
        let fresh = Arc::new(create()?);
        *self
            .current
            .write()
            .map_err(|_| Error::internal("producer key lock poisoned"))? = Some(fresh);
        Ok(())
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut g) = self.current.write() {
            *g = None;
        }
    }
}

struct Entry {
    keys: Arc<DerivedKeys>,
    /// Insertion time in [`clock::now_millis`] milliseconds.
    inserted: u64,
    last_used: AtomicU64,
}

/// Unwrapped data keys of the consumer side, keyed by suite, key id, key version and
/// wrapped key. Bounded by `capacity` (least recently used entry evicted) and by `ttl`.
pub(crate) struct ConsumerCache {
    entries: RwLock<HashMap<Vec<u8>, Entry>>,
    in_flight: Mutex<HashMap<Vec<u8>, Arc<Mutex<()>>>>,
    capacity: usize,
    /// Time to live in milliseconds.
    ttl: u64,
    clock: AtomicU64,
}

impl ConsumerCache {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        ConsumerCache {
            entries: RwLock::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            capacity,
            ttl: clock::millis(ttl),
            clock: AtomicU64::new(0),
        }
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<Arc<DerivedKeys>> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(key)?;
        if clock::now_millis().saturating_sub(entry.inserted) >= self.ttl {
            return None;
        }
        entry.last_used.store(
            self.clock.fetch_add(1, Ordering::Relaxed),
            Ordering::Relaxed,
        );
        Some(entry.keys.clone())
    }

    pub(crate) fn insert(&self, key: Vec<u8>, keys: Arc<DerivedKeys>) {
        if self.capacity == 0 {
            return;
        }
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        let (ttl, now) = (self.ttl, clock::now_millis());
        entries.retain(|_, e| now.saturating_sub(e.inserted) < ttl);
        while entries.len() >= self.capacity && !entries.contains_key(&key) {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.last_used.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    entries.remove(&k);
                }
                None => break,
            }
        }
        let tick = self.clock.fetch_add(1, Ordering::Relaxed);
        entries.insert(
            key,
            Entry {
                keys,
                inserted: clock::now_millis(),
                last_used: AtomicU64::new(tick),
            },
        );
    }

    /// Returns the cached keys for `key`, or runs `load` with no other thread loading the
    /// same key at the same time; threads that waited then find the loaded entry.
    /// Returns the keys and whether they came from the cache.
    pub(crate) fn get_or_load(
        &self,
        key: &[u8],
        load: impl FnOnce() -> Result<DerivedKeys>,
    ) -> Result<(Arc<DerivedKeys>, bool)> {
        if let Some(found) = self.get(key) {
            return Ok((found, true));
        }
        let gate = {
            let mut flights = self
                .in_flight
                .lock()
                .map_err(|_| Error::internal("key cache lock poisoned"))?;
            flights.entry(key.to_vec()).or_default().clone()
        };
        let result = {
            let _turn = gate
                .lock()
                .map_err(|_| Error::internal("key cache lock poisoned"))?;
            if let Some(found) = self.get(key) {
                Ok((found, true))
            } else {
                load().map(|keys| {
                    let keys = Arc::new(keys);
                    self.insert(key.to_vec(), keys.clone());
                    (keys, false)
                })
            }
        };
        if let Ok(mut flights) = self.in_flight.lock() {
            // Drop the gate once no other thread holds a reference to it.
            if flights.get(key).is_some_and(|g| Arc::strong_count(g) <= 2) {
                flights.remove(key);
            }
        }
        result
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut e) = self.entries.write() {
            e.clear();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.read().map(|e| e.len()).unwrap_or(0)
    }
}

/// Most wrapped keys the negative cache remembers; the entry closest to expiry goes first.
const NEGATIVE_CAPACITY: usize = 1024;

/// Wrapped keys whose unwrap gave unusable key material, with the error, so that a
/// consumer does not ask the provider again for every message that carries them.
pub(crate) struct NegativeCache {
    entries: Mutex<HashMap<Vec<u8>, (u64, Error)>>,
    /// Time to live in milliseconds; 0 disables the cache.
    ttl: u64,
}

impl NegativeCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        NegativeCache {
            entries: Mutex::new(HashMap::new()),
            ttl: clock::millis(ttl),
        }
    }

    /// Returns true for errors that the same wrapped key would give again: key material
    /// of the wrong length, a failed key commitment or a failed unwrap check.
    pub(crate) fn applies_to(error: &Error) -> bool {
        matches!(
            error.code(),
            ErrorCode::ProviderInvalidResponse
                | ErrorCode::KeyCommitmentMismatch
                | ErrorCode::AuthenticationFailed
        )
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<Error> {
        if self.ttl == 0 {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        let (expires, error) = entries.get(key)?;
        (clock::now_millis() < *expires).then(|| error.clone())
    }

    pub(crate) fn insert(&self, key: &[u8], error: &Error) {
        if self.ttl == 0 {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let now = clock::now_millis();
        entries.retain(|_, (expires, _)| now < *expires);
        if entries.len() >= NEGATIVE_CAPACITY
            && let Some(first) = entries
                .iter()
                .min_by_key(|(_, (expires, _))| *expires)
                .map(|(k, _)| k.clone())
        {
            entries.remove(&first);
        }
        let message = format!(
            "{} (remembered for up to {} s: the provider is not asked again for this wrapped key \
             before cache.negative_ttl_seconds pass)",
            error.message(),
            self.ttl / 1000
        );
        entries.insert(
            key.to_vec(),
            (
                now.saturating_add(self.ttl),
                Error::new(error.code(), message),
            ),
        );
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut e) = self.entries.lock() {
            e.clear();
        }
    }
}
