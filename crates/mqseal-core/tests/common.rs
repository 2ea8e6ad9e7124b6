//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use mqseal_core::provider::KeyringFile;
use mqseal_core::{
    Backend, CallbackProvider, Cipher, CipherConfig, Context, DataKey, KeyProvider, LocalKeyring,
    Suite,
};

/// A keyring generated at test time with one key named `name`.
pub fn keyring(name: &str) -> KeyringFile {
    let mut f = KeyringFile::default();
    f.generate(name).expect("generate key");
    f
}

pub fn cipher_with(ring: &KeyringFile, key: &str, suite: Suite, backend: Backend) -> Cipher {
    let config = CipherConfig {
        suite,
        backend,
        key_ids: vec![key.to_owned()],
        ..CipherConfig::default()
    };
    let provider: Arc<dyn KeyProvider> = Arc::new(LocalKeyring::from_file(ring.clone()));
    Cipher::new(config, vec![provider]).expect("cipher")
}

pub fn topic(name: &str) -> Context {
    Context::from_pairs([("topic", name)]).expect("context")
}

pub const KEK_ID: &str = "test-kek";
pub const KEK_VERSION: u32 = 1;

pub fn test_kek() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

pub fn test_dek() -> [u8; 32] {
    std::array::from_fn(|i| 0x40 + i as u8)
}

pub fn vector_keyring() -> KeyringFile {
    let text = format!(
        "mqseal-keyring 1\nkey {KEK_ID} {KEK_VERSION} {}\n",
        hex::encode(test_kek())
    );
    KeyringFile::parse(&text).expect("test keyring parses")
}

/// Wraps the test DEK with the keyring, as the keyring provider would.
pub fn wrapped_dek() -> Vec<u8> {
    let ring = LocalKeyring::from_file(vector_keyring());
    let dek = DataKey::from_slice(&test_dek()).expect("32 bytes");
    ring.wrap(KEK_ID, &dek).expect("wrap").ciphertext
}

/// A cipher whose first data key is the test DEK, wrapped exactly as the keyring wraps it.
pub fn fixed_cipher_on(
    backend: Backend,
    suite: Suite,
    compression: bool,
    store_context: bool,
) -> Cipher {
    let wrapped = wrapped_dek();
    let ring = Arc::new(LocalKeyring::from_file(vector_keyring()));
    let unwrap_ring = ring.clone();
    let provider = CallbackProvider::new(
        "test-vectors",
        Some(vec![KEK_ID.to_owned()]),
        Box::new(move |_, _| {
            Err(mqseal_core::Error::new(
                mqseal_core::ErrorCode::Internal,
                "not used",
            ))
        }),
        Box::new(move |id, version, bytes| {
            unwrap_ring.unwrap(&mqseal_core::WrappedKey {
                key_id: id.to_owned(),
                key_version: version,
                ciphertext: bytes.to_vec(),
            })
        }),
    )
    .with_generate(Box::new(move |_| {
        Ok((
            KEK_VERSION,
            DataKey::from_slice(&test_dek()).expect("32 bytes"),
            wrapped.clone(),
        ))
    }));
    let config = CipherConfig {
        suite,
        backend,
        key_ids: vec![KEK_ID.to_owned()],
        compression,
        compression_min_size: 16,
        store_context,
        ..CipherConfig::default()
    };
    let provider: Arc<dyn KeyProvider> = Arc::new(provider);
    Cipher::new(config, vec![provider]).expect("cipher")
}

pub fn fixed_cipher(suite: Suite, compression: bool, store_context: bool) -> Cipher {
    fixed_cipher_on(Backend::default(), suite, compression, store_context)
}
