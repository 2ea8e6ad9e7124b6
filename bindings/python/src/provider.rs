//! Key providers implemented in Python: objects with `recognizes`, `wrap` and `unwrap`
//! (and optionally `generate_data_key` and `primary_version`) called by the core.
//!
//! The core calls a provider on the thread of the cipher operation, with or without the
//! GIL; each call attaches to the interpreter with `Python::attach`. An exception raised
//! by a callback is mapped to a provider error code (see [`classify`]) and kept in a
//! thread-local slot, so that the `mqseal` exception raised to the caller carries it as
//! `__cause__` (see [`take_cause`]).
//!
//! The data key passed to `wrap` is a `bytearray`, and it is overwritten with zeros when
//! `wrap` returns; a `bytearray` returned by `unwrap` or `generate_data_key` is zeroed
//! once read. Python `bytes` cannot be zeroed, and neither can copies the callback makes.

use std::cell::RefCell;
use std::sync::atomic::{AtomicI64, Ordering};

use mqseal_core::{DataKey, Error, ErrorCode, KeyProvider, WrappedKey};
use pyo3::exceptions::{PyOSError, PyTimeoutError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyTuple};
use zeroize::Zeroizing;

use crate::attrs::type_name;

/// Number of [`PyKeyProvider`] objects alive, each holding a reference to a Python object.
static LIVE_PROVIDERS: AtomicI64 = AtomicI64::new(0);

/// Returns the number of Python key providers the extension still references.
pub(crate) fn live_providers() -> i64 {
    LIVE_PROVIDERS.load(Ordering::SeqCst)
}

thread_local! {
    /// The exception raised by the last failed callback on this thread, with the code it
    /// was mapped to.
    static CAUSE: RefCell<Option<(ErrorCode, PyErr)>> = const { RefCell::new(None) };
}

/// Drops the stored callback exception of this thread, if any.
pub(crate) fn clear_cause() {
    let _ = CAUSE.try_with(|slot| slot.try_borrow_mut().map(|mut slot| slot.take()));
}

/// Takes the stored callback exception when it was mapped to `code`, the code of the
/// error about to be raised; otherwise the error did not come from that callback.
pub(crate) fn take_cause(code: ErrorCode) -> Option<PyErr> {
    CAUSE
        .try_with(|slot| {
            let mut slot = slot.try_borrow_mut().ok()?;
            match slot.take() {
                Some((stored, cause)) if stored == code => Some(cause),
                _ => None,
            }
        })
        .ok()
        .flatten()
}

/// A Python key provider used as a core [`KeyProvider`].
pub(crate) struct PyKeyProvider {
    /// Type name of the Python object, for error messages.
    name: String,
    object: Py<PyAny>,
}

impl Drop for PyKeyProvider {
    fn drop(&mut self) {
        LIVE_PROVIDERS.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PyKeyProvider {
    /// Keeps a reference to `object`, which must have `recognizes`, `wrap` and `unwrap`.
    pub(crate) fn new(object: &Bound<'_, PyAny>) -> PyResult<PyKeyProvider> {
        for method in ["recognizes", "wrap", "unwrap"] {
            if !object.hasattr(method)? {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "key provider {} has no method {method}; a key provider needs \
                     recognizes, wrap and unwrap",
                    type_name(object)
                )));
            }
        }
        LIVE_PROVIDERS.fetch_add(1, Ordering::SeqCst);
        Ok(PyKeyProvider {
            name: type_name(object),
            object: object.clone().unbind(),
        })
    }

    /// Runs `body` with the GIL and turns a Python exception into a provider error.
    fn call<T>(
        &self,
        method: &str,
        body: impl FnOnce(Python<'_>, &Bound<'_, PyAny>) -> Result<T, CallFailure>,
    ) -> mqseal_core::Result<T> {
        Python::attach(|py| match body(py, self.object.bind(py)) {
            Ok(value) => Ok(value),
            Err(CallFailure::Core(e)) => Err(e),
            Err(CallFailure::Python(e)) => Err(self.caught(py, method, e)),
        })
    }

    /// Stores `exception` as the cause of the error to come and returns that error.
    fn caught(&self, py: Python<'_>, method: &str, exception: PyErr) -> Error {
        let code = classify(py, &exception);
        let class = type_name(exception.value(py));
        let _ = CAUSE.try_with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                *slot = Some((code, exception));
            }
        });
        let kind = if code.is_retryable() {
            "retryable"
        } else {
            "permanent"
        };
        Error::new(
            code,
            format!(
                "key provider {}.{method} raised {class}, a {kind} failure ({}); the \
                 exception is attached as __cause__",
                self.name,
                code.name()
            ),
        )
    }
}

/// Failure inside a callback body.
enum CallFailure {
    Core(Error),
    Python(PyErr),
}

impl From<PyErr> for CallFailure {
    fn from(e: PyErr) -> Self {
        CallFailure::Python(e)
    }
}

impl From<Error> for CallFailure {
    fn from(e: Error) -> Self {
        CallFailure::Core(e)
    }
}

/// `mqseal.errors.MqsealError`.
static MQSEAL_ERROR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Maps an exception raised by a callback to an error code:
///
/// - `mqseal.MqsealError` with a code from 500 to 799 (key not found, provider
///   unavailable, throttled, timed out, denied, key disabled, invalid response): that code;
/// - `TimeoutError` (and `socket.timeout`): `provider_timeout` (602, retryable);
/// - any other `OSError`, such as `ConnectionError`: `provider_unavailable` (600,
///   retryable);
/// - anything else, including other mqseal codes: `provider_denied` (700, permanent),
///   because retrying an unexpected failure unchanged rarely helps.
fn classify(py: Python<'_>, exception: &PyErr) -> ErrorCode {
    let base = MQSEAL_ERROR.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(PyModule::import(py, "mqseal.errors")?
            .getattr("MqsealError")?
            .unbind())
    });
    let value = exception.value(py);
    if let Ok(base) = base
        && value.is_instance(base.bind(py)).unwrap_or(false)
    {
        let code = value
            .getattr("code")
            .and_then(|c| c.extract::<i32>())
            .ok()
            .filter(|c| (500..800).contains(c))
            .and_then(ErrorCode::from_i32);
        return code.unwrap_or(ErrorCode::ProviderDenied);
    }
    if exception.is_instance_of::<PyTimeoutError>(py) {
        return ErrorCode::ProviderTimeout;
    }
    if exception.is_instance_of::<PyOSError>(py) {
        return ErrorCode::ProviderUnavailable;
    }
    ErrorCode::ProviderDenied
}

/// Returns a `provider_invalid_response` error for a bad value from `name.method`.
fn invalid_response(name: &str, method: &str, problem: &str) -> Error {
    Error::new(
        ErrorCode::ProviderInvalidResponse,
        format!("key provider {name}.{method} {problem}; fix the provider implementation"),
    )
}

/// Converts a returned key version to the envelope's `u32`.
fn key_version(value: &Bound<'_, PyAny>, name: &str, method: &str) -> Result<u32, Error> {
    let version = value.extract::<i128>().map_err(|_| {
        invalid_response(
            name,
            method,
            &format!(
                "returned a key version of type {}; return an int",
                type_name(value)
            ),
        )
    })?;
    u32::try_from(version).map_err(|_| {
        invalid_response(
            name,
            method,
            &format!("returned key version {version}; it must be between 0 and 4294967295"),
        )
    })
}

/// Copies a returned `bytes` or `bytearray`, and zeroes a `bytearray` that holds a
/// `secret` (a plaintext data key).
fn read_bytes(
    value: &Bound<'_, PyAny>,
    name: &str,
    method: &str,
    what: &str,
    secret: bool,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(Zeroizing::new(bytes.as_bytes().to_vec()));
    }
    if let Ok(array) = value.cast::<PyByteArray>() {
        let copy = Zeroizing::new(array.to_vec());
        if secret {
            zero_bytearray(array);
        }
        return Ok(copy);
    }
    Err(invalid_response(
        name,
        method,
        &format!(
            "returned {what} of type {}; return bytes or bytearray",
            type_name(value)
        ),
    ))
}

/// Overwrites a `bytearray` with zeros.
fn zero_bytearray(array: &Bound<'_, PyByteArray>) {
    // SAFETY: the GIL is held and no Python code runs while the slice is alive, so
    // nothing can resize or read the array meanwhile.
    unsafe { array.as_bytes_mut().fill(0) };
}

/// Splits a returned tuple of `len` items; anything else is an invalid response.
fn tuple_items<'py>(
    value: &Bound<'py, PyAny>,
    len: usize,
    name: &str,
    method: &str,
    shape: &str,
) -> Result<Vec<Bound<'py, PyAny>>, Error> {
    match value.cast::<PyTuple>() {
        Ok(tuple) if tuple.len() == len => Ok(tuple.iter().collect()),
        _ => Err(invalid_response(
            name,
            method,
            &format!("returned {}; return a tuple {shape}", type_name(value)),
        )),
    }
}

/// Reads `(key_version, wrapped_key)` items.
fn read_wrapped(
    version: &Bound<'_, PyAny>,
    wrapped: &Bound<'_, PyAny>,
    name: &str,
    method: &str,
) -> Result<(u32, Vec<u8>), Error> {
    let version = key_version(version, name, method)?;
    let wrapped = read_bytes(wrapped, name, method, "a wrapped key", false)?;
    if wrapped.is_empty() {
        return Err(invalid_response(
            name,
            method,
            "returned an empty wrapped key",
        ));
    }
    Ok((version, wrapped.to_vec()))
}

impl KeyProvider for PyKeyProvider {
    fn kind(&self) -> &str {
        &self.name
    }

    /// Calls `recognizes`; an exception counts as "not recognized".
    fn recognizes(&self, key_id: &str) -> bool {
        self.call("recognizes", |_py, object| {
            Ok(object.call_method1("recognizes", (key_id,))?.is_truthy()?)
        })
        .unwrap_or(false)
    }

    fn wrap(&self, key_id: &str, dek: &DataKey) -> mqseal_core::Result<WrappedKey> {
        let (key_version, ciphertext) = self.call("wrap", |py, object| {
            let key = PyByteArray::new(py, dek.as_bytes());
            let result = object.call_method1("wrap", (key_id, &key));
            zero_bytearray(&key);
            let result = result?;
            let items = tuple_items(&result, 2, &self.name, "wrap", "(key_version, wrapped_key)")?;
            Ok(read_wrapped(&items[0], &items[1], &self.name, "wrap")?)
        })?;
        Ok(WrappedKey {
            key_id: key_id.to_owned(),
            key_version,
            ciphertext,
        })
    }

    fn unwrap(&self, wrapped: &WrappedKey) -> mqseal_core::Result<DataKey> {
        self.call("unwrap", |py, object| {
            let ciphertext = PyBytes::new(py, &wrapped.ciphertext);
            let key = object
                .call_method1("unwrap", (&wrapped.key_id, wrapped.key_version, ciphertext))?;
            let bytes = read_bytes(&key, &self.name, "unwrap", "a data key", true)?;
            Ok(DataKey::from_slice(&bytes)?)
        })
    }

    fn generate_data_key(&self, key_id: &str) -> mqseal_core::Result<(DataKey, WrappedKey)> {
        let generated = self.call("generate_data_key", |_py, object| {
            if !object.hasattr("generate_data_key")? {
                return Ok(None);
            }
            let result = object.call_method1("generate_data_key", (key_id,))?;
            if result.is_none() {
                return Ok(None);
            }
            let method = "generate_data_key";
            let items = tuple_items(
                &result,
                3,
                &self.name,
                method,
                "(key_version, data_key, wrapped_key)",
            )?;
            let (version, ciphertext) = read_wrapped(&items[0], &items[2], &self.name, method)?;
            let bytes = read_bytes(&items[1], &self.name, method, "a data key", true)?;
            Ok(Some((version, DataKey::from_slice(&bytes)?, ciphertext)))
        })?;
        match generated {
            Some((key_version, dek, ciphertext)) => Ok((
                dek,
                WrappedKey {
                    key_id: key_id.to_owned(),
                    key_version,
                    ciphertext,
                },
            )),
            None => {
                let dek = DataKey::generate()?;
                let wrapped = self.wrap(key_id, &dek)?;
                Ok((dek, wrapped))
            }
        }
    }

    fn primary_version(&self, key_id: &str) -> mqseal_core::Result<Option<u32>> {
        self.call("primary_version", |_py, object| {
            if !object.hasattr("primary_version")? {
                return Ok(None);
            }
            let version = object.call_method1("primary_version", (key_id,))?;
            if version.is_none() {
                return Ok(None);
            }
            Ok(Some(key_version(&version, &self.name, "primary_version")?))
        })
    }
}
