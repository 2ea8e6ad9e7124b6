//! The one extractor of byte inputs: `bytes`, `bytearray`, `memoryview` and any other
//! object that supports the buffer protocol.
//!
//! A `bytes` object is immutable, so it is read in place, with or without the GIL. Every
//! other input is copied once while the GIL is held, because another thread could change
//! it while the GIL is released. A copy made here is wiped when it is dropped.
//!
//! NOTE: a `memoryview` over a whole `bytes` object is read in place, but a slice of one
//! is copied. Reading any buffer in place needs `PyObject_GetBuffer`, which the limited
//! API has only from Python 3.11, and this extension is built for the 3.9 stable ABI.

use pyo3::exceptions::{PyBufferError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView};
use zeroize::Zeroizing;

use crate::release::RELEASE_THRESHOLD;

/// Bytes passed in from Python.
pub(crate) enum Input<'py> {
    /// An immutable `bytes` object, read in place.
    Shared(Bound<'py, PyBytes>),
    /// A copy of a mutable buffer, wiped on drop.
    Copied(Zeroizing<Vec<u8>>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for Input<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(bytes) = obj.cast::<PyBytes>() {
            return Ok(Input::Shared(bytes.to_owned()));
        }
        if let Ok(array) = obj.cast::<PyByteArray>() {
            return Ok(Input::Copied(Zeroizing::new(array.to_vec())));
        }
        let obj = obj.to_owned();
        let view = match obj.cast::<PyMemoryView>() {
            Ok(view) => view.clone(),
            Err(_) => PyMemoryView::from(&obj).map_err(|_| not_bytes_like(&obj))?,
        };
        from_memoryview(&view)
    }
}

fn not_bytes_like(obj: &Bound<'_, PyAny>) -> PyErr {
    let type_name = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| String::from("?"));
    PyTypeError::new_err(format!(
        "expected a bytes-like object (bytes, bytearray or memoryview), not {type_name}"
    ))
}

fn from_memoryview<'py>(view: &Bound<'py, PyMemoryView>) -> PyResult<Input<'py>> {
    if !view.getattr("c_contiguous")?.is_truthy()? {
        return Err(PyBufferError::new_err(
            "the memoryview is not C-contiguous; pass bytes(view) or a contiguous view",
        ));
    }
    let exporter = view.getattr("obj")?;
    let nbytes: usize = view.getattr("nbytes")?.extract()?;
    // A contiguous view as long as its exporter covers the exporter's bytes exactly.
    if let Ok(bytes) = exporter.cast::<PyBytes>()
        && bytes.as_bytes().len() == nbytes
    {
        return Ok(Input::Shared(bytes.clone()));
    }
    if let Ok(array) = exporter.cast::<PyByteArray>()
        && array.len() == nbytes
    {
        return Ok(Input::Copied(Zeroizing::new(array.to_vec())));
    }
    let copy = view.call_method0("tobytes")?;
    Ok(Input::Shared(copy.cast_into::<PyBytes>()?))
}

impl Input<'_> {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Input::Shared(bytes) => bytes.as_bytes(),
            Input::Copied(copy) => copy.as_slice(),
        }
    }

    /// Returns true when work on this input is long enough to run with the GIL released.
    pub(crate) fn release_gil(&self) -> bool {
        self.as_slice().len() > RELEASE_THRESHOLD
    }
}
