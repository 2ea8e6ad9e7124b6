//! Envelope encrypt plus decrypt with a cached data key, beside the raw AEAD pair of each
//! backend on the same sizes, in one run. The envelope side writes into caller buffers
//! (`encrypt_into`, `decrypt_into`); the raw side seals and opens in place.
//!
//! Run with `make bench` (or `cargo bench -p mqseal-core --features rustcrypto`).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mqseal_core::provider::KeyringFile;
use mqseal_core::{
    Backend, Cipher, CipherConfig, Context, EncryptOptions, KeyProvider, LocalKeyring, Suite,
};

const SIZES: &[usize] = &[256, 1024, 16 << 10, 256 << 10, 4 << 20];

fn cipher(backend: Backend, suite: Suite) -> Cipher {
    let mut ring = KeyringFile::default();
    ring.generate("bench").expect("generate key");
    let provider: Arc<dyn KeyProvider> = Arc::new(LocalKeyring::from_file(ring));
    let config = CipherConfig {
        backend,
        suite,
        key_ids: vec!["bench".into()],
        limits: mqseal_core::UsageLimits {
            max_messages: mqseal_core::HARD_MAX_MESSAGES,
            max_bytes: mqseal_core::HARD_MAX_BYTES,
            max_age: Duration::from_secs(24 * 3600),
        },
        ..CipherConfig::default()
    };
    Cipher::new(config, vec![provider]).expect("cipher")
}

fn raw_aws_lc(suite: Suite) -> impl FnMut(&mut [u8]) {
    use aws_lc_rs::aead::{AES_256_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
    let alg = if suite == Suite::Aes256Gcm {
        &AES_256_GCM
    } else {
        &CHACHA20_POLY1305
    };
    let key = LessSafeKey::new(UnboundKey::new(alg, &[7u8; 32]).expect("key"));
    let mut counter = 0u64;
    move |buf: &mut [u8]| {
        counter += 1;
        let mut n = [0u8; 12];
        n[4..].copy_from_slice(&counter.to_be_bytes());
        let tag = key
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(n), Aad::from(&[0u8; 48]), buf)
            .expect("seal");
        key.open_in_place_separate_tag(
            Nonce::assume_unique_for_key(n),
            Aad::from(&[0u8; 48]),
            tag.as_ref(),
            buf,
        )
        .expect("open");
    }
}

/// One raw seal-and-open pair over a buffer.
type RawPair = Box<dyn FnMut(&mut [u8])>;

fn raw_rustcrypto(suite: Suite) -> RawPair {
    use aes_gcm::aead::{AeadInOut, KeyInit};
    fn pair<A: AeadInOut + KeyInit + 'static>(key: A) -> RawPair {
        let mut counter = 0u64;
        Box::new(move |buf: &mut [u8]| {
            counter += 1;
            let mut n = aes_gcm::aead::Nonce::<A>::default();
            n[4..12].copy_from_slice(&counter.to_be_bytes());
            let tag = key
                .encrypt_inout_detached(&n, &[0u8; 48], buf.into())
                .expect("seal");
            key.decrypt_inout_detached(&n, &[0u8; 48], buf.into(), &tag)
                .expect("open");
        })
    }
    match suite {
        Suite::Aes256Gcm => pair(aes_gcm::Aes256Gcm::new(&[7u8; 32].into())),
        _ => pair(chacha20poly1305::ChaCha20Poly1305::new(&[7u8; 32].into())),
    }
}

fn bench_pairs(c: &mut Criterion) {
    let ctx = Context::from_pairs([("topic", "bench-topic")]).expect("context");
    for &suite in Suite::ALL {
        let mut group = c.benchmark_group(format!("pair/{}", suite.name()));
        group
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(500))
            .sample_size(30);
        for &size in SIZES {
            group.throughput(Throughput::Bytes(size as u64));
            let body = vec![0xA5u8; size];
            for &backend in Backend::AVAILABLE {
                let c = cipher(backend, suite);
                let options = EncryptOptions {
                    context: Some(&ctx),
                    properties: None,
                };
                let mut env = vec![0u8; c.encrypted_len(size, Some(&ctx)).expect("len")];
                let mut plain = vec![0u8; size];
                group.bench_with_input(
                    BenchmarkId::new(format!("mqseal-{}", backend.name()), size),
                    &size,
                    |b, _| {
                        b.iter(|| {
                            let n = c
                                .encrypt_into(black_box(&body), &options, &mut env)
                                .expect("encrypt");
                            let (m, _) = c
                                .decrypt_into(&env[..n], Some(&ctx), &mut plain)
                                .expect("decrypt");
                            black_box(m)
                        })
                    },
                );
            }
            let mut buf = body.clone();
            let mut aws = raw_aws_lc(suite);
            group.bench_with_input(BenchmarkId::new("raw-aws-lc", size), &size, |b, _| {
                b.iter(|| aws(black_box(&mut buf)))
            });
            let mut rc = raw_rustcrypto(suite);
            group.bench_with_input(BenchmarkId::new("raw-rustcrypto", size), &size, |b, _| {
                b.iter(|| rc(black_box(&mut buf)))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench_pairs);
criterion_main!(benches);
