//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use mqseal_core::provider::KeyringFile;
use mqseal_core::{Backend, Cipher, CipherConfig, Context, KeyProvider, LocalKeyring, Suite};

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
