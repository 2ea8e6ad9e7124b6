//! A sustained concurrent run: many threads encrypt and decrypt through several key ids
//! while tiny usage limits rotate data keys every few messages and a one- or two-entry
//! consumer cache with a short time to live evicts constantly. Every result is checked.
//! The run is bounded by iteration counts; nothing asserts on time.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mqseal_core::provider::KeyringFile;
use mqseal_core::{
    Cipher, CipherConfig, Context, EncryptOptions, ErrorCode, KeyProvider, LocalKeyring,
    Properties, Suite, UsageLimits,
};

use common::topic;

const THREADS: usize = 8;
const ITERATIONS: usize = 250;
const KEY_IDS: [&str; 3] = ["stress-a", "stress-b", "stress-c"];

/// xorshift64: a deterministic per-thread choice of operations and sizes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A message sealed by one thread, kept for others to decrypt.
struct Sealed {
    envelope: Vec<u8>,
    body: Vec<u8>,
    key_id: &'static str,
    context: Context,
    properties: Option<Properties>,
}

fn cipher(ring: &KeyringFile, key_ids: &[&str], suite: Suite, cache_capacity: usize) -> Cipher {
    let config = CipherConfig {
        suite,
        key_ids: key_ids.iter().map(|k| (*k).to_owned()).collect(),
        limits: UsageLimits {
            max_messages: 3,
            max_bytes: 6000,
            max_age: Duration::from_millis(20),
        },
        cache_capacity,
        cache_ttl: Duration::from_millis(5),
        compression: true,
        compression_min_size: 64,
        ..CipherConfig::default()
    };
    let provider: Arc<dyn KeyProvider> = Arc::new(LocalKeyring::from_file(ring.clone()));
    Cipher::new(config, vec![provider]).expect("cipher")
}

fn body_for(thread: usize, iteration: usize, len: usize) -> Vec<u8> {
    let seed = (thread * 7919 + iteration * 104_729) as u64;
    (0..len)
        .map(|i| {
            // Half the bodies repeat a short pattern, so compression takes effect on them.
            if iteration.is_multiple_of(2) {
                b"abcdefgh"[i % 8]
            } else {
                (seed.wrapping_mul(i as u64 + 1) >> 7) as u8
            }
        })
        .collect()
}

fn check(consumer: &Cipher, sealed: &Sealed, what: &str) {
    let decrypted = consumer
        .decrypt(&sealed.envelope, Some(&sealed.context))
        .unwrap_or_else(|e| panic!("{what}: decryption failed: {e:?}"));
    assert_eq!(decrypted.body, sealed.body, "{what}: body differs");
    assert_eq!(
        decrypted.info.key_id, sealed.key_id,
        "{what}: key id differs"
    );
    assert_eq!(
        decrypted.info.properties, sealed.properties,
        "{what}: properties differ"
    );

    // A wrong context fails even when the data key is cached.
    let err = consumer
        .decrypt(&sealed.envelope, Some(&topic("elsewhere")))
        .expect_err("wrong context");
    assert_eq!(err.code(), ErrorCode::AuthenticationFailed, "{what}");

    // A tampered tag fails, and decrypt_into leaves no plaintext behind.
    let mut bad = sealed.envelope.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x40;
    let mut out = vec![0xEE; sealed.body.len() + 64];
    let err = consumer
        .decrypt_into(&bad, Some(&sealed.context), &mut out)
        .expect_err("tampered");
    assert_eq!(err.code(), ErrorCode::AuthenticationFailed, "{what}");
    assert!(
        out.iter().all(|&b| b == 0xEE || b == 0),
        "{what}: plaintext left"
    );
}

#[test]
fn concurrent_encrypt_decrypt_with_constant_rotation_and_eviction() {
    let mut ring = KeyringFile::default();
    for id in KEY_IDS {
        ring.generate(id).expect("generate");
    }
    // Producers: one per key id and suite; the last wraps under two key ids.
    let mut producers: Vec<(Cipher, &'static str)> = Vec::new();
    for id in KEY_IDS {
        for suite in [Suite::Aes256Gcm, Suite::ChaCha20Poly1305] {
            producers.push((cipher(&ring, &[id], suite, 2), id));
        }
    }
    producers.push((
        cipher(&ring, &[KEY_IDS[2], KEY_IDS[0]], Suite::Aes256Gcm, 1),
        KEY_IDS[2],
    ));
    // Consumers: decrypt-only, with one- and two-entry caches.
    let consumers = [
        cipher(&ring, &[], Suite::Aes256Gcm, 1),
        cipher(&ring, &[], Suite::Aes256Gcm, 2),
    ];
    let shared: Mutex<Vec<Arc<Sealed>>> = Mutex::new(Vec::new());
    let checked = std::sync::atomic::AtomicUsize::new(0);

    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (producers, consumers, shared, checked) =
                (&producers, &consumers, &shared, &checked);
            scope.spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (thread as u64 + 1));
                let context = topic(&format!("topic-{thread}"));
                for iteration in 0..ITERATIONS {
                    let (producer, key_id) = &producers[rng.below(producers.len())];
                    let len = match rng.below(4) {
                        0 => 0,
                        1 => rng.below(64),
                        _ => rng.below(2000),
                    };
                    let body = body_for(thread, iteration, len);
                    let properties = iteration.is_multiple_of(3).then(|| {
                        Properties::from_pairs([("seq", iteration.to_string())]).expect("props")
                    });
                    let envelope = producer
                        .encrypt(
                            &body,
                            &EncryptOptions {
                                context: Some(&context),
                                properties: properties.as_ref(),
                            },
                        )
                        .expect("encrypt");
                    let sealed = Arc::new(Sealed {
                        envelope,
                        body,
                        key_id,
                        context: context.clone(),
                        properties,
                    });
                    let what = format!("thread {thread} iteration {iteration}");
                    check(&consumers[rng.below(2)], &sealed, &what);
                    checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);

                    // Decrypt a message of another thread with a random consumer.
                    let other = {
                        let mut all = shared.lock().expect("lock");
                        all.push(sealed);
                        let pick = rng.below(all.len());
                        all[pick].clone()
                    };
                    check(&consumers[rng.below(2)], &other, &format!("{what}, other"));
                    checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);

                    match rng.below(50) {
                        0 => consumers[rng.below(2)].clear_caches(),
                        1 => producer.rotate(),
                        _ => {}
                    }
                }
            });
        }
    });

    assert_eq!(
        checked.into_inner(),
        THREADS * ITERATIONS * 2,
        "every message was checked"
    );
    let created: u64 = producers
        .iter()
        .map(|(p, _)| p.counters().data_keys_created)
        .sum();
    // At most three messages per data key, so keys rotated at least this often.
    assert!(
        created >= (THREADS * ITERATIONS / 3) as u64,
        "only {created} data keys for {} messages",
        THREADS * ITERATIONS
    );
    for consumer in &consumers {
        assert!(
            consumer.cached_keys() <= 2,
            "the cache outgrew its capacity"
        );
        let counters = consumer.counters();
        assert_eq!(
            counters.provider_failures, 0,
            "no provider call failed: {counters:?}"
        );
    }
    // Every stored message still decrypts after the run, with cold caches.
    for consumer in &consumers {
        consumer.clear_caches();
    }
    let all = shared.into_inner().expect("lock");
    for (i, sealed) in all.iter().enumerate().step_by(17) {
        check(
            &consumers[i % 2],
            sealed,
            &format!("after the run, message {i}"),
        );
    }
}
