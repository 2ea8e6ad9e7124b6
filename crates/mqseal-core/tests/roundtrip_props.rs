//! Property-based round trips: arbitrary bodies from 0 bytes to 4 MiB and arbitrary contexts.

mod common;

use mqseal_core::{Backend, Context, EncryptOptions, ErrorCode, Suite};
use proptest::prelude::*;

fn context_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map("[a-z0-9._-]{1,12}", "\\PC{0,24}", 0..5)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn small_bodies_round_trip(body in proptest::collection::vec(any::<u8>(), 0..4096), ctx in context_strategy(), chacha in any::<bool>()) {
        let suite = if chacha { Suite::ChaCha20Poly1305 } else { Suite::Aes256Gcm };
        let c = common::cipher_with(&common::keyring("k"), "k", suite, Backend::default());
        let ctx = Context::from_pairs(ctx).expect("valid context");
        let env = c.encrypt(&body, &EncryptOptions { context: Some(&ctx), properties: None }).expect("encrypt");
        let out = c.decrypt(&env, Some(&ctx)).expect("decrypt");
        prop_assert_eq!(out.body, body);
    }

    #[test]
    fn context_mismatch_always_fails(body in proptest::collection::vec(any::<u8>(), 0..256), a in context_strategy(), b in context_strategy()) {
        prop_assume!(a != b);
        let c = common::cipher_with(&common::keyring("k"), "k", Suite::Aes256Gcm, Backend::default());
        let ca = Context::from_pairs(a).expect("valid");
        let cb = Context::from_pairs(b).expect("valid");
        let env = c.encrypt(&body, &EncryptOptions { context: Some(&ca), properties: None }).expect("encrypt");
        let err = c.decrypt(&env, Some(&cb)).expect_err("mismatch");
        prop_assert_eq!(err.code(), ErrorCode::AuthenticationFailed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn large_bodies_round_trip(len in 0usize..=(4 << 20), seed in any::<u8>()) {
        let c = common::cipher_with(&common::keyring("k"), "k", Suite::Aes256Gcm, Backend::default());
        let body: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect();
        let env = c.encrypt(&body, &EncryptOptions::default()).expect("encrypt");
        prop_assert_eq!(env.len(), c.encrypted_len(len, None).expect("len"));
        let out = c.decrypt(&env, None).expect("decrypt");
        prop_assert!(out.body == body);
    }
}
