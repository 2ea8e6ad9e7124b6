//! The configuration file format shared by every binding.
//!
//! A text file of `key = value` lines; `#` starts a comment; keys may carry a `mqseal.`
//! prefix, so the same lines can live in a Java `.properties` file. Secrets never go in
//! this file: it names where keys are (a keyring path, a KMS key id), not the keys.
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `provider` | `keyring` or `pkcs11` | `keyring` |
//! | `keyring.path` | path of the keyring file | required for `keyring` |
//! | `pkcs11.module` | path of the token's PKCS#11 library (`.so`) | required for `pkcs11` |
//! | `pkcs11.token_label` | label of the token holding the KEKs | required for `pkcs11` |
//! | `pkcs11.pin_env` | name of an environment variable holding the user PIN | one of the two for `pkcs11` |
//! | `pkcs11.pin_file` | file holding the user PIN, mode 0600 | one of the two for `pkcs11` |
//! | `key_id` | KEK id(s) wrapping new data keys, comma-separated | none (decrypt only) |
//! | `suite` | `aes-256-gcm` or `chacha20-poly1305` | `aes-256-gcm` |
//! | `backend` | `aws-lc` or `rustcrypto` | fastest compiled in |
//! | `limits.max_messages` | messages per data key | 2^24 |
//! | `limits.max_bytes` | plaintext bytes per data key | 2^36 |
//! | `limits.max_age_seconds` | seconds a data key seals | 3600 |
//! | `cache.capacity` | unwrapped data keys kept by consumers | 1000 |
//! | `cache.ttl_seconds` | seconds an unwrapped data key is kept | 3600 |
//! | `compression` | `none` or `lz4` | `none` |
//! | `compression.min_size` | smallest body compressed, in bytes | 1024 |
//! | `max_body_len` | largest body, in bytes | 67108864 |
//! | `context.store` | `true` to store the context in the header | `false` |

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::cipher::{Cipher, CipherConfig};
use crate::error::{Error, Result};
use crate::provider::{KeyProvider, LocalKeyring};

/// Which key provider a configuration selects.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProviderConfig {
    /// The local keyring file at this path.
    Keyring {
        /// Path of the keyring file.
        path: PathBuf,
    },
    /// KEKs in a PKCS#11 token (an HSM or SoftHSM2); needs the `pkcs11` feature.
    Pkcs11(Pkcs11Settings),
    /// A provider the host application supplies in code (a callback provider).
    External,
}

/// Where a PKCS#11 token is and where its user PIN comes from. The PIN itself is never
/// part of the configuration text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkcs11Settings {
    /// Path of the PKCS#11 library.
    pub module: PathBuf,
    /// Label of the token.
    pub token_label: String,
    /// Source of the user PIN.
    pub pin: PinSource,
}

/// Where the PKCS#11 user PIN is read from when the provider opens.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinSource {
    /// The environment variable of this name.
    Env(String),
    /// This file, which only its owner may read (mode 0600).
    File(PathBuf),
}

/// The `pkcs11.*` settings as read, before they are checked.
#[derive(Default)]
struct Pkcs11Keys {
    module: Option<String>,
    token_label: Option<String>,
    pin_env: Option<String>,
    pin_file: Option<String>,
}

impl Pkcs11Keys {
    /// Takes a `pkcs11.*` setting; returns `None` for every other key.
    fn apply(&mut self, key: &str, value: &str) -> Option<Result<()>> {
        let slot = match key {
            "pkcs11.module" => &mut self.module,
            "pkcs11.token_label" => &mut self.token_label,
            "pkcs11.pin_env" => &mut self.pin_env,
            "pkcs11.pin_file" => &mut self.pin_file,
            "pkcs11.pin" | "pkcs11.user_pin" => {
                return Some(Err(Error::config(format!(
                    "{key}: a PIN never goes in the configuration text; put it in an \
                     environment variable named by pkcs11.pin_env, or in a file (mode 0600) \
                     named by pkcs11.pin_file"
                ))));
            }
            _ => return None,
        };
        if value.is_empty() {
            return Some(Err(Error::config(format!(
                "{key} is empty; give a value or remove the line"
            ))));
        }
        *slot = Some(value.to_owned());
        Some(Ok(()))
    }

    fn finish(self) -> Result<Pkcs11Settings> {
        let need = |what: &str| Error::config(format!("provider = pkcs11 needs {what}"));
        let pin = match (self.pin_env, self.pin_file) {
            (Some(name), None) => PinSource::Env(name),
            (None, Some(path)) => PinSource::File(PathBuf::from(path)),
            (None, None) => return Err(need("pkcs11.pin_env or pkcs11.pin_file")),
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "pkcs11.pin_env and pkcs11.pin_file are both set; keep one",
                ));
            }
        };
        Ok(Pkcs11Settings {
            module: PathBuf::from(self.module.ok_or_else(|| need("pkcs11.module"))?),
            token_label: self.token_label.ok_or_else(|| need("pkcs11.token_label"))?,
            pin,
        })
    }
}

/// A parsed configuration: the cipher settings and the provider selection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Cipher settings.
    pub cipher: CipherConfig,
    /// Provider selection.
    pub provider: ProviderConfig,
}

impl Settings {
    /// Parses configuration text. Unknown keys are errors, so typos do not pass silently.
    pub fn parse(text: &str) -> Result<Settings> {
        let mut cfg = CipherConfig::default();
        let mut provider = String::from("keyring");
        let mut keyring_path: Option<PathBuf> = None;
        let mut pkcs11 = Pkcs11Keys::default();
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .or_else(|| line.split_once(':'))
                .ok_or_else(|| {
                    Error::config(format!("config line {line_no}: expected \"key = value\""))
                })?;
            let key = key.trim();
            let key = key.strip_prefix("mqseal.").unwrap_or(key);
            let value = value.trim();
            pkcs11
                .apply(key, value)
                .unwrap_or_else(|| apply(&mut cfg, &mut provider, &mut keyring_path, key, value))
                .map_err(|e| Error::config(format!("config line {line_no}: {}", e.message())))?;
        }
        let provider = match provider.as_str() {
            "keyring" => ProviderConfig::Keyring {
                path: keyring_path
                    .ok_or_else(|| Error::config("provider = keyring needs keyring.path"))?,
            },
            "pkcs11" => ProviderConfig::Pkcs11(pkcs11.finish()?),
            "callback" | "external" => ProviderConfig::External,
            other => {
                return Err(Error::config(format!(
                    "provider {other:?} is not supported; use \"keyring\", \"pkcs11\" or \"callback\""
                )));
            }
        };
        cfg.validate()?;
        Ok(Settings {
            cipher: cfg,
            provider,
        })
    }

    /// Builds a cipher with the configured provider. A `callback` configuration needs
    /// the host's provider in `external`.
    pub fn build(&self, external: Option<Arc<dyn KeyProvider>>) -> Result<Cipher> {
        let provider: Arc<dyn KeyProvider> = match (&self.provider, external) {
            (_, Some(p)) => p,
            (ProviderConfig::Keyring { path }, None) => Arc::new(LocalKeyring::open(path)?),
            (ProviderConfig::Pkcs11(settings), None) => pkcs11_provider(settings)?,
            (ProviderConfig::External, None) => {
                return Err(Error::config(
                    "provider = callback needs a provider supplied in code",
                ));
            }
        };
        Cipher::new(self.cipher.clone(), vec![provider])
    }
}

#[cfg(feature = "pkcs11")]
fn pkcs11_provider(settings: &Pkcs11Settings) -> Result<Arc<dyn KeyProvider>> {
    Ok(Arc::new(crate::provider::Pkcs11Provider::open(settings)?))
}

#[cfg(not(feature = "pkcs11"))]
fn pkcs11_provider(settings: &Pkcs11Settings) -> Result<Arc<dyn KeyProvider>> {
    Err(Error::config(format!(
        "provider = pkcs11 (token {:?}) needs mqseal built with the pkcs11 feature; this \
         build lacks it",
        settings.token_label
    )))
}

fn number<T: FromStr>(key: &str, value: &str) -> Result<T> {
    value
        .replace('_', "")
        .parse::<T>()
        .map_err(|_| Error::config(format!("{key} = {value:?} is not a valid number")))
}

fn boolean(key: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(Error::config(format!(
            "{key} = {value:?} must be true or false"
        ))),
    }
}

fn apply(
    cfg: &mut CipherConfig,
    provider: &mut String,
    keyring_path: &mut Option<PathBuf>,
    key: &str,
    value: &str,
) -> Result<()> {
    match key {
        "provider" => *provider = value.to_ascii_lowercase(),
        "keyring.path" => *keyring_path = Some(PathBuf::from(value)),
        "key_id" | "key_ids" => {
            cfg.key_ids = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        "suite" => cfg.suite = value.parse()?,
        "backend" => cfg.backend = value.parse()?,
        "limits.max_messages" => cfg.limits.max_messages = number(key, value)?,
        "limits.max_bytes" => cfg.limits.max_bytes = number(key, value)?,
        "limits.max_age_seconds" => cfg.limits.max_age = Duration::from_secs(number(key, value)?),
        "cache.capacity" => cfg.cache_capacity = number(key, value)?,
        "cache.ttl_seconds" => cfg.cache_ttl = Duration::from_secs(number(key, value)?),
        "compression" => {
            cfg.compression = match value.to_ascii_lowercase().as_str() {
                "none" | "off" | "false" => false,
                "lz4" | "on" | "true" => true,
                _ => {
                    return Err(Error::config(format!(
                        "compression = {value:?} must be none or lz4"
                    )));
                }
            }
        }
        "compression.min_size" => cfg.compression_min_size = number(key, value)?,
        "max_body_len" => cfg.max_body_len = number(key, value)?,
        "context.store" => cfg.store_context = boolean(key, value)?,
        _ => {
            return Err(Error::config(format!(
                "unknown setting {key:?}; see the configuration reference"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::Suite;

    #[test]
    fn parses_every_setting() {
        let s = Settings::parse(
            "# test\nmqseal.provider = keyring\nkeyring.path = /tmp/ring\nkey_id = a, b\nsuite = chacha20-poly1305\n\
             limits.max_messages = 100\nlimits.max_bytes = 1_000_000\nlimits.max_age_seconds = 60\n\
             cache.capacity = 5\ncache.ttl_seconds = 10\ncompression = lz4\ncompression.min_size = 10\n\
             max_body_len = 4096\ncontext.store = true\n",
        )
        .expect("valid config");
        assert_eq!(
            s.provider,
            ProviderConfig::Keyring {
                path: "/tmp/ring".into()
            }
        );
        assert_eq!(s.cipher.key_ids, vec!["a", "b"]);
        assert_eq!(s.cipher.suite, Suite::ChaCha20Poly1305);
        assert_eq!(s.cipher.limits.max_messages, 100);
        assert_eq!(s.cipher.limits.max_bytes, 1_000_000);
        assert_eq!(s.cipher.limits.max_age, Duration::from_secs(60));
        assert_eq!(s.cipher.cache_capacity, 5);
        assert!(s.cipher.compression);
        assert!(s.cipher.store_context);
        assert_eq!(s.cipher.max_body_len, 4096);
    }

    #[test]
    fn parses_pkcs11_settings() {
        let base = "provider = pkcs11\npkcs11.module = /usr/lib/softhsm/libsofthsm2.so\n\
                    pkcs11.token_label = kms\nkey_id = pkcs11:orders\n";
        let s = Settings::parse(&format!("{base}pkcs11.pin_env = HSM_PIN\n")).expect("valid");
        assert_eq!(
            s.provider,
            ProviderConfig::Pkcs11(Pkcs11Settings {
                module: "/usr/lib/softhsm/libsofthsm2.so".into(),
                token_label: "kms".into(),
                pin: PinSource::Env("HSM_PIN".into()),
            })
        );
        let s = Settings::parse(&format!("{base}mqseal.pkcs11.pin_file = /etc/hsm.pin\n"))
            .expect("valid");
        assert!(
            matches!(s.provider, ProviderConfig::Pkcs11(p) if p.pin == PinSource::File("/etc/hsm.pin".into()))
        );

        let both = format!("{base}pkcs11.pin_env = A\npkcs11.pin_file = /b\n");
        assert!(Settings::parse(&both).is_err());
        assert!(Settings::parse(base).is_err());
        let no_module = "provider = pkcs11\npkcs11.token_label = t\npkcs11.pin_env = A\n";
        let e = Settings::parse(no_module).expect_err("no module");
        assert!(e.message().contains("pkcs11.module"), "{}", e.message());
        let e = Settings::parse(&format!("{base}pkcs11.pin_env =\n")).expect_err("empty");
        assert!(e.message().contains("line 5"), "{}", e.message());
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        let e = Settings::parse("keyring.path=/x\nkey_idd = a\n").expect_err("typo");
        assert!(e.message().contains("line 2"), "{}", e.message());
        assert!(Settings::parse("keyring.path=/x\nlimits.max_messages = 0\n").is_err());
        assert!(
            Settings::parse("keyring.path=/x\nlimits.max_messages = 99999999999999\n").is_err()
        );
        assert!(Settings::parse("keyring.path=/x\nsuite = rot13\n").is_err());
        assert!(Settings::parse("provider = keyring\n").is_err());
    }
}
