//! Command-line syntax: subcommands, options and help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mqseal_core::Suite;

/// Exit codes, shown after `--help`. `exit_code_help_lists_every_code` checks that this
/// text matches [`crate::error::exit_code`].
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
   0  success
   1  usage error: invalid command line, or a binary envelope aimed at a terminal
   2  I/O error: the input, output or configuration file cannot be read or written
  10  invalid argument or configuration (including a keyring readable by others)
  11  malformed envelope, or the input is not an mqseal envelope
  12  unsupported envelope version, cipher suite or feature
  13  authentication failed: tampered envelope, wrong context or wrong key
  14  key or key version not found
  15  key provider unavailable, throttled or timed out (retryable)
  16  key provider denied access, or the key is disabled
  17  usage or size limit exceeded
  70  internal error (a bug in mqseal)";

/// Encrypts and decrypts Apache RocketMQ message bodies with mqseal envelopes, with keys
/// in a local keyring file, a PKCS#11 token or AWS KMS, and manages keyring and PKCS#11
/// keys.
#[derive(Debug, Parser)]
#[command(name = "mqseal", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add key NAME with version 1 to a keyring, creating the file (mode 0600) if absent,
    /// or, with a --config that selects provider = pkcs11, create KEK pkcs11:<label>
    /// version 1 in the token.
    #[command(after_help = EXIT_CODES_HELP)]
    Keygen(KeyNameArgs),
    /// Add a new version of key NAME and make it the primary version (in the keyring,
    /// or in the PKCS#11 token that --config selects).
    #[command(after_help = EXIT_CODES_HELP)]
    Rotate(KeyNameArgs),
    /// List the keys of a keyring, or of the PKCS#11 token that --config selects, with
    /// their versions. Prints no key bytes.
    #[command(after_help = EXIT_CODES_HELP)]
    List(ListArgs),
    /// Encrypt a message body into an envelope.
    #[command(after_help = EXIT_CODES_HELP)]
    Encrypt(EncryptArgs),
    /// Decrypt an envelope and write the message body.
    #[command(after_help = EXIT_CODES_HELP)]
    Decrypt(DecryptArgs),
    /// Print the header fields of an envelope. Needs no key.
    #[command(after_help = EXIT_CODES_HELP)]
    Inspect(InspectArgs),
    /// Re-wrap an envelope's data key under the primary version of a key, and copy the
    /// encrypted payload unchanged.
    #[command(after_help = EXIT_CODES_HELP)]
    Rewrap(RewrapArgs),
}

/// Options of `keygen` and `rotate`.
#[derive(Debug, Args)]
pub struct KeyNameArgs {
    #[command(flatten)]
    pub source: KeySource,
    /// Key name: 1 to 255 characters from A-Z, a-z, 0-9 and - _ . : / (a PKCS#11 KEK
    /// is named pkcs11:<label>)
    #[arg(long, value_name = "NAME")]
    pub name: String,
}

/// Options of `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub source: KeySource,
}

/// Source of the keys: either a keyring file or a configuration file.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct KeySource {
    /// Keyring file that contains the key-encryption keys.
    #[arg(long, value_name = "PATH")]
    pub keyring: Option<PathBuf>,
    /// Configuration file of `key = value` lines (keyring.path, key_id, suite, limits
    /// and the other settings of the mqseal configuration format).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Input and output files.
#[derive(Debug, Args)]
pub struct InputOutput {
    /// Input file. Without this option, or with `-`, mqseal reads standard input.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Output file. Without this option, or with `-`, mqseal writes standard output. A
    /// new or replaced output file gets mode 0600.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Options of `encrypt`.
#[derive(Debug, Args)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub source: KeySource,
    /// Key that wraps the data key. Repeat it to wrap the data key under several keys,
    /// any one of which decrypts. Required with --keyring. Overrides key_id of --config.
    #[arg(long = "key-id", value_name = "NAME")]
    pub key_ids: Vec<String>,
    /// Cipher suite [default: aes-256-gcm, or suite of --config]
    #[arg(long, value_enum, value_name = "SUITE")]
    pub suite: Option<SuiteArg>,
    /// Authenticated context entry, such as topic=orders. Repeatable. Decryption needs
    /// the same entries unless --store-context is given.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// Store the context in the envelope header (in the clear), so decryption does not
    /// need --context.
    #[arg(long)]
    pub store_context: bool,
    /// Compress the body with LZ4 before encryption when it is at least 1024 bytes
    /// (compression.min_size of --config) and compression makes it smaller.
    #[arg(long)]
    pub compress: bool,
    /// Property sealed inside the ciphertext and shown by `decrypt --show-properties`.
    /// Repeatable.
    #[arg(long = "property", value_name = "KEY=VALUE")]
    pub properties: Vec<String>,
    #[command(flatten)]
    pub files: InputOutput,
}

/// Options of `decrypt`.
#[derive(Debug, Args)]
pub struct DecryptArgs {
    #[command(flatten)]
    pub source: KeySource,
    /// Authenticated context entry given to `encrypt`. Repeatable. Without it, the
    /// context stored in the envelope (if any) is used.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// Print the sealed properties to standard error as KEY=VALUE lines.
    #[arg(long)]
    pub show_properties: bool,
    #[command(flatten)]
    pub files: InputOutput,
}

/// Options of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Input file. Without this option, or with `-`, mqseal reads standard input.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `rewrap`.
#[derive(Debug, Args)]
pub struct RewrapArgs {
    #[command(flatten)]
    pub source: KeySource,
    /// Key that wraps the data key in the new envelope, at its primary version.
    /// Repeatable. Required with --keyring. Overrides key_id of --config.
    #[arg(long = "key-id", value_name = "NAME")]
    pub key_ids: Vec<String>,
    #[command(flatten)]
    pub files: InputOutput,
}

/// Cipher suite names accepted by `--suite`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SuiteArg {
    /// AES-256-GCM
    #[value(name = "aes-256-gcm")]
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 8439)
    #[value(name = "chacha20-poly1305")]
    ChaCha20Poly1305,
}

impl From<SuiteArg> for Suite {
    fn from(arg: SuiteArg) -> Suite {
        match arg {
            SuiteArg::Aes256Gcm => Suite::Aes256Gcm,
            SuiteArg::ChaCha20Poly1305 => Suite::ChaCha20Poly1305,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn suite_names_match_core_names() {
        for arg in SuiteArg::value_variants() {
            let name = arg
                .to_possible_value()
                .expect("every suite has a name")
                .get_name()
                .to_owned();
            assert_eq!(name, Suite::from(*arg).name());
        }
    }

    #[test]
    fn keyring_and_config_conflict() {
        let parsed = Cli::try_parse_from([
            "mqseal",
            "decrypt",
            "--keyring",
            "ring",
            "--config",
            "mqseal.conf",
        ]);
        assert!(parsed.is_err());
    }

    #[test]
    fn key_source_is_required() {
        assert!(Cli::try_parse_from(["mqseal", "decrypt"]).is_err());
    }
}
