//! Regression tests for key echo in `KeyringFile::parse` errors, found by the
//! `keyring_parse` fuzz target. Each input puts 64 hex digits (a 256-bit key) in a
//! field whose value the error message quotes. The raw inputs are in
//! `fuzz/regressions/keyring_parse/` and replay with
//! `cargo +nightly fuzz run keyring_parse fuzz/regressions/keyring_parse/<file>`.
//!
//! Run with `cargo test --manifest-path fuzz/Cargo.toml --test keyring_key_echo`.
//! `make fuzz-smoke` replays the raw inputs through the `keyring_parse` target instead,
//! which needs no second build, and the unit test `parse_errors_never_echo_fields` of
//! `crates/mqseal-core/src/provider/keyring.rs` checks the same three inputs.

use mqseal_core::provider::KeyringFile;

/// The published test-vector KEK of `tests/vectors/v1.json`.
const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn error_message(text: &str) -> String {
    KeyringFile::parse(text)
        .expect_err("the keyring is invalid")
        .message()
        .to_owned()
}

#[test]
fn key_in_version_field_not_echoed() {
    // Version and key swapped: the version parser quotes the whole field.
    let message = error_message(&format!("mqseal-keyring 1\nkey test-kek {KEY_HEX} 1\n"));
    assert!(!message.contains(KEY_HEX), "{message}");
}

#[test]
fn key_in_invalid_name_not_echoed() {
    // `{name:.64?}` does not shorten a string: Debug ignores the precision.
    let message = error_message(&format!("mqseal-keyring 1\nkey {KEY_HEX}! 1 {KEY_HEX}\n"));
    assert!(!message.contains(KEY_HEX), "{message}");
}

#[test]
fn key_in_primary_name_not_echoed() {
    let message = error_message(&format!("mqseal-keyring 1\nprimary {KEY_HEX} 1\n"));
    assert!(!message.contains(KEY_HEX), "{message}");
}
