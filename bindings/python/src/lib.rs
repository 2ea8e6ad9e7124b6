//! The Python extension module `mqseal._native`, wrapped by the `mqseal` package.
//!
//! Modules:
//! - [`boundary`]: the panic boundary and the mapping of core errors to exceptions;
//! - [`buffer`]: the one extractor of byte inputs;
//! - [`release`]: GIL release for long calls, and the fork gate;
//! - [`attrs`]: Python mappings to and from context and sealed properties;
//! - [`settings`]: the keyword settings of `Cipher(...)`;
//! - [`cipher`]: `Cipher` and `Decrypted`;
//! - [`envelope`]: key-less functions (inspection, keyring files);
//! - [`log`]: records on the `logging` logger `mqseal`;
//! - [`provider`]: key providers implemented in Python.

mod attrs;
mod boundary;
mod buffer;
mod cipher;
mod envelope;
mod log;
mod provider;
mod release;
mod settings;

use mqseal_core::{Backend, ErrorCode, Suite, properties};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::boundary::{Outcome, guard};

/// FOR TESTS ONLY: panics inside the extension on purpose, to prove that the panic
/// boundary raises `mqseal.InternalError` (code 901) instead of crashing. The panic
/// location is printed on standard error.
#[pyfunction]
#[pyo3(name = "_debug_panic")]
fn debug_panic() -> Outcome<()> {
    guard(|| panic!("deliberate panic for the mqseal Python boundary tests"))
}

/// FOR TESTS ONLY: returns `(ciphers, providers)`, the numbers of `Cipher` objects and
/// Python key providers the extension holds, so tests can check that both are freed.
#[pyfunction]
#[pyo3(name = "_debug_live_objects")]
fn debug_live_objects() -> (i64, i64) {
    (cipher::live_ciphers(), provider::live_providers())
}

/// FOR TESTS ONLY: raises the error `code` through the normal error path, so tests can
/// check that every code reaches Python as its exception class.
#[pyfunction]
#[pyo3(name = "_debug_raise", signature = (code, required_size = None))]
fn debug_raise(code: i32, required_size: Option<usize>) -> Outcome<()> {
    guard(|| {
        let code = ErrorCode::from_i32(code).ok_or_else(|| {
            boundary::invalid_argument(format!("{code} is not an mqseal error code"))
        })?;
        let error = match (code, required_size) {
            (ErrorCode::BufferTooSmall, Some(required)) => {
                mqseal_core::Error::buffer_too_small(required, 0)
            }
            _ => mqseal_core::Error::new(
                code,
                format!("test error raised for code {}", code.as_i32()),
            ),
        };
        Err(error.into())
    })
}

/// Returns every error code of the core as `(code, name, retryable)`, in numeric order.
#[pyfunction]
fn error_codes() -> Vec<(i32, &'static str, bool)> {
    ErrorCode::ALL
        .iter()
        .map(|c| (c.as_i32(), c.name(), c.is_retryable()))
        .collect()
}

/// Adds the message property names of `mqseal_core::properties`.
fn add_properties(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PROPERTY_TABLE", PyTuple::new(py, properties::ALL)?)?;
    let named = PyDict::new(py);
    for (name, value) in [
        ("PREFIX", properties::PREFIX),
        ("VERSION", properties::VERSION),
        ("SUITE", properties::SUITE),
        ("KEY_ID", properties::KEY_ID),
        ("KEY_VERSION", properties::KEY_VERSION),
        ("TOPIC", properties::TOPIC),
        ("SEALED", properties::SEALED),
        ("ERROR_CODE", properties::ERROR_CODE),
        ("ERROR_NAME", properties::ERROR_NAME),
        ("ERROR_RETRYABLE", properties::ERROR_RETRYABLE),
        ("CONTEXT_TOPIC", properties::CONTEXT_TOPIC),
    ] {
        named.set_item(name, value)?;
    }
    m.add("PROPERTY_NAMES", named)
}

/// Registers the fork hooks of [`release`] with `os.register_at_fork`.
fn register_fork_hooks(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let kwargs = PyDict::new(py);
    kwargs.set_item("before", wrap_pyfunction!(release::before_fork, m)?)?;
    kwargs.set_item(
        "after_in_parent",
        wrap_pyfunction!(release::after_fork_in_parent, m)?,
    )?;
    kwargs.set_item(
        "after_in_child",
        wrap_pyfunction!(release::after_fork_in_child, m)?,
    )?;
    PyModule::import(py, "os")?.call_method("register_at_fork", (), Some(&kwargs))?;
    Ok(())
}

#[pymodule(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("CORE_VERSION", mqseal_core::VERSION)?;
    let suites: Vec<&str> = Suite::ALL.iter().map(|s| s.name()).collect();
    m.add("SUITES", PyTuple::new(m.py(), suites)?)?;
    let backends: Vec<&str> = Backend::AVAILABLE.iter().map(|b| b.name()).collect();
    m.add("BACKENDS", PyTuple::new(m.py(), backends)?)?;
    m.add("RELEASE_THRESHOLD", release::RELEASE_THRESHOLD)?;
    add_properties(m)?;
    m.add_class::<cipher::PyCipher>()?;
    m.add_class::<cipher::PyDecrypted>()?;
    m.add_function(wrap_pyfunction!(envelope::inspect, m)?)?;
    m.add_function(wrap_pyfunction!(envelope::looks_encrypted, m)?)?;
    m.add_function(wrap_pyfunction!(envelope::keyring_generate, m)?)?;
    m.add_function(wrap_pyfunction!(envelope::keyring_rotate, m)?)?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(debug_panic, m)?)?;
    m.add_function(wrap_pyfunction!(debug_live_objects, m)?)?;
    m.add_function(wrap_pyfunction!(debug_raise, m)?)?;
    m.add_function(wrap_pyfunction!(cipher::debug_known_answer_cipher, m)?)?;
    m.add_function(wrap_pyfunction!(release::debug_fork_gate, m)?)?;
    register_fork_hooks(m)?;
    Ok(())
}
