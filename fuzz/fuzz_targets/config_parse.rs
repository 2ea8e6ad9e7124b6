//! Checks that `Settings::parse` does not panic on arbitrary text, and that what it
//! accepts passes `CipherConfig::validate`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqseal_core::config::Settings;

fuzz_target!(|text: &str| {
    if let Ok(settings) = Settings::parse(text) {
        settings
            .cipher
            .validate()
            .expect("Settings::parse returns only validated settings");
    }
});
