//! Key providers: the holders of key-encryption keys (KEKs) that wrap data keys.

#[cfg(feature = "aws-kms")]
mod aws_kms;
mod callback;
mod keyring;
#[cfg(feature = "pkcs11")]
mod pkcs11;
pub(crate) mod resilient;

#[cfg(feature = "aws-kms")]
pub use aws_kms::AwsKms;
pub use callback::{CallbackProvider, GenerateFn, UnwrapFn, WrapFn};
pub use keyring::{KeyringFile, LocalKeyring};
#[cfg(feature = "pkcs11")]
pub use pkcs11::{KEY_ID_PREFIX as PKCS11_KEY_ID_PREFIX, Pkcs11Provider};
pub use resilient::ResilienceConfig;

use crate::dek::{DataKey, WrappedKey};
use crate::error::Result;

/// A holder of key-encryption keys. Implementations must be thread-safe: one provider
/// is shared by every thread of a [`crate::Cipher`].
///
/// Errors must use the provider codes of [`crate::ErrorCode`] (`ProviderUnavailable`,
/// `ProviderThrottled`, `ProviderTimeout` for transient faults; `ProviderDenied`,
/// `KeyDisabled`, `KeyNotFound`, `KeyVersionNotFound` for permanent ones) and must not
/// carry key material, credentials or request bodies in their messages.
pub trait KeyProvider: Send + Sync {
    /// Short name of the provider kind, for logs and errors: "keyring", "callback", ...
    fn kind(&self) -> &str;

    /// Returns true when this provider may hold `key_id`. Decryption offers an envelope's
    /// wrapped keys only to providers that recognize their key id.
    fn recognizes(&self, key_id: &str) -> bool;

    /// Wraps `dek` under the primary version of `key_id`.
    fn wrap(&self, key_id: &str, dek: &DataKey) -> Result<WrappedKey>;

    /// Recovers the data key from a wrapped key.
    fn unwrap(&self, wrapped: &WrappedKey) -> Result<DataKey>;

    /// Generates a fresh data key and wraps it under the primary version of `key_id`.
    /// Providers whose service generates data keys itself override this.
    fn generate_data_key(&self, key_id: &str) -> Result<(DataKey, WrappedKey)> {
        let dek = DataKey::generate()?;
        let wrapped = self.wrap(key_id, &dek)?;
        Ok((dek, wrapped))
    }

    /// Returns the current primary version of `key_id`, when the provider has versions.
    /// The producer cache uses it to switch to a new primary version.
    fn primary_version(&self, key_id: &str) -> Result<Option<u32>> {
        let _ = key_id;
        Ok(None)
    }

    /// Returns the key id and key version that `wrap` of `key_id` would record now, or
    /// `None` when the provider cannot tell. A producer compares them with its current
    /// data key's wrapped keys to apply a rotation (`rotation.check_seconds`). A KMS
    /// provider resolves an alias here; the default takes [`Self::primary_version`].
    fn current_primary(&self, key_id: &str) -> Result<Option<(String, u32)>> {
        Ok(self
            .primary_version(key_id)?
            .map(|version| (key_id.to_owned(), version)))
    }

    /// Reloads what the provider keeps in memory from its source, so that a rotation
    /// made by another process applies: a keyring re-reads its file. The default does
    /// nothing.
    fn refresh(&self) -> Result<()> {
        Ok(())
    }
}
