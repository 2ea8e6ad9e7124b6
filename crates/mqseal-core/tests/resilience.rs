//! The resilience layer seen through a cipher: outages, the circuit breaker, the
//! negative cache, and rotation checks against a keyring file.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use mqseal_core::provider::KeyringFile;
use mqseal_core::{
    Cipher, CipherConfig, DataKey, EncryptOptions, Error, ErrorCode, KeyProvider, LocalKeyring,
    ResilienceConfig, WrappedKey,
};

use common::keyring;

const HEALTHY: u8 = 0;
const DOWN: u8 = 1;
const SHORT_KEY: u8 = 2;

/// A keyring provider whose faults the test switches on and off.
struct Faulty {
    ring: LocalKeyring,
    mode: AtomicU8,
    calls: AtomicUsize,
}

impl Faulty {
    fn new(ring: KeyringFile) -> Arc<Faulty> {
        Arc::new(Faulty {
            ring: LocalKeyring::from_file(ring),
            mode: AtomicU8::new(HEALTHY),
            calls: AtomicUsize::new(0),
        })
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn fault(&self) -> mqseal_core::Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.mode.load(Ordering::SeqCst) {
            DOWN => Err(Error::new(
                ErrorCode::ProviderUnavailable,
                "test provider is down",
            )),
            _ => Ok(()),
        }
    }
}

impl KeyProvider for Faulty {
    fn kind(&self) -> &str {
        "faulty"
    }
    fn recognizes(&self, key_id: &str) -> bool {
        self.ring.recognizes(key_id)
    }
    fn wrap(&self, key_id: &str, dek: &DataKey) -> mqseal_core::Result<WrappedKey> {
        self.fault()?;
        self.ring.wrap(key_id, dek)
    }
    fn unwrap(&self, wrapped: &WrappedKey) -> mqseal_core::Result<DataKey> {
        self.fault()?;
        if self.mode.load(Ordering::SeqCst) == SHORT_KEY {
            return DataKey::from_slice(&[0u8; 16]);
        }
        self.ring.unwrap(wrapped)
    }
}

fn fast_resilience(breaker_threshold: u32) -> ResilienceConfig {
    ResilienceConfig {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
        deadline: Duration::from_secs(30),
        breaker_threshold,
        breaker_open: Duration::from_secs(3600),
        negative_ttl: Duration::from_secs(3600),
    }
}

fn cipher(provider: &Arc<Faulty>, resilience: ResilienceConfig) -> Cipher {
    let config = CipherConfig {
        key_ids: vec!["k".into()],
        resilience,
        ..CipherConfig::default()
    };
    Cipher::new(config, vec![provider.clone() as Arc<dyn KeyProvider>]).expect("cipher")
}

#[test]
fn outage_spares_cached_data_keys() {
    let provider = Faulty::new(keyring("k"));
    let producer = cipher(&provider, fast_resilience(2));
    let consumer = cipher(&provider, fast_resilience(2));
    let first = producer
        .encrypt(b"before", &EncryptOptions::default())
        .expect("encrypt");
    consumer.decrypt(&first, None).expect("decrypt");

    provider.set(DOWN);
    let during = producer
        .encrypt(b"during", &EncryptOptions::default())
        .expect("the producer's cached data key still encrypts");
    assert_eq!(
        consumer.decrypt(&during, None).expect("cached key").body,
        b"during"
    );

    let fresh = cipher(&provider, fast_resilience(2));
    for _ in 0..2 {
        let e = fresh.decrypt(&during, None).expect_err("provider down");
        assert_eq!(e.code(), ErrorCode::ProviderUnavailable);
        assert!(e.message().contains("2 attempts"), "{}", e.message());
    }
    let calls_before = provider.calls();
    let e = fresh.decrypt(&during, None).expect_err("breaker open");
    assert!(e.is_retryable());
    assert!(e.message().contains("circuit breaker"), "{}", e.message());
    assert_eq!(
        provider.calls(),
        calls_before,
        "the open breaker sent nothing"
    );

    let s = fresh.counters();
    assert_eq!(s.provider_calls, 3);
    assert_eq!(s.provider_failures, 3);
    assert_eq!(s.provider_attempts, 4);
    assert_eq!(s.provider_retries, 2);
    assert_eq!(s.provider_transient_failures, 4);
    assert_eq!(s.breaker_opens, 1);
    assert_eq!(s.breaker_rejections, 1);
}

#[test]
fn unusable_key_material_is_not_requested_again() {
    let provider = Faulty::new(keyring("k"));
    let producer = cipher(&provider, fast_resilience(0));
    let consumer = cipher(&provider, fast_resilience(0));
    let env = producer
        .encrypt(b"body", &EncryptOptions::default())
        .expect("encrypt");
    provider.set(SHORT_KEY);
    let calls_before = provider.calls();
    let first = consumer.decrypt(&env, None).expect_err("16-byte key");
    assert_eq!(first.code(), ErrorCode::ProviderInvalidResponse);
    assert_eq!(provider.calls(), calls_before + 1);
    for _ in 0..3 {
        let again = consumer.decrypt(&env, None).expect_err("remembered");
        assert_eq!(again.code(), ErrorCode::ProviderInvalidResponse);
        assert!(
            again.message().contains("cache.negative_ttl_seconds"),
            "{}",
            again.message()
        );
    }
    assert_eq!(provider.calls(), calls_before + 1, "asked only once");
    assert_eq!(consumer.counters().negative_cache_hits, 3);

    provider.set(HEALTHY);
    consumer.clear_caches();
    assert_eq!(consumer.decrypt(&env, None).expect("decrypt").body, b"body");
}

fn file_keyring(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("ring");
    LocalKeyring::generate_in_file(&path, "k").expect("create keyring");
    path
}

fn file_cipher(path: &std::path::Path, rotation_check: Duration) -> Cipher {
    let config = CipherConfig {
        key_ids: vec!["k".into()],
        rotation_check,
        ..CipherConfig::default()
    };
    let ring: Arc<dyn KeyProvider> = Arc::new(LocalKeyring::open(path).expect("open"));
    Cipher::new(config, vec![ring]).expect("cipher")
}

fn version_of(cipher: &Cipher, env: &[u8]) -> u32 {
    cipher.decrypt(env, None).expect("decrypt").info.key_version
}

#[test]
fn rotation_check_applies_a_new_keyring_version() {
    let dir = tempdir("check");
    let path = file_keyring(&dir);
    let producer = file_cipher(&path, Duration::from_millis(1));
    let old = producer
        .encrypt(b"v1", &EncryptOptions::default())
        .expect("encrypt");
    assert_eq!(version_of(&producer, &old), 1);

    LocalKeyring::rotate_in_file(&path, "k").expect("rotate");
    std::thread::sleep(Duration::from_millis(20));
    let new = producer
        .encrypt(b"v2", &EncryptOptions::default())
        .expect("encrypt");
    assert_eq!(version_of(&producer, &new), 2);
    assert_eq!(producer.counters().rotations, 1);

    let consumer = file_cipher(&path, Duration::ZERO);
    assert_eq!(consumer.decrypt(&old, None).expect("v1").body, b"v1");
    assert_eq!(consumer.decrypt(&new, None).expect("v2").body, b"v2");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn rotate_call_reloads_the_keyring_file() {
    let dir = tempdir("rotate");
    let path = file_keyring(&dir);
    let producer = file_cipher(&path, Duration::ZERO);
    let old = producer
        .encrypt(b"v1", &EncryptOptions::default())
        .expect("encrypt");
    LocalKeyring::rotate_in_file(&path, "k").expect("rotate");
    let same = producer
        .encrypt(b"v1 again", &EncryptOptions::default())
        .expect("encrypt");
    assert_eq!(version_of(&producer, &same), 1, "no check without rotate");

    producer.rotate();
    let new = producer
        .encrypt(b"v2", &EncryptOptions::default())
        .expect("encrypt");
    assert_eq!(version_of(&producer, &new), 2);
    assert_eq!(version_of(&producer, &old), 1);

    let rewrapped = producer.rewrap(&old).expect("rewrap");
    assert_eq!(version_of(&producer, &rewrapped), 2);
    assert_eq!(
        producer.decrypt(&rewrapped, None).expect("decrypt").body,
        b"v1"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mqseal-resilience-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}
