//! Errors of the command-line tool and their exit codes.

use std::fmt;
use std::path::Path;

use mqseal_core::Error;

/// Exit code of a successful run.
pub const EXIT_OK: u8 = 0;
/// Exit code of an invalid command line.
pub const EXIT_USAGE: u8 = 1;
/// Exit code of a failed read or write of a file or a standard stream.
pub const EXIT_IO: u8 = 2;
/// Exit code of an internal error, such as a caught panic.
pub const EXIT_INTERNAL: u8 = 70;

/// A failure of one `mqseal` run.
#[derive(Debug)]
pub enum CliError {
    /// The command line is invalid or requests an unsafe action, such as writing an
    /// envelope to a terminal.
    Usage(String),
    /// Reading or writing a file or a standard stream failed.
    Io(String),
    /// mqseal-core reported an error.
    Core(Error),
}

impl CliError {
    /// Creates an [`CliError::Io`] error that names the operation, the file and the cause.
    pub fn io(action: &str, path: &Path, cause: &std::io::Error) -> CliError {
        CliError::Io(format!(
            "cannot {action} {}: {cause}; check the path and its permissions",
            path.display()
        ))
    }

    /// Returns the message without the `mqseal:` prefix.
    pub fn message(&self) -> &str {
        match self {
            CliError::Usage(m) | CliError::Io(m) => m,
            CliError::Core(e) => e.message(),
        }
    }
}

impl From<Error> for CliError {
    fn from(error: Error) -> CliError {
        CliError::Core(error)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// Returns the exit code of an error. `--help` and `docs/CLI.md` list the same table.
///
/// Core errors map by their numeric group of 100, so a code added to a group later
/// gets that group's exit code without a change here.
pub fn exit_code(error: &CliError) -> u8 {
    match error {
        CliError::Usage(_) => EXIT_USAGE,
        CliError::Io(_) => EXIT_IO,
        CliError::Core(e) => match e.code().as_i32() / 100 {
            1 => 10, // invalid argument or configuration
            2 => 11, // malformed envelope or not encrypted
            3 => 12, // unsupported version, suite or feature
            4 => 13, // authentication failed
            5 => 14, // key or key version not found
            6 => 15, // provider unavailable, throttled or timed out
            7 => 16, // provider denied, key disabled, invalid provider response
            8 => 17, // usage or size limit exceeded
            _ => EXIT_INTERNAL,
        },
    }
}

#[cfg(test)]
mod tests {
    use mqseal_core::ErrorCode;

    use super::*;
    use crate::cli::EXIT_CODES_HELP;

    fn code_of(code: ErrorCode) -> u8 {
        exit_code(&CliError::Core(Error::new(code, "test")))
    }

    #[test]
    fn every_core_code_maps_by_group() {
        let expected = [
            (ErrorCode::InvalidArgument, 10),
            (ErrorCode::NullArgument, 10),
            (ErrorCode::BufferTooSmall, 10),
            (ErrorCode::InvalidConfig, 10),
            (ErrorCode::HandleClosed, 10),
            (ErrorCode::MalformedEnvelope, 11),
            (ErrorCode::TruncatedEnvelope, 11),
            (ErrorCode::NotEncrypted, 11),
            (ErrorCode::UnsupportedVersion, 12),
            (ErrorCode::UnsupportedSuite, 12),
            (ErrorCode::UnsupportedFeature, 12),
            (ErrorCode::AuthenticationFailed, 13),
            (ErrorCode::KeyCommitmentMismatch, 13),
            (ErrorCode::KeyNotFound, 14),
            (ErrorCode::KeyVersionNotFound, 14),
            (ErrorCode::ProviderUnavailable, 15),
            (ErrorCode::ProviderThrottled, 15),
            (ErrorCode::ProviderTimeout, 15),
            (ErrorCode::ProviderDenied, 16),
            (ErrorCode::KeyDisabled, 16),
            (ErrorCode::ProviderInvalidResponse, 16),
            (ErrorCode::UsageLimitExceeded, 17),
            (ErrorCode::Internal, 70),
            (ErrorCode::Panic, 70),
        ];
        assert_eq!(
            expected.len(),
            ErrorCode::ALL.len(),
            "a core code is untested"
        );
        for (code, exit) in expected {
            assert_eq!(code_of(code), exit, "{code}");
        }
    }

    #[test]
    fn retryable_codes_share_one_exit_code() {
        for code in ErrorCode::ALL {
            assert_eq!(code.is_retryable(), code_of(*code) == 15, "{code}");
        }
    }

    #[test]
    fn usage_and_io_codes() {
        assert_eq!(exit_code(&CliError::Usage("x".into())), EXIT_USAGE);
        assert_eq!(exit_code(&CliError::Io("x".into())), EXIT_IO);
    }

    #[test]
    fn exit_code_help_lists_every_code() {
        let mut codes: Vec<u8> = ErrorCode::ALL.iter().map(|c| code_of(*c)).collect();
        codes.extend([EXIT_OK, EXIT_USAGE, EXIT_IO]);
        codes.sort_unstable();
        codes.dedup();
        let listed: Vec<u8> = EXIT_CODES_HELP
            .lines()
            .filter_map(|line| line.split_whitespace().next()?.parse().ok())
            .collect();
        assert_eq!(listed, codes);
    }
}
