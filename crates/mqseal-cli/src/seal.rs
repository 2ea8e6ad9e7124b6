//! Subcommands that use keys: `encrypt`, `decrypt` and `rewrap`.

use std::fs;
use std::sync::Arc;

use mqseal_core::config::Settings;
use mqseal_core::{
    Attributes, Cipher, CipherConfig, EncryptOptions, Envelope, KeyProvider, LocalKeyring, Suite,
    WrappedKey,
};
use zeroize::Zeroizing;

use crate::cli::{DecryptArgs, EncryptArgs, KeySource, RewrapArgs};
use crate::error::CliError;
use crate::io::{Sink, escape_control, read_input};

/// Cipher settings that the command line sets on top of the keyring or the
/// configuration file.
#[derive(Debug, Default)]
struct CipherOverrides<'a> {
    /// Subcommand name, for messages.
    command: &'static str,
    /// Whether the subcommand wraps data keys and so needs at least one key id.
    needs_key_id: bool,
    key_ids: &'a [String],
    suite: Option<Suite>,
    compress: bool,
    store_context: bool,
}

/// Builds a cipher from `--keyring` or `--config`, with the command-line overrides.
fn build_cipher(source: &KeySource, overrides: &CipherOverrides<'_>) -> Result<Cipher, CliError> {
    if let Some(path) = &source.config {
        let text = fs::read_to_string(path)
            .map_err(|e| CliError::io("read configuration file", path, &e))?;
        let mut settings = Settings::parse(&text)?;
        let cipher = &mut settings.cipher;
        if !overrides.key_ids.is_empty() {
            cipher.key_ids = overrides.key_ids.to_vec();
        }
        if let Some(suite) = overrides.suite {
            cipher.suite = suite;
        }
        cipher.compression |= overrides.compress;
        cipher.store_context |= overrides.store_context;
        if overrides.needs_key_id && cipher.key_ids.is_empty() {
            return Err(CliError::Usage(format!(
                "{} needs a key id, but {} sets no key_id; add \"key_id = NAME\" to it or pass --key-id NAME",
                overrides.command,
                path.display()
            )));
        }
        return Ok(settings.build(None)?);
    }

    let Some(keyring) = &source.keyring else {
        return Err(CliError::Usage(format!(
            "{} needs --keyring PATH or --config FILE",
            overrides.command
        )));
    };
    if overrides.needs_key_id && overrides.key_ids.is_empty() {
        return Err(CliError::Usage(format!(
            "{} needs --key-id NAME with --keyring; `mqseal list --keyring {}` shows the key names",
            overrides.command,
            keyring.display()
        )));
    }
    let defaults = CipherConfig::default();
    let config = CipherConfig {
        suite: overrides.suite.unwrap_or(defaults.suite),
        key_ids: overrides.key_ids.to_vec(),
        compression: overrides.compress,
        store_context: overrides.store_context,
        ..defaults
    };
    let provider: Arc<dyn KeyProvider> = Arc::new(LocalKeyring::open(keyring)?);
    Ok(Cipher::new(config, vec![provider])?)
}

/// Parses repeated `KEY=VALUE` arguments of `option`, or returns `None` when there are none.
/// Messages name the argument's position, not its text, because a property value may
/// be confidential.
fn parse_pairs(values: &[String], option: &str) -> Result<Option<Attributes>, CliError> {
    if values.is_empty() {
        return Ok(None);
    }
    let mut pairs = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let Some((key, value)) = value.split_once('=') else {
            return Err(CliError::Usage(format!(
                "{option} number {} has no '='; write it as KEY=VALUE",
                index + 1
            )));
        };
        pairs.push((key, value));
    }
    Ok(Some(Attributes::from_pairs(pairs)?))
}

/// Encrypts a body into an envelope.
pub fn encrypt(args: &EncryptArgs) -> Result<(), CliError> {
    let sink = Sink::from_arg(args.files.output.as_deref());
    sink.check_binary_stdout()?;
    let context = parse_pairs(&args.context, "--context")?;
    let properties = parse_pairs(&args.properties, "--property")?;
    let cipher = build_cipher(
        &args.source,
        &CipherOverrides {
            command: "encrypt",
            needs_key_id: true,
            key_ids: &args.key_ids,
            suite: args.suite.map(Suite::from),
            compress: args.compress,
            store_context: args.store_context,
        },
    )?;

    let body = read_input(args.files.input.as_deref())?;
    let options = EncryptOptions {
        context: context.as_ref(),
        properties: properties.as_ref(),
    };
    let envelope = cipher.encrypt(&body, &options)?;
    sink.write(&envelope)
}

/// Decrypts an envelope, writes the body, and prints the sealed properties on request.
pub fn decrypt(args: &DecryptArgs) -> Result<(), CliError> {
    let sink = Sink::from_arg(args.files.output.as_deref());
    let context = parse_pairs(&args.context, "--context")?;
    let cipher = build_cipher(
        &args.source,
        &CipherOverrides {
            command: "decrypt",
            ..CipherOverrides::default()
        },
    )?;

    let envelope = read_input(args.files.input.as_deref())?;
    let decrypted = cipher.decrypt(&envelope, context.as_ref())?;
    let properties = decrypted.info.properties;
    let body = Zeroizing::new(decrypted.body);
    sink.write(&body)?;

    if args.show_properties {
        match properties {
            Some(properties) => eprint!("{}", format_properties(&properties)),
            None => eprintln!("the envelope carries no sealed properties"),
        }
    }
    Ok(())
}

/// Re-wraps the data key of an envelope under the primary version of the given keys.
pub fn rewrap(args: &RewrapArgs) -> Result<(), CliError> {
    let sink = Sink::from_arg(args.files.output.as_deref());
    sink.check_binary_stdout()?;
    let cipher = build_cipher(
        &args.source,
        &CipherOverrides {
            command: "rewrap",
            needs_key_id: true,
            key_ids: &args.key_ids,
            ..CipherOverrides::default()
        },
    )?;

    let input = read_input(args.files.input.as_deref())?;
    let old_keys = Envelope::parse(&input)?.info()?.keys;
    let output = cipher.rewrap(&input)?;
    let new_keys = Envelope::parse(&output)?.info()?.keys;
    sink.write(&output)?;
    eprintln!(
        "rewrapped the data key: it was wrapped under {}, and is now wrapped under {}",
        describe_keys(&old_keys),
        describe_keys(&new_keys)
    );
    Ok(())
}

/// Describes wrapped keys as `NAME version N`, comma-separated.
fn describe_keys(keys: &[WrappedKey]) -> String {
    let described: Vec<String> = keys
        .iter()
        .map(|k| format!("{} version {}", escape_control(&k.key_id), k.key_version))
        .collect();
    described.join(", ")
}

/// Formats properties as `KEY=VALUE` lines. Control characters are escaped, so a value
/// cannot add lines or move the terminal cursor.
fn format_properties(properties: &Attributes) -> String {
    let mut out = String::new();
    for (key, value) in properties.iter() {
        out.push_str(&escape_control(key));
        out.push('=');
        out.push_str(&escape_control(value));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_parse_and_split_at_first_equals() {
        let values = vec!["topic=orders".to_owned(), "filter=a=b".to_owned()];
        let parsed = parse_pairs(&values, "--context")
            .expect("valid pairs")
            .expect("non-empty");
        assert_eq!(parsed.get("topic"), Some("orders"));
        assert_eq!(parsed.get("filter"), Some("a=b"));
        assert_eq!(parsed.len(), 2);
    }

    #[test]
    fn pairs_absent_give_none() {
        assert!(parse_pairs(&[], "--context").expect("empty").is_none());
    }

    #[test]
    fn pair_without_equals_is_usage_error() {
        let values = vec!["a=1".to_owned(), "secret-value".to_owned()];
        let error = parse_pairs(&values, "--property").expect_err("no '='");
        assert!(matches!(error, CliError::Usage(_)));
        assert!(error.message().contains("number 2"), "{}", error.message());
        assert!(!error.message().contains("secret-value"));
    }

    #[test]
    fn duplicate_pair_key_is_core_error() {
        let values = vec!["a=1".to_owned(), "a=2".to_owned()];
        let error = parse_pairs(&values, "--context").expect_err("duplicate");
        assert!(matches!(error, CliError::Core(_)));
    }

    #[test]
    fn properties_escape_control_characters() {
        let properties =
            Attributes::from_pairs([("trace", "a\nb"), ("color", "\u{1b}[31m")]).expect("valid");
        assert_eq!(
            format_properties(&properties),
            "color=\\u{1b}[31m\ntrace=a\\nb\n"
        );
    }
}
