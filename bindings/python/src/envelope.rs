//! Module functions that need no key: envelope inspection and the keyring file helpers.

use std::path::PathBuf;

use mqseal_core::{Envelope, LocalKeyring};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::attrs;
use crate::boundary::{Outcome, guard};
use crate::buffer::Input;
use crate::log;

/// Parses an envelope header without any key and returns its fields as a `dict`.
#[pyfunction]
pub(crate) fn inspect<'py>(py: Python<'py>, envelope: Input<'py>) -> Outcome<Bound<'py, PyDict>> {
    guard(|| {
        let info = Envelope::parse(envelope.as_slice())?.info()?;
        let keys = PyList::empty(py);
        for key in &info.keys {
            let entry = PyDict::new(py);
            entry.set_item("key_id", &key.key_id)?;
            entry.set_item("key_version", key.key_version)?;
            entry.set_item("wrapped", PyBytes::new(py, &key.ciphertext))?;
            keys.append(entry)?;
        }
        let stored_context = match &info.stored_context {
            Some(map) => attrs::to_dict(py, map)?.into_any(),
            None => py.None().into_bound(py),
        };
        let out = PyDict::new(py);
        out.set_item("version", info.version)?;
        out.set_item("suite", info.suite.name())?;
        out.set_item("compressed", info.compressed)?;
        out.set_item("sealed_properties", info.sealed_properties)?;
        out.set_item("stored_context", stored_context)?;
        out.set_item("keys", keys)?;
        out.set_item("sequence", info.sequence)?;
        out.set_item("header_length", info.header_len)?;
        out.set_item("payload_length", info.ciphertext_len)?;
        Ok(out)
    })
}

/// Returns true when `body` starts like an mqseal envelope (magic byte and a known
/// version). A cheap check that does not validate the envelope.
#[pyfunction]
pub(crate) fn looks_encrypted(body: Input<'_>) -> Outcome<bool> {
    guard(|| Ok(mqseal_core::looks_encrypted(body.as_slice())))
}

/// Adds key `name` to the keyring file at `path`, creating the file (mode 0600) when it
/// does not exist. Returns the new key version.
#[pyfunction]
pub(crate) fn keyring_generate(py: Python<'_>, path: PathBuf, name: String) -> Outcome<u32> {
    guard(|| {
        let version = LocalKeyring::generate_in_file(&path, &name)?;
        log::info(py, || {
            format!(
                "mqseal keyring {}: generated key {name} version {version}",
                path.display()
            )
        });
        Ok(version)
    })
}

/// Adds a new primary version of key `name` to the keyring file at `path`. Returns it.
#[pyfunction]
pub(crate) fn keyring_rotate(py: Python<'_>, path: PathBuf, name: String) -> Outcome<u32> {
    guard(|| {
        let version = LocalKeyring::rotate_in_file(&path, &name)?;
        log::info(py, || {
            format!(
                "mqseal keyring {}: key {name} rotated to primary version {version}",
                path.display()
            )
        });
        Ok(version)
    })
}
