//! `mqseal`: the command-line tool of mqseal.
//!
//! Manages keyring and PKCS#11 keys and encrypts, decrypts, inspects and re-wraps envelopes.
//! Errors go to standard error as `mqseal: <message>`, and the exit code names the
//! error kind (see [`error::exit_code`] and `docs/CLI.md`).

mod cli;
mod error;
mod inspect;
mod io;
mod keys;
mod seal;

use std::panic;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::{CliError, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, exit_code};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return report_parse_error(&e),
    };
    // The default panic hook has already printed the panic's location. Catching the
    // panic replaces Rust's exit code 101 with the documented code 70.
    match panic::catch_unwind(|| run(&cli)) {
        Ok(Ok(())) => ExitCode::from(EXIT_OK),
        Ok(Err(e)) => {
            report_error(&e);
            ExitCode::from(exit_code(&e))
        }
        Err(_) => {
            eprintln!("mqseal: internal error: the command panicked; this is a bug in mqseal");
            ExitCode::from(EXIT_INTERNAL)
        }
    }
}

fn run(cli: &Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Keygen(args) => keys::keygen(args),
        Command::Rotate(args) => keys::rotate(args),
        Command::List(args) => keys::list(args),
        Command::Encrypt(args) => seal::encrypt(args),
        Command::Decrypt(args) => seal::decrypt(args),
        Command::Inspect(args) => inspect::inspect(args),
        Command::Rewrap(args) => seal::rewrap(args),
    }
}

fn report_error(error: &CliError) {
    // Messages can name values read from the envelope, so control characters are escaped.
    eprintln!("mqseal: {}", io::escape_control(error.message()));
    if let CliError::Core(e) = error
        && e.is_retryable()
    {
        eprintln!("mqseal: the key provider may recover; retry the command later");
    }
}

/// Prints help and version text to standard output with exit code 0, and a command-line
/// error as `mqseal: <message>` with exit code 1 (clap's own default would be 2, which
/// this tool uses for I/O errors).
fn report_parse_error(error: &clap::Error) -> ExitCode {
    if !error.use_stderr() {
        // Best effort: a closed standard output leaves nothing to report to.
        let _ = error.print();
        return ExitCode::from(EXIT_OK);
    }
    let rendered = error.render().to_string();
    if error.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // The rendered text is the help itself, not a sentence to prefix.
        eprint!("{rendered}");
        return ExitCode::from(EXIT_USAGE);
    }
    let message = rendered.strip_prefix("error: ").unwrap_or(&rendered);
    eprint!("mqseal: {message}");
    ExitCode::from(EXIT_USAGE)
}
