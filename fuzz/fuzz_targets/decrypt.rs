//! Checks that `Cipher::decrypt` and `Cipher::decrypt_into` under the published test-vector
//! keyring do not panic on arbitrary input, with and without a context, and succeed only on
//! envelopes (input starting with the magic byte 0x8E).
#![no_main]

use std::sync::{Arc, LazyLock};

use libfuzzer_sys::fuzz_target;
use mqseal_core::provider::KeyringFile;
use mqseal_core::{Cipher, CipherConfig, Context, ErrorCode, KeyProvider, LocalKeyring};

/// The known-answer vectors, whose `keyring` field holds the published test-vector KEK.
const VECTORS: &str = include_str!("../../tests/vectors/v1.json");

/// First byte of every envelope.
const MAGIC: u8 = 0x8E;

/// A decrypt-only cipher over the test-vector keyring, built once per process.
static CIPHER: LazyLock<Cipher> = LazyLock::new(|| {
    let vectors: serde_json::Value =
        serde_json::from_str(VECTORS).expect("tests/vectors/v1.json is valid JSON");
    let keyring = vectors["keyring"]
        .as_str()
        .expect("tests/vectors/v1.json has a string field \"keyring\"");
    let file = KeyringFile::parse(keyring).expect("the test-vector keyring parses");
    let provider: Arc<dyn KeyProvider> = Arc::new(LocalKeyring::from_file(file));
    Cipher::new(CipherConfig::default(), vec![provider]).expect("the default config is valid")
});

/// The contexts of the test vectors, so that mutated vectors can still authenticate.
static CONTEXTS: LazyLock<Vec<Context>> = LazyLock::new(|| {
    let contexts: &[&[(&str, &str)]] = &[
        &[],
        &[("topic", "orders")],
        &[("topic", "payments")],
        &[("topic", "logs")],
        &[("topic", "audit")],
        &[
            ("app", "billing"),
            ("region", "eu-1"),
            ("topic", "payments"),
        ],
    ];
    contexts
        .iter()
        .map(|pairs| Context::from_pairs(pairs.iter().copied()).expect("valid context"))
        .collect()
});

fn check(data: &[u8], context: Option<&Context>) {
    let decrypted = match CIPHER.decrypt(data, context) {
        Ok(decrypted) => decrypted,
        Err(error) => {
            assert_ne!(error.code(), ErrorCode::Internal, "{}", error.message());
            return;
        }
    };
    assert_eq!(
        data.first(),
        Some(&MAGIC),
        "decrypt returned Ok for input that is not an envelope"
    );
    let bound = Cipher::decrypted_len_bound(data).expect("a decryptable envelope parses");
    if !decrypted.info.compressed {
        assert!(
            decrypted.body.len() <= bound,
            "body is longer than the payload"
        );
    }

    // decrypt_into agrees with decrypt, and rejects a buffer one byte short.
    let mut out = vec![0u8; decrypted.body.len()];
    let (len, info) = CIPHER
        .decrypt_into(data, context, &mut out)
        .expect("decrypt_into succeeds where decrypt did");
    assert_eq!(len, decrypted.body.len());
    assert_eq!(out, decrypted.body);
    assert_eq!(info, decrypted.info);
    if let Some(short_len) = decrypted.body.len().checked_sub(1) {
        let mut short = vec![0u8; short_len];
        let error = CIPHER
            .decrypt_into(data, context, &mut short)
            .expect_err("a buffer one byte short is too small");
        assert_eq!(error.code(), ErrorCode::BufferTooSmall);
        assert_eq!(error.required_size(), Some(decrypted.body.len()));
    }
}

fuzz_target!(|data: &[u8]| {
    check(data, None);
    for context in CONTEXTS.iter() {
        check(data, Some(context));
    }
});
