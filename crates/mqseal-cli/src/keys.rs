//! Key subcommands: `keygen`, `rotate` and `list`, on a keyring file or, through a
//! configuration file, a PKCS#11 token. None of them prints key bytes.

use std::fs;
use std::path::{Path, PathBuf};

use mqseal_core::config::{ProviderConfig, Settings};
use mqseal_core::provider::KeyringFile;
use mqseal_core::{Error, ErrorCode, LocalKeyring};
use zeroize::Zeroizing;

use crate::cli::{KeyNameArgs, KeySource, ListArgs};
use crate::error::CliError;

/// The key store that `keygen`, `rotate` and `list` work on.
enum KeyStore {
    Keyring(PathBuf),
    #[cfg(feature = "pkcs11")]
    Pkcs11(mqseal_core::provider::Pkcs11Provider),
}

fn key_store(source: &KeySource, command: &str) -> Result<KeyStore, CliError> {
    if let Some(path) = &source.keyring {
        return Ok(KeyStore::Keyring(path.clone()));
    }
    let Some(config) = &source.config else {
        return Err(CliError::Usage(format!(
            "{command} needs --keyring PATH or --config FILE"
        )));
    };
    let text = fs::read_to_string(config)
        .map_err(|e| CliError::io("read configuration file", config, &e))?;
    // The first keyring or PKCS#11 token in the provider list holds the keys.
    let providers = Settings::parse(&text)?.providers;
    let names: Vec<&str> = providers.iter().map(ProviderConfig::name).collect();
    for provider in providers {
        match provider {
            ProviderConfig::Keyring { path } => return Ok(KeyStore::Keyring(path)),
            #[cfg(feature = "pkcs11")]
            ProviderConfig::Pkcs11(settings) => {
                return Ok(KeyStore::Pkcs11(
                    mqseal_core::provider::Pkcs11Provider::open(&settings)?,
                ));
            }
            _ => {}
        }
    }
    Err(unsupported_provider(command, config, &names))
}

/// Returns the configuration error (exit code 10) for a `--config` whose provider list
/// has no keyring and no PKCS#11 token that this build can open.
fn unsupported_provider(command: &str, config: &Path, names: &[&str]) -> CliError {
    let mut message = format!(
        "{command} --config needs a keyring or pkcs11 provider in the provider list, but {} \
         lists {}",
        config.display(),
        names.join(", ")
    );
    if names.contains(&"pkcs11") {
        message.push_str("; this build lacks the pkcs11 feature, so rebuild mqseal with it");
    }
    if names.contains(&"aws-kms") {
        message.push_str(
            "; AWS KMS keys are created and rotated in the KMS itself (console, CLI or API)",
        );
    }
    CliError::Core(Error::new(ErrorCode::InvalidConfig, message))
}

/// Adds key NAME with version 1: to the keyring file, which gets mode 0600 if created,
/// or as a new KEK object in the PKCS#11 token.
pub fn keygen(args: &KeyNameArgs) -> Result<(), CliError> {
    let version = match key_store(&args.source, "keygen")? {
        KeyStore::Keyring(path) => LocalKeyring::generate_in_file(&path, &args.name)?,
        #[cfg(feature = "pkcs11")]
        KeyStore::Pkcs11(token) => token.generate_key(&args.name)?,
    };
    println!("created key {} version {version}", args.name);
    Ok(())
}

/// Adds a new version of key NAME and makes it primary.
pub fn rotate(args: &KeyNameArgs) -> Result<(), CliError> {
    let version = match key_store(&args.source, "rotate")? {
        KeyStore::Keyring(path) => LocalKeyring::rotate_in_file(&path, &args.name)?,
        #[cfg(feature = "pkcs11")]
        KeyStore::Pkcs11(token) => token.rotate_key(&args.name)?,
    };
    println!("added key {} version {version}, now primary", args.name);
    Ok(())
}

/// Prints one line per key: name, primary version and every version.
pub fn list(args: &ListArgs) -> Result<(), CliError> {
    let keyring = match key_store(&args.source, "list")? {
        KeyStore::Keyring(path) => path,
        #[cfg(feature = "pkcs11")]
        KeyStore::Pkcs11(token) => {
            let keys = token.list()?;
            if keys.is_empty() {
                eprintln!(
                    "the token {} has no mqseal KEKs; add one with `mqseal keygen --config FILE \
                     --name pkcs11:LABEL`",
                    token.token_label()
                );
            } else {
                print!("{}", format_key_table(&keys));
            }
            return Ok(());
        }
    };
    // Opening checks the file mode and the syntax with the same rules as every
    // consumer. The text is then read again because the core exposes no listing of an
    // opened keyring.
    LocalKeyring::open(&keyring)?;
    let text = Zeroizing::new(
        fs::read_to_string(&keyring).map_err(|e| CliError::io("read keyring", &keyring, &e))?,
    );
    let keys = KeyringFile::parse(&text)?.list();
    if keys.is_empty() {
        eprintln!(
            "the keyring {} has no keys; add one with `mqseal keygen --keyring {} --name NAME`",
            keyring.display(),
            keyring.display()
        );
        return Ok(());
    }
    print!("{}", format_key_table(&keys));
    Ok(())
}

/// Formats keys as an aligned table with a header line.
fn format_key_table(keys: &[(String, Vec<u32>, u32)]) -> String {
    let width = keys
        .iter()
        .map(|(name, _, _)| name.len())
        .max()
        .unwrap_or(0)
        .max("NAME".len());
    let mut out = format!("{:<width$}  PRIMARY  VERSIONS\n", "NAME");
    for (name, versions, primary) in keys {
        let versions: Vec<String> = versions.iter().map(u32::to_string).collect();
        out.push_str(&format!(
            "{name:<width$}  {primary:<7}  {}\n",
            versions.join(",")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_table_aligns_columns() {
        let keys = vec![
            ("orders".to_owned(), vec![1, 2, 3], 3),
            ("payments-eu".to_owned(), vec![1], 1),
        ];
        let table = format_key_table(&keys);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "NAME         PRIMARY  VERSIONS");
        assert_eq!(lines[1], "orders       3        1,2,3");
        assert_eq!(lines[2], "payments-eu  1        1");
        assert_eq!(lines.len(), 3);
    }
}
