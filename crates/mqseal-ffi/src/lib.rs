//! The C ABI of mqseal: `libmqseal.so` / `libmqseal.a` and `include/mqseal.h`.
//!
//! The header is generated from this crate by cbindgen (`make header`); its opening
//! comment, kept in `cbindgen.toml`, is the contract every function here follows.
//!
//! Modules:
//! - [`boundary`]: the panic boundary every entry point runs through;
//! - [`error`]: status codes, error names, the per-thread last error;
//! - [`raw`]: the only place where C pointers become references and slices;
//! - [`buffer`]: library-allocated output bytes;
//! - [`attributes`]: string maps for the context and sealed properties;
//! - [`cipher`]: the cipher handle and its operations;
//! - [`provider`]: the callback provider and the keyring helpers;
//! - [`envelope`]: envelope inspection without keys.

#![deny(missing_docs)]
// Exported types carry their C names (`mqseal_cipher`, ...), so the header needs no renames.
#![allow(non_camel_case_types)]

pub mod attributes;
mod boundary;
pub mod buffer;
pub mod cipher;
pub mod envelope;
pub mod error;
pub mod provider;
mod raw;

use std::ffi::c_char;

pub use attributes::mqseal_attributes;
pub use buffer::mqseal_buffer;
pub use cipher::{mqseal_cipher, mqseal_cipher_options, mqseal_counters, mqseal_decrypt_info};
pub use envelope::{mqseal_envelope_info, mqseal_envelope_key};
pub use provider::{mqseal_callback_provider, mqseal_provider_callbacks};

/// The crate version with a terminating NUL, as `mqseal_version` returns it.
const VERSION_C: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
) {
    Ok(v) => v,
    Err(_) => panic!("the crate version contains a NUL byte"),
};

/// Returns the library version, such as `"0.1.0"`: the version of the mqseal crates it
/// was built from. Compare it with `MQSEAL_VERSION` to detect a header/library mismatch.
///
/// The string is static: never free it. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn mqseal_version() -> *const c_char {
    VERSION_C.as_ptr()
}

/// FOR TESTS ONLY: panics inside the library on purpose, to prove that the panic
/// boundary turns a panic into `MQSEAL_PANIC` (901) instead of unwinding into C. Always
/// returns `MQSEAL_PANIC` and sets the last error; the panic location is printed on
/// standard error. Has no other effect. Never call it in production code.
#[unsafe(no_mangle)]
pub extern "C" fn mqseal_debug_force_panic() -> i32 {
    boundary::status(|| panic!("mqseal_debug_force_panic: deliberate panic for the C ABI tests"))
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;
    use crate::error::STATUS_CONSTANTS;

    fn header() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/mqseal.h");
        std::fs::read_to_string(path).expect("include/mqseal.h is committed; run `make header`")
    }

    #[test]
    fn version_is_the_crate_version() {
        // SAFETY: `mqseal_version` returns a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(mqseal_version()) };
        assert_eq!(v.to_str().expect("ascii"), env!("CARGO_PKG_VERSION"));
        assert_eq!(v.to_str().expect("ascii"), mqseal_core::VERSION);
    }

    #[test]
    fn header_version_macros_match_the_crate_version() {
        let h = header();
        for (name, value) in [
            ("MQSEAL_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
            ("MQSEAL_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
            ("MQSEAL_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
        ] {
            let line = format!("#define {name} {value}\n");
            assert!(
                h.contains(&line),
                "mqseal.h lacks {line:?}; run `make header`"
            );
        }
        let line = format!("#define MQSEAL_VERSION \"{}\"\n", env!("CARGO_PKG_VERSION"));
        assert!(
            h.contains(&line),
            "mqseal.h lacks {line:?}; run `make header`"
        );
    }

    #[test]
    fn header_defines_every_status_code() {
        let h = header();
        for (name, value) in STATUS_CONSTANTS {
            let line = format!("#define {name} {value}\n");
            assert!(
                h.contains(&line),
                "mqseal.h lacks {line:?}; run `make header`"
            );
        }
    }

    /// The property macros of `cbindgen.toml` must equal the core's table, because
    /// cbindgen cannot generate string macros from Rust constants.
    #[test]
    fn header_property_macros_match_the_core_table() {
        use mqseal_core::properties as core;
        let macros = [
            ("MQSEAL_PROPERTY_PREFIX", core::PREFIX),
            ("MQSEAL_PROPERTY_VERSION", core::VERSION),
            ("MQSEAL_PROPERTY_SUITE", core::SUITE),
            ("MQSEAL_PROPERTY_KEY_ID", core::KEY_ID),
            ("MQSEAL_PROPERTY_KEY_VERSION", core::KEY_VERSION),
            ("MQSEAL_PROPERTY_TOPIC", core::TOPIC),
            ("MQSEAL_PROPERTY_SEALED", core::SEALED),
            ("MQSEAL_PROPERTY_ERROR_CODE", core::ERROR_CODE),
            ("MQSEAL_PROPERTY_ERROR_NAME", core::ERROR_NAME),
            ("MQSEAL_PROPERTY_ERROR_RETRYABLE", core::ERROR_RETRYABLE),
            ("MQSEAL_CONTEXT_TOPIC", core::CONTEXT_TOPIC),
        ];
        let h = header();
        for (name, value) in macros {
            let line = format!("#define {name} \"{value}\"\n");
            assert!(
                h.contains(&line),
                "mqseal.h lacks {line:?}; fix crates/mqseal-ffi/cbindgen.toml and run `make header`"
            );
        }
        for (name, _description) in core::ALL {
            assert!(
                macros.iter().any(|(_, value)| value == name),
                "mqseal_core::properties::ALL has {name:?} but mqseal.h has no macro for it"
            );
        }
        let defined = h.matches("#define MQSEAL_PROPERTY_").count();
        assert_eq!(
            defined,
            macros.len() - 1,
            "mqseal.h defines a property macro the core lacks"
        );
    }

    #[test]
    fn forced_panic_is_caught() {
        assert_eq!(mqseal_debug_force_panic(), error::MQSEAL_PANIC);
        assert_eq!(error::mqseal_last_error_code(), error::MQSEAL_PANIC);
    }
}
