//! The error and panic boundary between the core and Python.
//!
//! Every entry point runs its body through [`guard`], which turns a Rust panic into an
//! `mqseal.InternalError` (code 901) instead of pyo3's `PanicException`, and returns a
//! [`Failure`]. A core error becomes an instance of the Python exception class that
//! `mqseal.errors` maps its code to: this crate never chooses a class itself, so the
//! mapping lives in one place.

use std::panic::{AssertUnwindSafe, catch_unwind};

use mqseal_core::{Error, ErrorCode};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// A failed call: a core error, or a Python exception raised while reading arguments.
pub(crate) enum Failure {
    Core(Error),
    Python(PyErr),
}

pub(crate) type Outcome<T> = Result<T, Failure>;

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

impl From<PyErr> for Failure {
    fn from(e: PyErr) -> Self {
        Failure::Python(e)
    }
}

impl From<Failure> for PyErr {
    fn from(failure: Failure) -> PyErr {
        match failure {
            Failure::Python(e) => e,
            Failure::Core(e) => Python::attach(|py| exception_for(py, &e)),
        }
    }
}

/// `mqseal.errors._from_native`, the one function that maps a code to a class.
static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Builds the Python exception for a core error through `mqseal.errors`.
fn exception_for(py: Python<'_>, e: &Error) -> PyErr {
    let factory = FACTORY.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(PyModule::import(py, "mqseal.errors")?
            .getattr("_from_native")?
            .unbind())
    });
    let factory = match factory {
        Ok(f) => f.bind(py),
        Err(import_error) => return import_error,
    };
    let code = e.code();
    let args = (
        code.as_i32(),
        code.name(),
        code.is_retryable(),
        e.message(),
        e.required_size(),
    );
    match factory.call1(args) {
        Ok(exception) => {
            let error = PyErr::from_value(exception);
            if let Some(cause) = crate::provider::take_cause(code) {
                error.set_cause(py, Some(cause));
            }
            error
        }
        Err(factory_error) => factory_error,
    }
}

fn panic_error() -> Error {
    Error::new(
        ErrorCode::Panic,
        "a panic was caught at the mqseal Python boundary; this is a bug in mqseal, please \
         report it with the panic location printed on standard error",
    )
}

/// Runs `f`, turning a panic into a [`ErrorCode::Panic`] error.
///
/// The panic message is not passed on, because a payload may format values and errors
/// never carry key bytes or plaintext. The default panic hook prints the panic location
/// on standard error.
///
/// Unwind safety: a panic may leave a cipher's caches half-updated but never
/// memory-unsafe, because the core's shared state sits behind atomics and poisoning locks.
/// A poisoned lock turns later calls into `internal` errors.
///
/// A key provider callback that fails stores its exception for this thread; `guard`
/// drops any exception left from an earlier call first, and converts a core error to
/// its Python exception before returning, while the stored cause still belongs to it.
pub(crate) fn guard<T>(f: impl FnOnce() -> Outcome<T>) -> Outcome<T> {
    crate::provider::clear_cause();
    let outcome = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            // Dropping a payload can itself panic; keep that inside the boundary too.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            Err(Failure::Core(panic_error()))
        }
    };
    let outcome = outcome.map_err(|failure| match failure {
        Failure::Core(e) => Failure::Python(Python::attach(|py| exception_for(py, &e))),
        python => python,
    });
    crate::provider::clear_cause();
    outcome
}

/// Returns an `invalid_argument` (100) error with `message`.
pub(crate) fn invalid_argument(message: impl Into<String>) -> Failure {
    Failure::Core(Error::new(ErrorCode::InvalidArgument, message))
}

/// Returns an `invalid_config` (103) error with `message`.
pub(crate) fn invalid_config(message: impl Into<String>) -> Failure {
    Failure::Core(Error::new(ErrorCode::InvalidConfig, message))
}
