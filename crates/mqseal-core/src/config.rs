//! The configuration file format shared by every binding.
//!
//! A text file of `key = value` lines; `#` starts a comment; keys may carry a `mqseal.`
//! prefix, so the same lines can live in a Java `.properties` file. Secrets never go in
//! this file: it names where keys are (a keyring path, a KMS key id), not the keys.
//! AWS credentials come only from the standard AWS credential chain.
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `provider` | `keyring`, `aws-kms`, `pkcs11` or `callback`; a comma-separated list configures several KEK holders | `keyring` |
//! | `key_id` | KEK id(s) wrapping new data keys, comma-separated; each is wrapped by the first provider that recognizes it | none (decrypt only) |
//! | `keyring.path` | path of the keyring file | required for `keyring` |
//! | `aws_kms.region` | AWS region of the KMS keys | the AWS chain's region |
//! | `aws_kms.endpoint` | KMS endpoint URL, for a local or private endpoint | the region's endpoint |
//! | `aws_kms.profile` | profile of the shared AWS config and credentials files | the AWS chain's profile |
//! | `pkcs11.module` | path of the token's PKCS#11 library (`.so`) | required for `pkcs11` |
//! | `pkcs11.token_label` | label of the token holding the KEKs | required for `pkcs11` |
//! | `pkcs11.pin_env` | name of an environment variable holding the user PIN | one of the two for `pkcs11` |
//! | `pkcs11.pin_file` | file holding the user PIN, mode 0600 | one of the two for `pkcs11` |
//! | `suite` | `aes-256-gcm` or `chacha20-poly1305` | `aes-256-gcm` |
//! | `backend` | `aws-lc` or `rustcrypto` | fastest compiled in |
//! | `limits.max_messages` | messages per data key | 2^24 |
//! | `limits.max_bytes` | plaintext bytes per data key | 2^36 |
//! | `limits.max_age_seconds` | seconds a data key seals | 3600 |
//! | `cache.capacity` | unwrapped data keys kept by consumers | 1000 |
//! | `cache.ttl_seconds` | seconds an unwrapped data key is kept | 3600 |
//! | `cache.negative_ttl_seconds` | seconds a wrapped key whose unwrap gave unusable key material is not offered to the provider again | 60 |
//! | `retry.max_attempts` | attempts per provider call, first included (1 = no retry) | 3 |
//! | `retry.initial_backoff_ms` | upper bound of the first random backoff | 50 |
//! | `retry.max_backoff_ms` | upper bound of any backoff | 1000 |
//! | `retry.deadline_ms` | time one provider call may take with its retries | 5000 |
//! | `breaker.failure_threshold` | consecutive failed calls that open a provider's circuit breaker (0 = no breaker) | 5 |
//! | `breaker.open_seconds` | seconds an open breaker rejects calls before it lets one through | 10 |
//! | `rotation.check_seconds` | seconds between checks of the primary KEK version by producers (0 = only on rotate) | 60 |
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

/// Settings of the AWS KMS provider. Credentials are never configured here: they come
/// from the standard AWS chain (environment, shared files, web identity, container and
/// instance metadata).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsKmsConfig {
    /// AWS region; `None` takes the region of the AWS chain (`AWS_REGION`, profile).
    pub region: Option<String>,
    /// Endpoint URL, for a local test server or a private endpoint.
    pub endpoint: Option<String>,
    /// Profile of the shared AWS config and credentials files.
    pub profile: Option<String>,
}

/// One key provider that a configuration selects.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProviderConfig {
    /// The local keyring file at this path.
    Keyring {
        /// Path of the keyring file.
        path: PathBuf,
    },
    /// AWS KMS.
    AwsKms(AwsKmsConfig),
    /// KEKs in a PKCS#11 token (an HSM or SoftHSM2); needs the `pkcs11` feature.
    Pkcs11(Pkcs11Settings),
    /// A provider the host application supplies in code (a callback provider).
    External,
}

impl ProviderConfig {
    /// Returns the name of the provider as written after `provider =`.
    pub fn name(&self) -> &'static str {
        match self {
            ProviderConfig::Keyring { .. } => "keyring",
            ProviderConfig::AwsKms(_) => "aws-kms",
            ProviderConfig::Pkcs11(_) => "pkcs11",
            ProviderConfig::External => "callback",
        }
    }
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
#[derive(Clone, Default)]
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
    /// Providers in the order listed; for each key id the first one that recognizes it
    /// wraps and unwraps.
    pub providers: Vec<ProviderConfig>,
}

/// Values of the `provider`-specific keys, collected before the provider list is known.
#[derive(Default)]
struct ProviderSections {
    names: Vec<String>,
    keyring_path: Option<PathBuf>,
    aws_kms: AwsKmsConfig,
    pkcs11: Pkcs11Keys,
}

impl ProviderSections {
    /// Applies one provider-specific key; returns false when `key` is not one.
    fn apply(&mut self, key: &str, value: &str) -> Result<bool> {
        if let Some(applied) = self.pkcs11.apply(key, value) {
            return applied.map(|()| true);
        }
        match key {
            "provider" | "providers" => {
                self.names = list(value)
                    .into_iter()
                    .map(|n| n.to_ascii_lowercase())
                    .collect();
            }
            "keyring.path" => self.keyring_path = Some(PathBuf::from(value)),
            "aws_kms.region" => self.aws_kms.region = non_empty(key, value)?,
            "aws_kms.endpoint" => self.aws_kms.endpoint = non_empty(key, value)?,
            "aws_kms.profile" => self.aws_kms.profile = non_empty(key, value)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Builds the configuration of the provider named `name`.
    fn provider(&self, name: &str) -> Result<ProviderConfig> {
        match name {
            "keyring" => Ok(ProviderConfig::Keyring {
                path: self
                    .keyring_path
                    .clone()
                    .ok_or_else(|| Error::config("provider keyring needs keyring.path"))?,
            }),
            "aws-kms" | "aws_kms" | "kms" => Ok(ProviderConfig::AwsKms(self.aws_kms.clone())),
            "callback" | "external" => Ok(ProviderConfig::External),
            "pkcs11" => Ok(ProviderConfig::Pkcs11(self.pkcs11.clone().finish()?)),
            other => Err(Error::config(format!(
                "provider {other:?} is not supported; use keyring, aws-kms, pkcs11 or callback"
            ))),
        }
    }
}

impl Settings {
    /// Parses configuration text. Unknown keys are errors, so typos do not pass silently.
    pub fn parse(text: &str) -> Result<Settings> {
        let mut cfg = CipherConfig::default();
        let mut sections = ProviderSections {
            names: vec![String::from("keyring")],
            ..ProviderSections::default()
        };
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
            let applied = match sections.apply(key, value) {
                Ok(true) => Ok(()),
                Ok(false) => apply(&mut cfg, key, value),
                Err(e) => Err(e),
            };
            applied
                .map_err(|e| Error::config(format!("config line {line_no}: {}", e.message())))?;
        }
        if sections.names.is_empty() {
            return Err(Error::config(
                "provider is empty; name keyring, aws-kms, pkcs11 or callback",
            ));
        }
        let mut providers = Vec::with_capacity(sections.names.len());
        for name in &sections.names {
            let provider = sections.provider(name)?;
            if providers.contains(&provider) {
                return Err(Error::config(format!(
                    "provider {name} is listed twice; list each provider once"
                )));
            }
            providers.push(provider);
        }
        cfg.validate()?;
        Ok(Settings {
            cipher: cfg,
            providers,
        })
    }

    /// Builds a cipher with the configured providers. `external` is the host's provider:
    /// it takes the place of `callback` in the list, or, when the list has no `callback`,
    /// replaces the configured providers altogether.
    pub fn build(&self, external: Option<Arc<dyn KeyProvider>>) -> Result<Cipher> {
        let has_callback = self.providers.contains(&ProviderConfig::External);
        let mut providers: Vec<Arc<dyn KeyProvider>> = Vec::with_capacity(self.providers.len());
        match external {
            Some(p) if !has_callback => providers.push(p),
            external => {
                for config in &self.providers {
                    providers.push(open_provider(
                        config,
                        external.as_ref(),
                        self.cipher.resilience.deadline,
                    )?);
                }
            }
        }
        Cipher::new(self.cipher.clone(), providers)
    }
}

/// Opens one configured provider; `timeout` bounds each request of a network provider.
fn open_provider(
    config: &ProviderConfig,
    external: Option<&Arc<dyn KeyProvider>>,
    timeout: Duration,
) -> Result<Arc<dyn KeyProvider>> {
    match config {
        ProviderConfig::Keyring { path } => Ok(Arc::new(LocalKeyring::open(path)?)),
        ProviderConfig::AwsKms(kms) => open_aws_kms(kms, timeout),
        ProviderConfig::Pkcs11(settings) => pkcs11_provider(settings),
        ProviderConfig::External => external
            .cloned()
            .ok_or_else(|| Error::config("provider callback needs a provider supplied in code")),
    }
}

#[cfg(feature = "aws-kms")]
fn open_aws_kms(config: &AwsKmsConfig, timeout: Duration) -> Result<Arc<dyn KeyProvider>> {
    Ok(Arc::new(crate::provider::AwsKms::connect(config, timeout)?))
}

#[cfg(not(feature = "aws-kms"))]
fn open_aws_kms(_config: &AwsKmsConfig, _timeout: Duration) -> Result<Arc<dyn KeyProvider>> {
    Err(Error::config(
        "provider aws-kms is not compiled into this build of mqseal; build mqseal-core with \
         the aws-kms feature",
    ))
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

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn non_empty(key: &str, value: &str) -> Result<Option<String>> {
    if value.is_empty() {
        return Err(Error::config(format!(
            "{key} is empty; give a value or remove the line"
        )));
    }
    Ok(Some(value.to_owned()))
}

fn number<T: FromStr>(key: &str, value: &str) -> Result<T> {
    value
        .replace('_', "")
        .parse::<T>()
        .map_err(|_| Error::config(format!("{key} = {value:?} is not a valid number")))
}

fn millis(key: &str, value: &str) -> Result<Duration> {
    Ok(Duration::from_millis(number(key, value)?))
}

fn seconds(key: &str, value: &str) -> Result<Duration> {
    Ok(Duration::from_secs(number(key, value)?))
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

fn apply(cfg: &mut CipherConfig, key: &str, value: &str) -> Result<()> {
    let resilience = &mut cfg.resilience;
    match key {
        "key_id" | "key_ids" => cfg.key_ids = list(value),
        "suite" => cfg.suite = value.parse()?,
        "backend" => cfg.backend = value.parse()?,
        "limits.max_messages" => cfg.limits.max_messages = number(key, value)?,
        "limits.max_bytes" => cfg.limits.max_bytes = number(key, value)?,
        "limits.max_age_seconds" => cfg.limits.max_age = seconds(key, value)?,
        "cache.capacity" => cfg.cache_capacity = number(key, value)?,
        "cache.ttl_seconds" => cfg.cache_ttl = seconds(key, value)?,
        "cache.negative_ttl_seconds" => resilience.negative_ttl = seconds(key, value)?,
        "retry.max_attempts" => resilience.max_attempts = number(key, value)?,
        "retry.initial_backoff_ms" => resilience.initial_backoff = millis(key, value)?,
        "retry.max_backoff_ms" => resilience.max_backoff = millis(key, value)?,
        "retry.deadline_ms" => resilience.deadline = millis(key, value)?,
        "breaker.failure_threshold" => resilience.breaker_threshold = number(key, value)?,
        "breaker.open_seconds" => resilience.breaker_open = seconds(key, value)?,
        "rotation.check_seconds" => cfg.rotation_check = seconds(key, value)?,
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
                "unknown setting {key:?}; the settings table with every key is at the top of crates/mqseal-core/src/config.rs"
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
             max_body_len = 4096\ncontext.store = true\ncache.negative_ttl_seconds = 7\n\
             retry.max_attempts = 4\nretry.initial_backoff_ms = 20\nretry.max_backoff_ms = 300\n\
             retry.deadline_ms = 2500\nbreaker.failure_threshold = 9\nbreaker.open_seconds = 30\n\
             rotation.check_seconds = 15\n",
        )
        .expect("valid config");
        assert_eq!(
            s.providers,
            vec![ProviderConfig::Keyring {
                path: "/tmp/ring".into()
            }]
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
        let r = &s.cipher.resilience;
        assert_eq!(r.negative_ttl, Duration::from_secs(7));
        assert_eq!(r.max_attempts, 4);
        assert_eq!(r.initial_backoff, Duration::from_millis(20));
        assert_eq!(r.max_backoff, Duration::from_millis(300));
        assert_eq!(r.deadline, Duration::from_millis(2500));
        assert_eq!(r.breaker_threshold, 9);
        assert_eq!(r.breaker_open, Duration::from_secs(30));
        assert_eq!(s.cipher.rotation_check, Duration::from_secs(15));
    }

    #[test]
    fn parses_a_provider_list() {
        let s = Settings::parse(
            "provider = aws-kms, keyring\nkeyring.path = /r\naws_kms.region = eu-west-1\n\
             aws_kms.endpoint = http://127.0.0.1:4566\naws_kms.profile = ops\n\
             key_id = alias/orders, local\n",
        )
        .expect("valid config");
        assert_eq!(
            s.providers,
            vec![
                ProviderConfig::AwsKms(AwsKmsConfig {
                    region: Some("eu-west-1".into()),
                    endpoint: Some("http://127.0.0.1:4566".into()),
                    profile: Some("ops".into()),
                }),
                ProviderConfig::Keyring { path: "/r".into() },
            ]
        );
        assert_eq!(s.cipher.key_ids, vec!["alias/orders", "local"]);
        assert_eq!(s.providers[0].name(), "aws-kms");
    }

    #[test]
    fn rejects_bad_provider_lists() {
        let twice = Settings::parse("provider = aws-kms, aws-kms\n").expect_err("listed twice");
        assert!(twice.message().contains("twice"), "{}", twice.message());
        let unknown = Settings::parse("provider = vault\n").expect_err("unknown provider");
        assert!(unknown.message().contains("vault"), "{}", unknown.message());
        assert!(Settings::parse("provider = ,\n").is_err());
        assert!(Settings::parse("provider = aws-kms\naws_kms.region =\n").is_err());
    }

    #[test]
    fn parses_pkcs11_settings() {
        let base = "provider = pkcs11\npkcs11.module = /usr/lib/softhsm/libsofthsm2.so\n\
                    pkcs11.token_label = kms\nkey_id = pkcs11:orders\n";
        let s = Settings::parse(&format!("{base}pkcs11.pin_env = HSM_PIN\n")).expect("valid");
        assert_eq!(
            s.providers[0],
            ProviderConfig::Pkcs11(Pkcs11Settings {
                module: "/usr/lib/softhsm/libsofthsm2.so".into(),
                token_label: "kms".into(),
                pin: PinSource::Env("HSM_PIN".into()),
            })
        );
        let s = Settings::parse(&format!("{base}mqseal.pkcs11.pin_file = /etc/hsm.pin\n"))
            .expect("valid");
        assert!(
            matches!(&s.providers[0], ProviderConfig::Pkcs11(p) if p.pin == PinSource::File("/etc/hsm.pin".into()))
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
    fn callback_needs_a_provider_in_code() {
        let s = Settings::parse("provider = callback\n").expect("valid config");
        let e = s.build(None).expect_err("no provider supplied");
        assert!(e.message().contains("in code"), "{}", e.message());
    }

    #[cfg(not(feature = "aws-kms"))]
    #[test]
    fn aws_kms_without_the_feature_is_a_config_error() {
        let s = Settings::parse("provider = aws-kms\n").expect("valid config");
        let e = s.build(None).expect_err("feature missing");
        assert_eq!(e.code(), crate::ErrorCode::InvalidConfig);
        assert!(e.message().contains("aws-kms feature"), "{}", e.message());
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
        assert!(Settings::parse("keyring.path=/x\nretry.max_attempts = 0\n").is_err());
        assert!(Settings::parse("keyring.path=/x\nretry.deadline_ms = soon\n").is_err());
    }
}
