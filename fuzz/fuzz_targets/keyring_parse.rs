//! Checks that `KeyringFile::parse` does not panic, and that its error messages do not
//! echo 64 consecutive hex digits of the input, because such a run may be a key-encryption key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqseal_core::provider::KeyringFile;

/// Length in hex digits of a 256-bit key.
const KEY_HEX_LEN: usize = 64;

/// Returns every maximal run of at least `KEY_HEX_LEN` ASCII hex digits in `text`.
fn hex_runs(text: &str) -> Vec<&str> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, b) in text.bytes().chain(std::iter::once(b' ')).enumerate() {
        match (b.is_ascii_hexdigit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= KEY_HEX_LEN {
                    runs.push(&text[s..i]);
                }
                start = None;
            }
            _ => {}
        }
    }
    runs
}

fuzz_target!(|text: &str| {
    match KeyringFile::parse(text) {
        Ok(file) => {
            // A parsed keyring serializes to text that parses to the same key list.
            let again = KeyringFile::parse(&file.to_text()).expect("to_text output parses");
            assert_eq!(file.list(), again.list());
        }
        Err(error) => {
            let message = error.message();
            for run in hex_runs(message) {
                // Any 64-digit window of the run that also occurs in the input is an echo.
                for window in run.as_bytes().windows(KEY_HEX_LEN) {
                    let window = std::str::from_utf8(window).expect("hex digits are ASCII");
                    assert!(
                        !text.contains(window),
                        "the error message echoes 64 hex digits of the input: {message:?}"
                    );
                }
            }
        }
    }
});
