//! Reading the input and writing the output, as files or standard streams.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use mqseal_core::{Error, ErrorCode, MAX_BODY_LEN};
use zeroize::Zeroizing;

use crate::error::CliError;

/// Largest input read, in bytes: the largest body mqseal encrypts plus 1 MiB for an
/// envelope header, which is at most about 130 KiB with eight wrapped keys and a stored
/// context. Larger inputs are rejected before they fill memory.
pub const MAX_INPUT_LEN: u64 = MAX_BODY_LEN as u64 + (1 << 20);

/// Returns true when a file argument is `-`, which names a standard stream.
fn is_dash(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Reads the whole input: the file `path`, or standard input when `path` is `None` or `-`.
/// The buffer is zeroed when dropped, because it may hold a plaintext body.
pub fn read_input(path: Option<&Path>) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let mut buffer = Zeroizing::new(Vec::new());
    match path.filter(|p| !is_dash(p)) {
        Some(path) => {
            let file = File::open(path).map_err(|e| CliError::io("open input file", path, &e))?;
            if let Ok(meta) = file.metadata() {
                // Reserving the file size up front avoids reallocations, each of which would
                // leave a copy of the body in freed memory. The cap bounds a wrong size.
                buffer.reserve(meta.len().min(MAX_INPUT_LEN) as usize);
            }
            read_limited(
                file,
                &mut buffer,
                &path.display().to_string(),
                MAX_INPUT_LEN,
            )
            .map_err(|e| read_error(e, path))?;
        }
        None => {
            // NOTE: standard input has no known size, so the buffer grows by reallocation
            // and freed copies of the body are not zeroed.
            let stdin = io::stdin();
            if stdin.is_terminal() {
                eprintln!(
                    "mqseal: reading the input from the terminal; end it with Ctrl-D, or pass -i FILE"
                );
            }
            read_limited(stdin.lock(), &mut buffer, "standard input", MAX_INPUT_LEN)
                .map_err(|e| read_error(e, Path::new("standard input")))?;
        }
    }
    Ok(buffer)
}

enum ReadFailure {
    Io(io::Error),
    TooLarge(Error),
}

fn read_error(failure: ReadFailure, path: &Path) -> CliError {
    match failure {
        ReadFailure::Io(e) => CliError::io("read", path, &e),
        ReadFailure::TooLarge(e) => CliError::Core(e),
    }
}

/// Reads `reader` to its end into `buffer`, failing once it exceeds `limit` bytes.
fn read_limited(
    reader: impl Read,
    buffer: &mut Vec<u8>,
    name: &str,
    limit: u64,
) -> Result<(), ReadFailure> {
    reader
        .take(limit + 1)
        .read_to_end(buffer)
        .map_err(ReadFailure::Io)?;
    if buffer.len() as u64 > limit {
        return Err(ReadFailure::TooLarge(Error::new(
            ErrorCode::UsageLimitExceeded,
            format!(
                "input {name} is larger than {limit} bytes, the largest body or envelope \
                 mqseal accepts; split the data into smaller messages"
            ),
        )));
    }
    Ok(())
}

/// Destination of a command's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sink {
    /// Standard output. `explicit` is true when the command line contains `-o -`.
    Stdout {
        /// Whether `-o -` was given.
        explicit: bool,
    },
    /// A file.
    File(PathBuf),
}

impl Sink {
    /// Returns the sink named by an `-o` argument.
    pub fn from_arg(path: Option<&Path>) -> Sink {
        match path {
            None => Sink::Stdout { explicit: false },
            Some(p) if is_dash(p) => Sink::Stdout { explicit: true },
            Some(p) => Sink::File(p.to_owned()),
        }
    }

    /// Rejects writing a binary envelope to a terminal unless `-o -` was given, because
    /// it would garble the terminal and is almost always a forgotten redirection.
    pub fn check_binary(&self, stdout_is_terminal: bool) -> Result<(), CliError> {
        if *self == (Sink::Stdout { explicit: false }) && stdout_is_terminal {
            return Err(CliError::Usage(
                "standard output is a terminal, and the envelope is binary; \
                 pass -o FILE, redirect the output, or pass -o - to write it anyway"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// Same as [`Sink::check_binary`] for the process's real standard output.
    pub fn check_binary_stdout(&self) -> Result<(), CliError> {
        self.check_binary(io::stdout().is_terminal())
    }

    /// Writes `bytes` to the sink.
    pub fn write(&self, bytes: &[u8]) -> Result<(), CliError> {
        match self {
            Sink::Stdout { .. } => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)
                    .and_then(|()| out.flush())
                    .map_err(|e| CliError::io("write", Path::new("standard output"), &e))
            }
            Sink::File(path) => write_file(path, bytes),
        }
    }
}

/// Writes a file. A regular file is replaced atomically: the bytes go to a new file
/// with mode 0600 in the same directory, which is then renamed over `path`. So a failed
/// run leaves no partial output, and `-o` may name the input file. Devices, pipes and
/// symbolic links are written in place, because renaming would replace them.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_file() => write_in_place(path, bytes),
        _ => write_replacing(path, bytes),
    }
}

fn write_in_place(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut file = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(|e| CliError::io("open output file", path, &e))?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .map_err(|e| CliError::io("write", path, &e))
}

fn write_replacing(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_owned());
    let temporary = dir.join(format!(".{name}.mqseal-{}.tmp", std::process::id()));

    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&temporary)
        .map_err(|e| CliError::io("create output file", path, &e))?;

    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&temporary, path));
    if let Err(e) = written {
        // Best effort: the temporary file may be gone already after a failed rename.
        let _ = fs::remove_file(&temporary);
        return Err(CliError::io("write", path, &e));
    }
    Ok(())
}

/// Replaces control characters with Rust-style escapes such as `\n` and `\u{1b}`.
pub fn escape_control(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_control_keeps_printable_text() {
        assert_eq!(escape_control("topic=orders ü"), "topic=orders ü");
        assert_eq!(escape_control("a\r\nb\u{7}"), "a\\r\\nb\\u{7}");
    }

    #[test]
    fn sink_from_arg() {
        assert_eq!(Sink::from_arg(None), Sink::Stdout { explicit: false });
        assert_eq!(
            Sink::from_arg(Some(Path::new("-"))),
            Sink::Stdout { explicit: true }
        );
        assert_eq!(
            Sink::from_arg(Some(Path::new("out.bin"))),
            Sink::File(PathBuf::from("out.bin"))
        );
    }

    #[test]
    fn binary_to_terminal_rejected_unless_explicit() {
        let implicit = Sink::Stdout { explicit: false };
        let error = implicit.check_binary(true).expect_err("terminal");
        assert!(matches!(error, CliError::Usage(_)));
        assert!(error.message().contains("-o FILE"), "{}", error.message());
        assert!(implicit.check_binary(false).is_ok());
        assert!(Sink::Stdout { explicit: true }.check_binary(true).is_ok());
        assert!(Sink::File("x".into()).check_binary(true).is_ok());
    }

    #[test]
    fn input_over_limit_rejected() {
        let mut buffer = Vec::new();
        let reader = io::repeat(0).take(110);
        let failure = read_limited(reader, &mut buffer, "test", 100).err();
        match failure {
            Some(ReadFailure::TooLarge(e)) => assert_eq!(e.code(), ErrorCode::UsageLimitExceeded),
            _ => panic!("an input over the limit must be rejected"),
        }
        assert_eq!(buffer.len(), 101);
    }

    #[test]
    fn input_at_limit_accepted() {
        let mut buffer = Vec::new();
        let reader = io::repeat(7).take(100);
        assert!(read_limited(reader, &mut buffer, "test", 100).is_ok());
        assert_eq!(buffer, vec![7u8; 100]);
    }
}
