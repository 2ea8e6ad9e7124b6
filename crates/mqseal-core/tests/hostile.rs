//! Every truncation and every single-bit flip of valid envelopes is rejected with a
//! typed error, and nothing decrypts partially.

mod common;

use mqseal_core::{EncryptOptions, ErrorCode, Properties, Suite};

use common::{fixed_cipher, topic};

fn samples() -> Vec<(Vec<u8>, mqseal_core::Cipher, &'static str)> {
    let mut out = Vec::new();
    for (suite, compression, store) in [
        (Suite::Aes256Gcm, false, false),
        (Suite::ChaCha20Poly1305, true, true),
        (Suite::Aes256Gcm, true, false),
    ] {
        let c = fixed_cipher(suite, compression, store);
        let props = Properties::from_pairs([("customer", "alice")]).expect("props");
        let body = b"sample body sample body sample body sample body".to_vec();
        let ctx = topic("orders");
        let env = c
            .encrypt(
                &body,
                &EncryptOptions {
                    context: Some(&ctx),
                    properties: Some(&props),
                },
            )
            .expect("encrypt");
        out.push((env, c, suite.name()));
    }
    out
}

#[test]
fn every_truncation_is_rejected() {
    for (env, cipher, name) in samples() {
        for len in 0..env.len() {
            let err = cipher
                .decrypt(&env[..len], Some(&topic("orders")))
                .expect_err("truncated must fail");
            assert!(
                matches!(
                    err.code(),
                    ErrorCode::NotEncrypted
                        | ErrorCode::TruncatedEnvelope
                        | ErrorCode::AuthenticationFailed
                        | ErrorCode::MalformedEnvelope
                ),
                "{name} truncated to {len}: {err:?}"
            );
        }
    }
}

#[test]
fn every_bit_flip_is_rejected() {
    for (env, cipher, name) in samples() {
        for i in 0..env.len() * 8 {
            let mut bad = env.clone();
            bad[i / 8] ^= 1 << (i % 8);
            let err = cipher
                .decrypt(&bad, Some(&topic("orders")))
                .expect_err("flipped bit must fail");
            assert!(
                !matches!(
                    err.code(),
                    ErrorCode::Internal | ErrorCode::Panic | ErrorCode::BufferTooSmall
                ),
                "{name} bit {i}: {err:?}"
            );
        }
        // The unmodified envelope still decrypts, so the loop above tested real failures.
        assert!(cipher.decrypt(&env, Some(&topic("orders"))).is_ok());
    }
}

#[test]
fn failed_decrypt_into_leaves_no_plaintext() {
    let cipher = fixed_cipher(Suite::Aes256Gcm, false, false);
    let body = vec![0x5a; 4096];
    let env = cipher
        .encrypt(
            &body,
            &EncryptOptions {
                context: Some(&topic("t")),
                properties: None,
            },
        )
        .expect("encrypt");
    let mut bad = env.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let mut out = vec![0u8; env.len()];
    let err = cipher
        .decrypt_into(&bad, Some(&topic("t")), &mut out)
        .expect_err("tampered");
    assert_eq!(err.code(), ErrorCode::AuthenticationFailed);
    assert!(
        out.iter().all(|&b| b == 0),
        "output buffer holds bytes after a failed decryption"
    );
}

#[test]
fn buffer_too_small_reports_required_size() {
    let cipher = fixed_cipher(Suite::Aes256Gcm, false, false);
    let body = vec![1u8; 100];
    let needed = cipher.encrypted_len(body.len(), None).expect("size");
    let mut small = vec![0u8; needed - 1];
    let err = cipher
        .encrypt_into(&body, &EncryptOptions::default(), &mut small)
        .expect_err("too small");
    assert_eq!(err.code(), ErrorCode::BufferTooSmall);
    assert_eq!(err.required_size(), Some(needed));
    let mut exact = vec![0u8; needed];
    let n = cipher
        .encrypt_into(&body, &EncryptOptions::default(), &mut exact)
        .expect("fits");
    assert_eq!(n, needed);
    let mut plain = vec![0u8; 99];
    let err = cipher
        .decrypt_into(&exact, None, &mut plain)
        .expect_err("too small");
    assert_eq!(err.required_size(), Some(100));
}
