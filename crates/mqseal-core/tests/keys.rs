//! Key cache behaviour: single-flight, usage limits, rotation, concurrency, fork.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use mqseal_core::provider::KeyringFile;
use mqseal_core::{
    Cipher, CipherConfig, DataKey, EncryptOptions, Error, ErrorCode, KeyProvider, LocalKeyring,
    UsageLimits, WrappedKey,
};

use common::{keyring, topic};

/// A keyring provider that counts calls and can be made to fail.
struct Counting {
    ring: LocalKeyring,
    wraps: AtomicUsize,
    unwraps: AtomicUsize,
    delay: Duration,
    fail_unwrap: std::sync::atomic::AtomicBool,
}

impl Counting {
    fn new(ring: KeyringFile, delay: Duration) -> Arc<Counting> {
        Arc::new(Counting {
            ring: LocalKeyring::from_file(ring),
            wraps: AtomicUsize::new(0),
            unwraps: AtomicUsize::new(0),
            delay,
            fail_unwrap: false.into(),
        })
    }
}

impl KeyProvider for Counting {
    fn kind(&self) -> &str {
        "counting"
    }
    fn recognizes(&self, key_id: &str) -> bool {
        self.ring.recognizes(key_id)
    }
    fn wrap(&self, key_id: &str, dek: &DataKey) -> mqseal_core::Result<WrappedKey> {
        self.wraps.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        self.ring.wrap(key_id, dek)
    }
    fn unwrap(&self, wrapped: &WrappedKey) -> mqseal_core::Result<DataKey> {
        self.unwraps.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        if self.fail_unwrap.load(Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::ProviderUnavailable,
                "test provider is down",
            ));
        }
        self.ring.unwrap(wrapped)
    }
}

fn cipher(provider: Arc<Counting>, limits: UsageLimits, cache_capacity: usize) -> Cipher {
    let config = CipherConfig {
        key_ids: vec!["k".into()],
        limits,
        cache_capacity,
        ..CipherConfig::default()
    };
    Cipher::new(config, vec![provider as Arc<dyn KeyProvider>]).expect("cipher")
}

#[test]
fn cold_cache_costs_one_provider_call_for_many_threads() {
    let provider = Counting::new(keyring("k"), Duration::from_millis(50));
    let c = cipher(provider.clone(), UsageLimits::default(), 16);
    let threads = 16;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let c = c.clone();
            let b = barrier.clone();
            std::thread::spawn(move || {
                b.wait();
                c.encrypt(
                    format!("message {i}").as_bytes(),
                    &EncryptOptions::default(),
                )
                .expect("encrypt")
            })
        })
        .collect();
    let envelopes: Vec<Vec<u8>> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    assert_eq!(provider.wraps.load(Ordering::SeqCst), 1);
    assert_eq!(c.counters().data_keys_created, 1);

    // A fresh consumer decrypting from many threads unwraps the data key once.
    let consumer = cipher(provider.clone(), UsageLimits::default(), 16);
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = envelopes
        .into_iter()
        .map(|env| {
            let c = consumer.clone();
            let b = barrier.clone();
            std::thread::spawn(move || {
                b.wait();
                c.decrypt(&env, None).expect("decrypt")
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    assert_eq!(provider.unwraps.load(Ordering::SeqCst), 1);
}

#[test]
fn message_limit_renews_the_data_key() {
    let provider = Counting::new(keyring("k"), Duration::ZERO);
    let limits = UsageLimits {
        max_messages: 3,
        ..UsageLimits::default()
    };
    let c = cipher(provider.clone(), limits, 16);
    let mut sequences = Vec::new();
    for _ in 0..7 {
        let env = c
            .encrypt(b"x", &EncryptOptions::default())
            .expect("encrypt");
        sequences.push(mqseal_core::Envelope::parse(&env).expect("parse").sequence);
    }
    assert_eq!(sequences, vec![0, 1, 2, 0, 1, 2, 0]);
    assert_eq!(provider.wraps.load(Ordering::SeqCst), 3);
}

#[test]
fn byte_and_age_limits_renew_the_data_key() {
    let provider = Counting::new(keyring("k"), Duration::ZERO);
    let limits = UsageLimits {
        max_bytes: 100,
        ..UsageLimits::default()
    };
    let c = cipher(provider.clone(), limits, 16);
    for _ in 0..3 {
        c.encrypt(&[0u8; 60], &EncryptOptions::default())
            .expect("encrypt");
    }
    assert_eq!(provider.wraps.load(Ordering::SeqCst), 3);
    let e = c
        .encrypt(&[0u8; 101], &EncryptOptions::default())
        .expect_err("over the byte limit");
    assert_eq!(e.code(), ErrorCode::UsageLimitExceeded);

    let provider = Counting::new(keyring("k"), Duration::ZERO);
    let limits = UsageLimits {
        max_age: Duration::from_millis(50),
        ..UsageLimits::default()
    };
    let c = cipher(provider.clone(), limits, 16);
    c.encrypt(b"a", &EncryptOptions::default())
        .expect("encrypt");
    c.encrypt(b"b", &EncryptOptions::default())
        .expect("encrypt");
    std::thread::sleep(Duration::from_millis(80));
    c.encrypt(b"c", &EncryptOptions::default())
        .expect("encrypt");
    assert_eq!(provider.wraps.load(Ordering::SeqCst), 2);
}

#[test]
fn limits_above_the_hard_cap_are_rejected() {
    let provider = Counting::new(keyring("k"), Duration::ZERO);
    for limits in [
        UsageLimits {
            max_messages: mqseal_core::HARD_MAX_MESSAGES + 1,
            ..UsageLimits::default()
        },
        UsageLimits {
            max_bytes: mqseal_core::HARD_MAX_BYTES + 1,
            ..UsageLimits::default()
        },
        UsageLimits {
            max_messages: 0,
            ..UsageLimits::default()
        },
    ] {
        let config = CipherConfig {
            key_ids: vec!["k".into()],
            limits,
            ..CipherConfig::default()
        };
        let err = Cipher::new(config, vec![provider.clone() as Arc<dyn KeyProvider>])
            .expect_err("over cap");
        assert_eq!(err.code(), ErrorCode::InvalidConfig);
    }
}

#[test]
fn provider_failures_are_not_cached() {
    let provider = Counting::new(keyring("k"), Duration::ZERO);
    let producer = cipher(provider.clone(), UsageLimits::default(), 16);
    let env = producer
        .encrypt(b"body", &EncryptOptions::default())
        .expect("encrypt");
    let consumer = cipher(provider.clone(), UsageLimits::default(), 16);
    provider.fail_unwrap.store(true, Ordering::SeqCst);
    let err = consumer.decrypt(&env, None).expect_err("provider down");
    assert_eq!(err.code(), ErrorCode::ProviderUnavailable);
    assert!(err.is_retryable());
    provider.fail_unwrap.store(false, Ordering::SeqCst);
    assert_eq!(
        consumer.decrypt(&env, None).expect("provider back").body,
        b"body"
    );
    let counters = consumer.counters();
    assert_eq!(counters.provider_failures, 1);
    assert_eq!(counters.provider_calls, 2);
    assert_eq!(counters.decrypt_failures, 1);
}

#[test]
fn rotation_uses_the_new_version_and_old_versions_still_decrypt() {
    let mut ring = keyring("k");
    let provider_v1 = Counting::new(ring.clone(), Duration::ZERO);
    let c1 = cipher(provider_v1, UsageLimits::default(), 16);
    let old = c1
        .encrypt(b"old", &EncryptOptions::default())
        .expect("encrypt");
    ring.rotate("k").expect("rotate");
    let provider_v2 = Counting::new(ring, Duration::ZERO);
    let c2 = cipher(provider_v2, UsageLimits::default(), 16);
    let new = c2
        .encrypt(b"new", &EncryptOptions::default())
        .expect("encrypt");
    assert_eq!(
        mqseal_core::Envelope::parse(&new).expect("parse").keys[0].key_version,
        2
    );
    assert_eq!(c2.decrypt(&old, None).expect("old version").body, b"old");
    let err = c1.decrypt(&new, None).expect_err("v1-only keyring");
    assert_eq!(err.code(), ErrorCode::KeyVersionNotFound);

    // Rewrap moves the old envelope to version 2 without touching its payload.
    let rewrapped = c2.rewrap(&old).expect("rewrap");
    let before = mqseal_core::Envelope::parse(&old).expect("parse");
    let after = mqseal_core::Envelope::parse(&rewrapped).expect("parse");
    assert_eq!(after.keys[0].key_version, 2);
    assert_eq!(before.ciphertext, after.ciphertext);
    assert_eq!(before.tag, after.tag);
    assert_eq!(
        c2.decrypt(&rewrapped, None).expect("rewrapped").body,
        b"old"
    );
}

#[test]
fn rotate_call_switches_data_key_at_once() {
    let provider = Counting::new(keyring("k"), Duration::ZERO);
    let c = cipher(provider.clone(), UsageLimits::default(), 16);
    c.encrypt(b"a", &EncryptOptions::default())
        .expect("encrypt");
    c.rotate();
    c.encrypt(b"b", &EncryptOptions::default())
        .expect("encrypt");
    assert_eq!(provider.wraps.load(Ordering::SeqCst), 2);
}

#[test]
fn many_threads_with_tiny_cache_produce_only_decryptable_envelopes() {
    let provider = Counting::new(keyring("k"), Duration::ZERO);
    let limits = UsageLimits {
        max_messages: 5,
        ..UsageLimits::default()
    };
    let c = cipher(provider, limits, 1);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut seen = std::collections::HashSet::new();
                for i in 0..400 {
                    let body = format!("thread {t} message {i}");
                    let ctx = topic(&format!("topic-{t}"));
                    let env = c
                        .encrypt(
                            body.as_bytes(),
                            &EncryptOptions {
                                context: Some(&ctx),
                                properties: None,
                            },
                        )
                        .expect("encrypt");
                    let parsed = mqseal_core::Envelope::parse(&env).expect("parse");
                    // (wrapped key, sequence) identifies the (key, nonce) pair: it must be unique.
                    assert!(seen.insert((parsed.keys[0].wrapped.to_vec(), parsed.sequence)));
                    let out = c.decrypt(&env, Some(&ctx)).expect("decrypt");
                    assert_eq!(out.body, body.as_bytes());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    let counters = c.counters();
    assert_eq!(counters.encrypted, 3200);
    assert_eq!(counters.decrypted, 3200);
    assert!(counters.data_keys_created >= 640, "{counters:?}");
}

#[test]
fn nonce_pairs_are_unique_across_threads() {
    let provider = Counting::new(keyring("k"), Duration::ZERO);
    let limits = UsageLimits {
        max_messages: 50,
        ..UsageLimits::default()
    };
    let c = cipher(provider, limits, 4);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                (0..2000)
                    .map(|_| {
                        let env = c
                            .encrypt(b"n", &EncryptOptions::default())
                            .expect("encrypt");
                        let p = mqseal_core::Envelope::parse(&env).expect("parse");
                        (p.keys[0].wrapped.to_vec(), p.sequence)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all = std::collections::HashSet::new();
    for h in handles {
        for pair in h.join().expect("thread") {
            assert!(all.insert(pair), "a (data key, nonce) pair repeated");
        }
    }
    assert_eq!(all.len(), 8000);
}

#[cfg(unix)]
#[test]
fn forked_child_uses_a_new_data_key() {
    let provider = Counting::new(keyring("k"), Duration::ZERO);
    let c = cipher(provider, UsageLimits::default(), 16);
    let parent_env = c
        .encrypt(b"parent", &EncryptOptions::default())
        .expect("encrypt");
    let parent_key = mqseal_core::Envelope::parse(&parent_env)
        .expect("parse")
        .keys[0]
        .wrapped
        .to_vec();
    let mut fds = [0i32; 2];
    // SAFETY: `fds` has room for the two descriptors pipe() writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child only encrypts, writes to the pipe and exits with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let env = c
            .encrypt(b"child", &EncryptOptions::default())
            .unwrap_or_default();
        let key = mqseal_core::Envelope::parse(&env)
            .map(|p| p.keys[0].wrapped.to_vec())
            .unwrap_or_default();
        let same = if key.is_empty() {
            2u8
        } else {
            u8::from(key == parent_key)
        };
        // SAFETY: writing one byte from a live buffer to the pipe, then exiting without unwinding.
        unsafe {
            libc::write(fds[1], (&same as *const u8).cast(), 1);
            libc::_exit(0);
        }
    }
    let mut result = 9u8;
    // SAFETY: reading one byte into a live buffer.
    let n = unsafe { libc::read(fds[0], (&mut result as *mut u8).cast(), 1) };
    assert_eq!(n, 1);
    assert_eq!(
        result, 0,
        "the child reused the parent's data key (1) or failed to encrypt (2)"
    );
}
