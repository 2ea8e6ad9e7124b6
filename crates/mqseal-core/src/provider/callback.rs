use std::fmt;

use super::KeyProvider;
use crate::dek::{DataKey, WrappedKey};
use crate::error::{Error, ErrorCode, Result};

/// Wrap function of a [`CallbackProvider`]: receives the key id and the plaintext data
/// key, returns the key version used and the wrapped key.
pub type WrapFn = dyn Fn(&str, &[u8]) -> Result<(u32, Vec<u8>)> + Send + Sync;

/// Unwrap function of a [`CallbackProvider`]: receives the key id, the key version and
/// the wrapped key, returns the plaintext data key.
pub type UnwrapFn = dyn Fn(&str, u32, &[u8]) -> Result<DataKey> + Send + Sync;

/// Generate function of a [`CallbackProvider`]: receives the key id, returns the key
/// version, the plaintext data key and the wrapped data key, as a KMS's GenerateDataKey
/// does.
pub type GenerateFn = dyn Fn(&str) -> Result<(u32, DataKey, Vec<u8>)> + Send + Sync;

/// A provider whose wrap and unwrap operations are supplied by the host application,
/// so any KMS that mqseal does not ship can be plugged in.
pub struct CallbackProvider {
    name: String,
    key_ids: Option<Vec<String>>,
    wrap: Box<WrapFn>,
    unwrap: Box<UnwrapFn>,
    generate: Option<Box<GenerateFn>>,
}

impl CallbackProvider {
    /// Creates a provider named `name` (used in logs). `key_ids` limits the key ids it
    /// recognizes; `None` recognizes every key id.
    pub fn new(
        name: impl Into<String>,
        key_ids: Option<Vec<String>>,
        wrap: Box<WrapFn>,
        unwrap: Box<UnwrapFn>,
    ) -> Self {
        CallbackProvider {
            name: name.into(),
            key_ids,
            wrap,
            unwrap,
            generate: None,
        }
    }
}

impl CallbackProvider {
    /// Adds a generate function, used for new data keys in place of a random data key
    /// followed by `wrap`.
    pub fn with_generate(mut self, generate: Box<GenerateFn>) -> Self {
        self.generate = Some(generate);
        self
    }
}

impl CallbackProvider {
    /// FOR TESTS ONLY: a provider whose every new data key is `dek`, wrapped as `wrapped`
    /// under `key_version`, and whose wrap and unwrap always fail. The bindings use it to
    /// reproduce the shared known-answer vectors byte for byte. Never use it for real
    /// data: every message would share one data key.
    #[doc(hidden)]
    pub fn known_answer(dek: DataKey, wrapped: Vec<u8>, key_version: u32) -> Self {
        let unsupported = || {
            Error::new(
                ErrorCode::InvalidArgument,
                "the known-answer test provider only generates its one data key",
            )
        };
        CallbackProvider::new(
            "known-answer",
            None,
            Box::new(move |_, _| Err(unsupported())),
            Box::new(move |_, _, _| Err(unsupported())),
        )
        .with_generate(Box::new(move |_| {
            Ok((key_version, dek.clone(), wrapped.clone()))
        }))
    }
}

impl fmt::Debug for CallbackProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackProvider")
            .field("name", &self.name)
            .field("key_ids", &self.key_ids)
            .finish()
    }
}

impl KeyProvider for CallbackProvider {
    fn kind(&self) -> &str {
        &self.name
    }

    fn recognizes(&self, key_id: &str) -> bool {
        self.key_ids
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|k| k == key_id))
    }

    fn wrap(&self, key_id: &str, dek: &DataKey) -> Result<WrappedKey> {
        let (key_version, ciphertext) = (self.wrap)(key_id, dek.as_bytes())?;
        Ok(WrappedKey {
            key_id: key_id.to_owned(),
            key_version,
            ciphertext,
        })
    }

    fn unwrap(&self, wrapped: &WrappedKey) -> Result<DataKey> {
        (self.unwrap)(&wrapped.key_id, wrapped.key_version, &wrapped.ciphertext)
    }

    fn generate_data_key(&self, key_id: &str) -> Result<(DataKey, WrappedKey)> {
        match &self.generate {
            Some(generate) => {
                let (key_version, dek, ciphertext) = generate(key_id)?;
                Ok((
                    dek,
                    WrappedKey {
                        key_id: key_id.to_owned(),
                        key_version,
                        ciphertext,
                    },
                ))
            }
            None => {
                let dek = DataKey::generate()?;
                let wrapped = self.wrap(key_id, &dek)?;
                Ok((dek, wrapped))
            }
        }
    }
}
