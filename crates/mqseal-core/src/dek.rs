//! Data keys, wrapped data keys, and the keys derived from a data key.

use std::fmt;

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, ErrorCode, Result};
use crate::suite::{AeadKey, Backend, KEY_LEN, Suite};

/// Length of the key commitment stored in every envelope, in bytes.
pub const COMMITMENT_LEN: usize = 32;

const HKDF_SALT: &[u8] = b"mqseal-v1";
const INFO_ENCRYPTION: &[u8] = b"mqseal-v1 encryption key";
const INFO_COMMITMENT: &[u8] = b"mqseal-v1 key commitment";

/// A 256-bit data key (DEK) in plaintext. Zeroized on drop; `Debug` prints no bytes.
#[derive(Clone)]
pub struct DataKey([u8; KEY_LEN]);

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl DataKey {
    /// Generates a random data key from the operating system's CSPRNG.
    pub fn generate() -> Result<DataKey> {
        let mut bytes = [0u8; KEY_LEN];
        getrandom::fill(&mut bytes).map_err(|e| {
            Error::internal(format!(
                "the operating system's random generator failed: {e}"
            ))
        })?;
        Ok(DataKey(bytes))
    }

    /// Wraps existing key bytes; fails unless `bytes` is exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<DataKey> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
            Error::new(
                ErrorCode::ProviderInvalidResponse,
                format!(
                    "a data key must be {KEY_LEN} bytes, but the key provider returned {} bytes",
                    bytes.len()
                ),
            )
        })?;
        Ok(DataKey(array))
    }

    /// Returns the key bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// A data key wrapped by a key-encryption key (KEK) of a provider.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct WrappedKey {
    /// Provider key id of the KEK (a keyring name, a KMS key ARN, a PKCS#11 label).
    pub key_id: String,
    /// Version of the KEK that wrapped the data key.
    pub key_version: u32,
    /// The wrapped data key, opaque to everyone but the provider.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("key_id", &self.key_id)
            .field("key_version", &self.key_version)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// The per-data-key material used for messages: the AEAD key with its schedule done,
/// and the key commitment. Derived once per data key, never per message.
pub(crate) struct DerivedKeys {
    pub(crate) aead: AeadKey,
    pub(crate) commitment: [u8; COMMITMENT_LEN],
}

impl DerivedKeys {
    /// Derives the message key and commitment of `dek` for `suite` with HKDF-SHA256.
    pub(crate) fn derive(dek: &DataKey, suite: Suite, backend: Backend) -> Result<DerivedKeys> {
        let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), dek.as_bytes());
        let mut enc = Zeroizing::new([0u8; KEY_LEN]);
        let mut commitment = [0u8; COMMITMENT_LEN];
        let suite_id = [suite.id()];
        hk.expand_multi_info(&[INFO_ENCRYPTION, &suite_id], enc.as_mut())
            .map_err(|_| Error::internal("HKDF output length rejected"))?;
        hk.expand_multi_info(&[INFO_COMMITMENT, &suite_id], &mut commitment)
            .map_err(|_| Error::internal("HKDF output length rejected"))?;
        Ok(DerivedKeys {
            aead: AeadKey::new(backend, suite, &enc)?,
            commitment,
        })
    }

    /// Checks the envelope's commitment in constant time.
    pub(crate) fn verify_commitment(&self, stored: &[u8]) -> Result<()> {
        if constant_time_eq(&self.commitment, stored) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::KeyCommitmentMismatch,
                "the data key does not match the envelope's key commitment: the wrapped key or \
                 the envelope was modified",
            ))
        }
    }
}

/// Compares two byte strings without branching on their contents.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // The barrier keeps the compiler from turning the fold into an early-exit loop.
    std::hint::black_box(diff) == 0
}

impl fmt::Debug for DerivedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DerivedKeys(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let k = DataKey::from_slice(&[0x41; 32]).expect("32 bytes");
        assert_eq!(format!("{k:?}"), "DataKey(<redacted>)");
    }

    #[test]
    fn wrong_length_rejected() {
        let e = DataKey::from_slice(&[0; 31]).expect_err("31 bytes");
        assert_eq!(e.code(), ErrorCode::ProviderInvalidResponse);
    }

    #[test]
    fn commitment_depends_on_key_and_suite() {
        let b = Backend::default();
        let k1 = DataKey::from_slice(&[1; 32]).expect("32 bytes");
        let k2 = DataKey::from_slice(&[2; 32]).expect("32 bytes");
        let a = DerivedKeys::derive(&k1, Suite::Aes256Gcm, b).expect("derive");
        let c = DerivedKeys::derive(&k1, Suite::ChaCha20Poly1305, b).expect("derive");
        let d = DerivedKeys::derive(&k2, Suite::Aes256Gcm, b).expect("derive");
        assert_ne!(a.commitment, c.commitment);
        assert_ne!(a.commitment, d.commitment);
        assert!(a.verify_commitment(&a.commitment).is_ok());
        assert_eq!(
            a.verify_commitment(&d.commitment)
                .expect_err("mismatch")
                .code(),
            ErrorCode::KeyCommitmentMismatch
        );
    }
}
