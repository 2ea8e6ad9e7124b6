//! Hostile input: every truncation and every single-bit flip of valid envelopes, wrong
//! keys, versions and contexts, unknown format versions, size extremes and plaintext
//! where an envelope is expected. Each gives its documented error code, never a panic,
//! a silent success, or plaintext left in an output buffer.

mod common;

use std::sync::Arc;

use mqseal_core::envelope::MAGIC;
use mqseal_core::provider::KeyringFile;
use mqseal_core::{
    Backend, Cipher, CipherConfig, EncryptOptions, ErrorCode, KeyProvider, LocalKeyring,
    MAX_BODY_LEN, Properties, Suite,
};

use common::{cipher_with, fixed_cipher, keyring, topic};

/// Offset of the flag byte (docs/FORMAT.md).
const FLAGS: usize = 3;

/// Fill byte of output buffers; the sample bodies never contain it or zero.
const FILL: u8 = 0xEE;

/// A body that LZ4 shrinks, so the compressed samples really are compressed.
fn sample_body() -> Vec<u8> {
    b"sample body sample body sample body sample body sample body sample body".to_vec()
}

struct Sample {
    envelope: Vec<u8>,
    cipher: Cipher,
    label: String,
}

/// Envelopes of both suites with compression on and off, the context stored and not,
/// each with sealed properties and a context.
fn samples() -> Vec<Sample> {
    let mut out = Vec::new();
    for suite in [Suite::Aes256Gcm, Suite::ChaCha20Poly1305] {
        for compression in [false, true] {
            for store in [false, true] {
                let cipher = fixed_cipher(suite, compression, store);
                let props = Properties::from_pairs([("customer", "alice")]).expect("props");
                let ctx = topic("orders");
                let envelope = cipher
                    .encrypt(
                        &sample_body(),
                        &EncryptOptions {
                            context: Some(&ctx),
                            properties: Some(&props),
                        },
                    )
                    .expect("encrypt");
                let decrypted = cipher.decrypt(&envelope, Some(&ctx)).expect("decrypt");
                assert_eq!(decrypted.body, sample_body());
                assert_eq!(
                    decrypted.info.compressed, compression,
                    "compression took effect"
                );
                assert_eq!(decrypted.info.properties, Some(props));
                let label = format!("{} compression={compression} store={store}", suite.name());
                out.push(Sample {
                    envelope,
                    cipher,
                    label,
                });
            }
        }
    }
    out
}

/// Codes that a damaged envelope may produce. Everything else (internal, panic,
/// buffer_too_small, a provider error) is a bug.
fn is_envelope_error(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::NotEncrypted
            | ErrorCode::TruncatedEnvelope
            | ErrorCode::MalformedEnvelope
            | ErrorCode::UnsupportedVersion
            | ErrorCode::UnsupportedSuite
            | ErrorCode::UnsupportedFeature
            | ErrorCode::AuthenticationFailed
            | ErrorCode::KeyCommitmentMismatch
            | ErrorCode::KeyNotFound
            | ErrorCode::KeyVersionNotFound
    )
}

/// Decrypts `bytes`, expecting failure, with `decrypt` and with `decrypt_into` into a
/// filled buffer that must hold only fill bytes or zeros afterwards. Returns the code.
fn expect_failure(cipher: &Cipher, bytes: &[u8], context: bool, what: &str) -> ErrorCode {
    let ctx = topic("orders");
    let ctx = context.then_some(&ctx);
    let err = cipher.decrypt(bytes, ctx).expect_err(what);
    let mut out = vec![FILL; bytes.len() + 256];
    let err_into = cipher.decrypt_into(bytes, ctx, &mut out).expect_err(what);
    assert_eq!(
        err.code(),
        err_into.code(),
        "{what}: decrypt and decrypt_into differ"
    );
    assert!(
        out.iter().all(|&b| b == FILL || b == 0),
        "{what}: the output buffer holds bytes after a failed decryption ({err_into:?})"
    );
    assert!(
        !err.message().is_empty() && !err.message().contains("sample body"),
        "{what}: the message is empty or holds plaintext: {err:?}"
    );
    err.code()
}

#[test]
fn every_truncation_is_rejected() {
    for s in samples() {
        for len in 0..s.envelope.len() {
            let what = format!("{} truncated to {len}", s.label);
            let code = expect_failure(&s.cipher, &s.envelope[..len], true, &what);
            assert!(
                matches!(
                    code,
                    ErrorCode::NotEncrypted
                        | ErrorCode::TruncatedEnvelope
                        | ErrorCode::AuthenticationFailed
                        | ErrorCode::MalformedEnvelope
                ),
                "{what}: {code:?}"
            );
        }
    }
}

#[test]
fn every_bit_flip_is_rejected() {
    for s in samples() {
        for context in [true, false] {
            for i in 0..s.envelope.len() * 8 {
                let mut bad = s.envelope.clone();
                bad[i / 8] ^= 1 << (i % 8);
                let what = format!("{} context={context} bit {i}", s.label);
                let code = expect_failure(&s.cipher, &bad, context, &what);
                assert!(is_envelope_error(code), "{what}: {code:?}");
            }
        }
        // The unmodified envelope still decrypts, so the loop above tested real failures.
        assert!(
            s.cipher
                .decrypt(&s.envelope, Some(&topic("orders")))
                .is_ok()
        );
    }
}

#[test]
fn header_fields_give_their_documented_codes() {
    let s = &samples()[0];
    let mut bad = s.envelope.clone();
    bad[1] = 2;
    assert_eq!(
        expect_failure(&s.cipher, &bad, true, "newer format version"),
        ErrorCode::UnsupportedVersion
    );
    let mut bad = s.envelope.clone();
    bad[2] = 3;
    assert_eq!(
        expect_failure(&s.cipher, &bad, true, "unknown suite"),
        ErrorCode::UnsupportedSuite
    );
    let mut bad = s.envelope.clone();
    bad[FLAGS] |= 0x80;
    assert_eq!(
        expect_failure(&s.cipher, &bad, true, "unknown flag"),
        ErrorCode::UnsupportedFeature
    );
    let mut bad = s.envelope.clone();
    bad[0] = b'{';
    assert_eq!(
        expect_failure(&s.cipher, &bad, true, "other magic"),
        ErrorCode::NotEncrypted
    );
}

#[test]
fn wrong_context_fails_authentication() {
    for s in samples() {
        let err = s
            .cipher
            .decrypt(&s.envelope, Some(&topic("payments")))
            .expect_err("wrong context");
        assert_eq!(err.code(), ErrorCode::AuthenticationFailed, "{}", s.label);
    }
    // Without the context, only an envelope that stores it decrypts.
    let plain = fixed_cipher(Suite::Aes256Gcm, false, false);
    let env = plain
        .encrypt(
            b"bound to orders",
            &EncryptOptions {
                context: Some(&topic("orders")),
                properties: None,
            },
        )
        .expect("encrypt");
    assert_eq!(
        expect_failure(&plain, &env, false, "missing context"),
        ErrorCode::AuthenticationFailed
    );
}

fn encrypt_plain(cipher: &Cipher, body: &[u8]) -> Vec<u8> {
    cipher
        .encrypt(body, &EncryptOptions::default())
        .expect("encrypt")
}

#[test]
fn wrong_key_name_and_version_give_typed_errors() {
    let ring = keyring("orders");
    let producer = cipher_with(&ring, "orders", Suite::Aes256Gcm, Backend::default());
    let env = encrypt_plain(&producer, b"for the orders key");

    // Another keyring that holds a different key under the same name.
    let other = cipher_with(
        &keyring("orders"),
        "orders",
        Suite::Aes256Gcm,
        Backend::default(),
    );
    assert_eq!(
        expect_failure(&other, &env, false, "different key, same name"),
        ErrorCode::AuthenticationFailed
    );

    // A keyring without that key name.
    let stranger = cipher_with(
        &keyring("billing"),
        "billing",
        Suite::Aes256Gcm,
        Backend::default(),
    );
    assert_eq!(
        expect_failure(&stranger, &env, false, "unknown key name"),
        ErrorCode::KeyNotFound
    );

    // An envelope under version 2 read by a keyring that has only version 1.
    let mut rotated = ring.clone();
    assert_eq!(rotated.rotate("orders").expect("rotate"), 2);
    let newer = cipher_with(&rotated, "orders", Suite::Aes256Gcm, Backend::default());
    let env2 = encrypt_plain(&newer, b"under version 2");
    let old = cipher_with(&ring, "orders", Suite::Aes256Gcm, Backend::default());
    assert_eq!(
        expect_failure(&old, &env2, false, "unknown key version"),
        ErrorCode::KeyVersionNotFound
    );
    // The rotated keyring still reads version 1.
    assert_eq!(
        newer.decrypt(&env, None).expect("version 1").body,
        b"for the orders key"
    );
}

#[test]
fn plaintext_where_an_envelope_is_expected() {
    let cipher = fixed_cipher(Suite::Aes256Gcm, false, false);
    for text in [
        &b""[..],
        b"{\"order\": 42}",
        b"<order id=\"42\"/>",
        b"plain text body",
        &[0u8; 64],
    ] {
        assert_eq!(
            expect_failure(&cipher, text, false, "plaintext"),
            ErrorCode::NotEncrypted
        );
    }
    // A body that starts with the magic byte but is not an envelope.
    let mut fake = vec![MAGIC];
    fake.extend_from_slice(b"\x01\x01\x00 not an envelope at all");
    assert!(is_envelope_error(expect_failure(
        &cipher,
        &fake,
        false,
        "magic then text"
    )));
}

fn cipher_with_max_body(ring: &KeyringFile, max_body_len: usize) -> Cipher {
    let config = CipherConfig {
        key_ids: vec!["k".to_owned()],
        max_body_len,
        ..CipherConfig::default()
    };
    let provider: Arc<dyn KeyProvider> = Arc::new(LocalKeyring::from_file(ring.clone()));
    Cipher::new(config, vec![provider]).expect("cipher")
}

#[test]
fn empty_and_maximum_size_bodies() {
    let ring = keyring("k");
    let max = 256 << 10;
    let cipher = cipher_with_max_body(&ring, max);
    for len in [0, 1, max] {
        let body: Vec<u8> = (0..len).map(|i| (i % 251) as u8 + 1).collect();
        let env = encrypt_plain(&cipher, &body);
        assert_eq!(cipher.decrypt(&env, None).expect("decrypt").body, body);
        let mut out = vec![0u8; len];
        let (n, _) = cipher
            .decrypt_into(&env, None, &mut out)
            .expect("exact fit");
        assert_eq!((n, &out[..]), (len, &body[..]));
    }
    let too_big = vec![1u8; max + 1];
    assert_eq!(
        cipher
            .encrypt(&too_big, &EncryptOptions::default())
            .expect_err("over max_body_len")
            .code(),
        ErrorCode::UsageLimitExceeded
    );

    // A consumer with a smaller limit refuses a larger body before decrypting it.
    let env = encrypt_plain(&cipher, &vec![2u8; max]);
    let small = cipher_with_max_body(&ring, max / 2);
    assert_eq!(
        expect_failure(&small, &env, false, "body over the consumer's limit"),
        ErrorCode::UsageLimitExceeded
    );

    // The hard maximum: the length is checked before the body is read. The zeroed
    // allocation is never touched, so it costs no memory.
    let hard = cipher_with_max_body(&ring, MAX_BODY_LEN);
    let over = vec![0u8; MAX_BODY_LEN + 1];
    assert_eq!(
        hard.encrypt(&over, &EncryptOptions::default())
            .expect_err("over MAX_BODY_LEN")
            .code(),
        ErrorCode::UsageLimitExceeded
    );
}

#[test]
fn encrypted_len_of_huge_bodies_is_an_error_not_an_overflow() {
    let cipher = cipher_with_max_body(&keyring("k"), MAX_BODY_LEN);
    for len in [MAX_BODY_LEN + 1, usize::MAX / 2, usize::MAX - 1, usize::MAX] {
        let err = cipher.encrypted_len(len, None).expect_err("too large");
        assert_eq!(err.code(), ErrorCode::UsageLimitExceeded, "{len}: {err:?}");
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
fn too_small_output_leaves_no_plaintext() {
    for s in samples() {
        let decrypted = s
            .cipher
            .decrypt(&s.envelope, Some(&topic("orders")))
            .expect("decrypt");
        let mut out = vec![FILL; decrypted.body.len() - 1];
        let err = s
            .cipher
            .decrypt_into(&s.envelope, Some(&topic("orders")), &mut out)
            .expect_err("too small");
        assert_eq!(err.code(), ErrorCode::BufferTooSmall, "{}", s.label);
        assert_eq!(err.required_size(), Some(decrypted.body.len()));
        assert!(
            out.iter().all(|&b| b == FILL),
            "{}: output changed",
            s.label
        );
    }
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
