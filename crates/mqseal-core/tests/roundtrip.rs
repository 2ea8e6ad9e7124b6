//! Round trips and rejections through the public API.

mod common;

use mqseal_core::{Backend, EncryptOptions, ErrorCode, Properties, Suite};

use common::{cipher_with, keyring, topic};

#[test]
fn round_trip_every_suite_and_backend() {
    let ring = keyring("orders");
    for &backend in Backend::AVAILABLE {
        for &suite in Suite::ALL {
            let c = cipher_with(&ring, "orders", suite, backend);
            for len in [0usize, 1, 15, 16, 17, 1024, 70_000] {
                let body: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                let ctx = topic("orders");
                let env = c
                    .encrypt(
                        &body,
                        &EncryptOptions {
                            context: Some(&ctx),
                            properties: None,
                        },
                    )
                    .expect("encrypt");
                let out = c.decrypt(&env, Some(&ctx)).expect("decrypt");
                assert_eq!(out.body, body, "{suite} {backend:?} {len}");
                assert_eq!(out.info.key_id, "orders");
                assert_eq!(out.info.suite, suite);
            }
        }
    }
}

#[test]
fn wrong_context_fails_authentication() {
    let ring = keyring("k");
    let c = cipher_with(&ring, "k", Suite::Aes256Gcm, Backend::default());
    let env = c
        .encrypt(
            b"hello",
            &EncryptOptions {
                context: Some(&topic("a")),
                properties: None,
            },
        )
        .expect("encrypt");
    let e = c
        .decrypt(&env, Some(&topic("b")))
        .expect_err("wrong context");
    assert_eq!(e.code(), ErrorCode::AuthenticationFailed);
    let e = c.decrypt(&env, None).expect_err("missing context");
    assert_eq!(e.code(), ErrorCode::AuthenticationFailed);
}

#[test]
fn wrong_key_is_rejected() {
    let c1 = cipher_with(&keyring("k"), "k", Suite::Aes256Gcm, Backend::default());
    let c2 = cipher_with(&keyring("k"), "k", Suite::Aes256Gcm, Backend::default());
    let env = c1
        .encrypt(b"hello", &EncryptOptions::default())
        .expect("encrypt");
    let e = c2.decrypt(&env, None).expect_err("other keyring");
    assert_eq!(e.code(), ErrorCode::AuthenticationFailed);
}

#[test]
fn sealed_properties_and_compression_round_trip() {
    let ring = keyring("k");
    let mut config = mqseal_core::CipherConfig {
        key_ids: vec!["k".into()],
        compression: true,
        store_context: true,
        ..Default::default()
    };
    config.compression_min_size = 16;
    let provider: std::sync::Arc<dyn mqseal_core::KeyProvider> =
        std::sync::Arc::new(mqseal_core::LocalKeyring::from_file(ring));
    let c = mqseal_core::Cipher::new(config, vec![provider]).expect("cipher");
    let props =
        Properties::from_pairs([("customer", "alice"), ("amount", "12.50")]).expect("props");
    let body = vec![b'a'; 10_000];
    let ctx = topic("payments");
    let env = c
        .encrypt(
            &body,
            &EncryptOptions {
                context: Some(&ctx),
                properties: Some(&props),
            },
        )
        .expect("encrypt");
    assert!(
        env.len() < 1000,
        "compressed envelope is {} bytes",
        env.len()
    );
    // The context is stored, so decryption without it works.
    let out = c.decrypt(&env, None).expect("decrypt");
    assert_eq!(out.body, body);
    assert!(out.info.compressed);
    assert_eq!(out.info.properties, Some(props));
}
