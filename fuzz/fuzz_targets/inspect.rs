//! Runs the report of `mqseal inspect` (text and JSON) on arbitrary bytes. It must not
//! panic, and it must produce a report exactly for the bytes that parse as an envelope.
//! The text report contains no control character other than line ends, and the JSON
//! report is valid JSON.
#![no_main]

// The CLI is a binary crate, so its modules are compiled into this target directly.
#[allow(dead_code)]
#[path = "../../crates/mqseal-cli/src/cli.rs"]
mod cli;
#[allow(dead_code)]
#[path = "../../crates/mqseal-cli/src/error.rs"]
mod error;
#[allow(dead_code)]
#[path = "../../crates/mqseal-cli/src/inspect.rs"]
mod inspect;
#[allow(dead_code)]
#[path = "../../crates/mqseal-cli/src/io.rs"]
mod io;

use libfuzzer_sys::fuzz_target;
use mqseal_core::Envelope;

fuzz_target!(|data: &[u8]| {
    let parses = Envelope::parse(data).and_then(|e| e.info()).is_ok();
    let text = inspect::render(data, false);
    let json = inspect::render(data, true);
    assert_eq!(text.is_ok(), parses, "text report and parser disagree");
    assert_eq!(json.is_ok(), parses, "JSON report and parser disagree");
    if let Ok(text) = text {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "the text report holds an unescaped control character: {text:?}"
        );
    }
    if let Ok(json) = json {
        let value: serde_json::Value =
            serde_json::from_str(&json).expect("the JSON report is valid JSON");
        assert!(value.is_object(), "the JSON report is an object");
    }
});
