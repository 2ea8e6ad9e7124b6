//! Log records on the standard `logging` logger `mqseal`.
//!
//! Only rare events are logged (cipher created or closed, data key rotated, keyring
//! changed, a slow fork), never per message, and no record carries key bytes, bodies or
//! property values. The message is formatted only when the level is enabled.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `logging.DEBUG`.
const DEBUG: i32 = 10;
/// `logging.INFO`.
const INFO: i32 = 20;
/// `logging.WARNING`.
const WARNING: i32 = 30;

fn emit(py: Python<'_>, level: i32, message: impl FnOnce() -> String) {
    let logger = LOGGER.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(PyModule::import(py, "logging")?
            .call_method1("getLogger", ("mqseal",))?
            .unbind())
    });
    let result = logger.and_then(|logger| {
        let logger = logger.bind(py);
        if logger.call_method1("isEnabledFor", (level,))?.is_truthy()? {
            logger.call_method1("log", (level, "%s", message()))?;
        }
        Ok(())
    });
    // A failure to log must not fail the operation; report it like `logging` itself does.
    if let Err(e) = result {
        e.write_unraisable(py, None);
    }
}

pub(crate) fn debug(py: Python<'_>, message: impl FnOnce() -> String) {
    emit(py, DEBUG, message);
}

pub(crate) fn info(py: Python<'_>, message: impl FnOnce() -> String) {
    emit(py, INFO, message);
}

pub(crate) fn warning(py: Python<'_>, message: impl FnOnce() -> String) {
    emit(py, WARNING, message);
}
