//! Known-answer vectors in `tests/vectors/v1.json`, shared with every binding.

mod common;

use std::sync::Arc;

use mqseal_core::provider::KeyringFile;
use mqseal_core::{
    Attributes, Backend, Cipher, CipherConfig, EncryptOptions, KeyProvider, LocalKeyring, Suite,
};
use serde_json::Value;

fn load() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/v1.json");
    let text = std::fs::read_to_string(path).expect("read tests/vectors/v1.json");
    serde_json::from_str(&text).expect("vectors are valid JSON")
}

fn attrs(v: &Value) -> Attributes {
    let obj = v.as_object().expect("map");
    Attributes::from_pairs(
        obj.iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_owned())),
    )
    .expect("valid map")
}

fn hex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn keyring_cipher(doc: &Value, backend: Backend) -> Cipher {
    let ring = KeyringFile::parse(doc["keyring"].as_str().expect("keyring text")).expect("keyring");
    let provider: Arc<dyn KeyProvider> = Arc::new(LocalKeyring::from_file(ring));
    Cipher::new(
        CipherConfig {
            backend,
            ..CipherConfig::default()
        },
        vec![provider],
    )
    .expect("cipher")
}

#[test]
fn positive_vectors_encrypt_byte_for_byte_on_every_backend() {
    let doc = load();
    for v in doc["vectors"].as_array().expect("vectors") {
        let name = v["name"].as_str().expect("name");
        let suite: Suite = v["suite"]
            .as_str()
            .expect("suite")
            .parse()
            .expect("known suite");
        let ctx = attrs(&v["context"]);
        let props = if v["properties"].is_null() {
            Attributes::new()
        } else {
            attrs(&v["properties"])
        };
        for &backend in Backend::AVAILABLE {
            let cipher = common::fixed_cipher_on(
                backend,
                suite,
                v["compression"].as_bool().expect("bool"),
                v["store_context"].as_bool().expect("bool"),
            );
            let options = EncryptOptions {
                context: Some(&ctx),
                properties: Some(&props),
            };
            let envelope = cipher.encrypt(&hex(&v["body"]), &options).expect("encrypt");
            assert_eq!(
                hex::encode(&envelope),
                v["envelope"].as_str().expect("hex"),
                "{name} on {backend:?}"
            );
        }
    }
}

#[test]
fn positive_vectors_decrypt_with_the_keyring() {
    let doc = load();
    for &backend in Backend::AVAILABLE {
        let cipher = keyring_cipher(&doc, backend);
        for v in doc["vectors"].as_array().expect("vectors") {
            let name = v["name"].as_str().expect("name");
            let out = cipher
                .decrypt(&hex(&v["envelope"]), Some(&attrs(&v["context"])))
                .expect(name);
            assert_eq!(out.body, hex(&v["body"]), "{name}");
            let expected = if v["properties"].is_null() {
                None
            } else {
                Some(attrs(&v["properties"]))
            };
            assert_eq!(out.info.properties, expected, "{name}");
            assert_eq!(out.info.key_id, v["key_id"].as_str().expect("key id"));
        }
    }
}

#[test]
fn negative_vectors_fail_with_their_error() {
    let doc = load();
    let cipher = keyring_cipher(&doc, Backend::default());
    for v in doc["negative"].as_array().expect("negative") {
        let name = v["name"].as_str().expect("name");
        let err = cipher
            .decrypt(&hex(&v["envelope"]), Some(&attrs(&v["context"])))
            .expect_err(name);
        assert_eq!(
            err.code().name(),
            v["error"].as_str().expect("error"),
            "{name}: {err}"
        );
    }
}

#[test]
fn overhead_with_keyring_and_eight_character_key_id() {
    let doc = load();
    let v = &doc["vectors"][1];
    assert_eq!(v["key_id"].as_str().expect("key id").len(), 8);
    let overhead = hex(&v["envelope"]).len() - hex(&v["body"]).len();
    assert_eq!(overhead, 112);
    assert_eq!(overhead - 8 - 40, mqseal_core::envelope::FIXED_OVERHEAD);
}
