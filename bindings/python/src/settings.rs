//! The keyword settings of `Cipher(...)`, checked and turned into a core configuration.
//!
//! Every setting left as `None` keeps the core's default. Values are checked here, with
//! the Python names in the messages, before the core checks them again.

use std::time::Duration;

use mqseal_core::{CipherConfig, HARD_MAX_BYTES, HARD_MAX_MESSAGES, MAX_BODY_LEN};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyString};

use crate::attrs::type_name;
use crate::boundary::{Outcome, invalid_config};

/// The keyword arguments of `Cipher(...)` other than `keyring_path`.
pub(crate) struct Keywords<'a, 'py> {
    pub(crate) key_ids: Option<&'a Bound<'py, PyAny>>,
    pub(crate) suite: Option<String>,
    pub(crate) backend: Option<String>,
    pub(crate) max_messages_per_key: Option<&'a Bound<'py, PyAny>>,
    pub(crate) max_bytes_per_key: Option<&'a Bound<'py, PyAny>>,
    pub(crate) max_key_age: Option<&'a Bound<'py, PyAny>>,
    pub(crate) cache_capacity: Option<&'a Bound<'py, PyAny>>,
    pub(crate) cache_ttl: Option<&'a Bound<'py, PyAny>>,
    pub(crate) compression: Option<bool>,
    pub(crate) compression_min_size: Option<&'a Bound<'py, PyAny>>,
    pub(crate) max_body_length: Option<&'a Bound<'py, PyAny>>,
    pub(crate) store_context: Option<bool>,
}

impl Keywords<'_, '_> {
    pub(crate) fn to_config(&self) -> Outcome<CipherConfig> {
        let mut config = CipherConfig::default();

        if let Some(ids) = self.key_ids {
            config.key_ids = key_ids(ids)?;
        }
        if let Some(suite) = &self.suite {
            config.suite = suite.parse()?;
        }
        if let Some(backend) = &self.backend {
            config.backend = backend.parse()?;
        }

        if let Some(v) = self.max_messages_per_key {
            config.limits.max_messages = integer(v, "max_messages_per_key", 1, HARD_MAX_MESSAGES)?;
        }
        if let Some(v) = self.max_bytes_per_key {
            config.limits.max_bytes = integer(v, "max_bytes_per_key", 1, HARD_MAX_BYTES)?;
        }
        if let Some(v) = self.max_key_age {
            config.limits.max_age = seconds(v, "max_key_age", false)?;
        }

        if let Some(v) = self.cache_capacity {
            config.cache_capacity = size(v, "cache_capacity", 0, usize::MAX)?;
        }
        if let Some(v) = self.cache_ttl {
            config.cache_ttl = seconds(v, "cache_ttl", true)?;
        }

        if let Some(v) = self.compression {
            config.compression = v;
        }
        if let Some(v) = self.compression_min_size {
            config.compression_min_size = size(v, "compression_min_size", 0, usize::MAX)?;
        }
        if let Some(v) = self.max_body_length {
            config.max_body_len = size(v, "max_body_length", 1, MAX_BODY_LEN)?;
        }
        if let Some(v) = self.store_context {
            config.store_context = v;
        }

        config.validate()?;
        Ok(config)
    }
}

/// Reads `key_ids`: one `str`, or an iterable of `str`.
fn key_ids(value: &Bound<'_, PyAny>) -> Outcome<Vec<String>> {
    if let Ok(id) = value.cast::<PyString>() {
        return Ok(vec![id.to_cow()?.into_owned()]);
    }
    let mut ids = Vec::new();
    for item in value.try_iter()? {
        let item = item?;
        let Ok(id) = item.cast::<PyString>() else {
            return Err(PyTypeError::new_err(format!(
                "key_ids must be a str or an iterable of str, but it contains a {}",
                type_name(&item)
            ))
            .into());
        };
        ids.push(id.to_cow()?.into_owned());
    }
    Ok(ids)
}

/// Reads an `int` setting named `name` that must lie in `min..=max`.
fn integer(value: &Bound<'_, PyAny>, name: &str, min: u64, max: u64) -> Outcome<u64> {
    if value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{name} must be an int, not bool")).into());
    }
    let out_of_range = || invalid_config(format!("{name} = {value} is outside {min}..={max}"));
    let number: i128 = value.extract().map_err(|e| {
        if value.is_instance_of::<pyo3::types::PyInt>() {
            out_of_range()
        } else {
            crate::boundary::Failure::Python(e)
        }
    })?;
    match u64::try_from(number) {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(out_of_range()),
    }
}

fn size(value: &Bound<'_, PyAny>, name: &str, min: usize, max: usize) -> Outcome<usize> {
    let max = u64::try_from(max).unwrap_or(u64::MAX);
    let min = u64::try_from(min).unwrap_or(u64::MAX);
    let n = integer(value, name, min, max)?;
    usize::try_from(n)
        .map_err(|_| invalid_config(format!("{name} = {n} does not fit this platform")))
}

/// Reads a duration setting in seconds: an `int`, a `float` or a `datetime.timedelta`.
fn seconds(value: &Bound<'_, PyAny>, name: &str, allow_zero: bool) -> Outcome<Duration> {
    if value.is_instance_of::<PyBool>() {
        return Err(
            PyTypeError::new_err(format!("{name} must be a number of seconds, not bool")).into(),
        );
    }
    let secs: f64 = if value.hasattr("total_seconds")? {
        value.call_method0("total_seconds")?.extract()?
    } else {
        value.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "{name} must be a number of seconds or a datetime.timedelta, not {}",
                type_name(value)
            ))
        })?
    };
    let valid = secs.is_finite() && (secs > 0.0 || (allow_zero && secs == 0.0));
    let duration = if valid {
        Duration::try_from_secs_f64(secs).ok()
    } else {
        None
    };
    duration.ok_or_else(|| {
        let bound = if allow_zero {
            "0 or more"
        } else {
            "more than 0"
        };
        invalid_config(format!(
            "{name} = {secs} seconds is invalid; it must be a finite number of seconds, {bound}"
        ))
    })
}
