//! Conversions between Python mappings of `str` to `str` and the core's attribute maps
//! (the authenticated context and sealed properties).

use std::cell::RefCell;
use std::sync::Arc;

use mqseal_core::Attributes;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::boundary::Outcome;

/// The last context a thread converted: its `str` objects in dict order, and the map.
struct CachedContext {
    pairs: Vec<(Py<PyString>, Py<PyString>)>,
    map: Arc<Attributes>,
}

thread_local! {
    static LAST_CONTEXT: RefCell<Option<CachedContext>> = const { RefCell::new(None) };
}

/// Reads the `context` argument, reusing this thread's last conversion when the dict
/// contains equal strings in the same order.
///
/// Producers and consumers pass the same small context (such as the topic) with every
/// message, and converting it costs more than sealing a 1 KiB body: the stable ABI of
/// Python 3.9 reads a `str` as UTF-8 only through a temporary `bytes` object. Only a
/// `dict` whose keys and values are exact `str` objects is cached, because comparing
/// those runs no Python code.
pub(crate) fn extract_context(
    value: Option<&Bound<'_, PyAny>>,
) -> Outcome<Option<Arc<Attributes>>> {
    let Some(dict) = value.and_then(|v| v.cast_exact::<PyDict>().ok()) else {
        return Ok(extract(value, "context")?.map(Arc::new));
    };
    if dict.is_empty() {
        return Ok(None);
    }
    let hit = LAST_CONTEXT.with(|last| -> PyResult<Option<Arc<Attributes>>> {
        let last = last.borrow();
        let Some(cached) = last.as_ref() else {
            return Ok(None);
        };
        Ok(same_strings(dict, &cached.pairs)?.then(|| cached.map.clone()))
    })?;
    if hit.is_some() {
        return Ok(hit);
    }
    let Some(map) = extract(Some(dict.as_any()), "context")? else {
        return Ok(None);
    };
    let map = Arc::new(map);
    let mut pairs = Vec::with_capacity(dict.len());
    for (key, item) in dict.iter() {
        match (key.cast_exact::<PyString>(), item.cast_exact::<PyString>()) {
            (Ok(key), Ok(item)) => pairs.push((key.clone().unbind(), item.clone().unbind())),
            // A `str` subclass may compare in Python code: convert it every time.
            _ => return Ok(Some(map)),
        }
    }
    LAST_CONTEXT.with(|last| {
        *last.borrow_mut() = Some(CachedContext {
            pairs,
            map: map.clone(),
        });
    });
    Ok(Some(map))
}

/// Returns true when `dict` contains exactly `pairs`, in order, as exact `str` objects.
fn same_strings(
    dict: &Bound<'_, PyDict>,
    pairs: &[(Py<PyString>, Py<PyString>)],
) -> PyResult<bool> {
    if dict.len() != pairs.len() {
        return Ok(false);
    }
    for ((key, item), (cached_key, cached_item)) in dict.iter().zip(pairs) {
        if !same_str(&key, cached_key)? || !same_str(&item, cached_item)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn same_str(obj: &Bound<'_, PyAny>, cached: &Py<PyString>) -> PyResult<bool> {
    if obj.is(cached) {
        return Ok(true);
    }
    if obj.cast_exact::<PyString>().is_err() {
        return Ok(false);
    }
    obj.eq(cached.bind(obj.py()))
}

/// Reads an optional mapping argument named `what`. `None` and an empty mapping both
/// give `None`, which the core treats as no context or no properties.
pub(crate) fn extract(value: Option<&Bound<'_, PyAny>>, what: &str) -> Outcome<Option<Attributes>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    let mut map = Attributes::new();
    if let Ok(dict) = value.cast::<PyDict>() {
        for (key, item) in dict.iter() {
            insert(&mut map, &key, &item, what)?;
        }
    } else if value.hasattr("items")? {
        for pair in value.call_method0("items")?.try_iter()? {
            let (key, item): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair?.extract()?;
            insert(&mut map, &key, &item, what)?;
        }
    } else {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a mapping of str to str, such as {{\"topic\": \"orders\"}}, not {}",
            type_name(value)
        ))
        .into());
    }
    Ok((!map.is_empty()).then_some(map))
}

fn insert(
    map: &mut Attributes,
    key: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
    what: &str,
) -> Outcome<()> {
    let Ok(key) = key.cast::<PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "{what} keys must be str, not {}",
            type_name(key)
        ))
        .into());
    };
    let key = key.to_cow()?.into_owned();
    let Ok(value) = value.cast::<PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "{what} value of key {key:?} must be str, not {}",
            type_name(value)
        ))
        .into());
    };
    map.insert(key, value.to_cow()?.into_owned())?;
    Ok(())
}

pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| String::from("?"))
}

/// Converts an attribute map to a new `dict`.
pub(crate) fn to_dict<'py>(py: Python<'py>, map: &Attributes) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in map.iter() {
        dict.set_item(key, value)?;
    }
    Ok(dict)
}
