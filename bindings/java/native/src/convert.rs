//! Conversions between Java values and mqseal-core types.
//!
//! Context and sealed properties cross the boundary as the core's canonical attribute
//! encoding (`io.mqseal.Attributes` produces it), so a call passes one byte array
//! instead of one Java string per key and value.

use std::cell::RefCell;
use std::sync::Arc;

use jni::Env;
use jni::objects::{JByteArray, JObjectArray, JString};
use mqseal_core::Attributes;

use crate::entry::{BridgeResult, invalid};
use crate::raw;

/// Decodes an optional canonical attribute map; a null array is `None`.
pub(crate) fn optional_attributes(
    env: &Env<'_>,
    encoded: &JByteArray<'_>,
    argument: &str,
) -> BridgeResult<Option<Attributes>> {
    if encoded.is_null() {
        return Ok(None);
    }
    let bytes = raw::read_byte_array(env, encoded.as_raw());
    let map = Attributes::decode(&bytes).map_err(|e| {
        invalid(format!(
            "the encoded {argument} is invalid: {}",
            e.message()
        ))
    })?;
    Ok(Some(map))
}

thread_local! {
    /// The context decoded last on this thread, with its encoding. Producers and
    /// consumers usually pass the same context (the topic) with every message, so this
    /// skips most decodes.
    static LAST_CONTEXT: RefCell<Option<(Vec<u8>, Arc<Attributes>)>> = const { RefCell::new(None) };
}

/// Decodes an optional canonical context like [`optional_attributes`], reusing the
/// previous result on this thread when the encoding is the same.
pub(crate) fn optional_context(
    env: &Env<'_>,
    encoded: &JByteArray<'_>,
) -> BridgeResult<Option<Arc<Attributes>>> {
    if encoded.is_null() {
        return Ok(None);
    }
    let bytes = raw::read_byte_array(env, encoded.as_raw());
    let cached = LAST_CONTEXT.with_borrow(|last| match last {
        Some((last_bytes, map)) if *last_bytes == bytes => Some(Arc::clone(map)),
        _ => None,
    });
    if let Some(map) = cached {
        return Ok(Some(map));
    }
    let map = Arc::new(
        Attributes::decode(&bytes)
            .map_err(|e| invalid(format!("the encoded context is invalid: {}", e.message())))?,
    );
    LAST_CONTEXT.set(Some((bytes, Arc::clone(&map))));
    Ok(Some(map))
}

/// Reads a Java string that must not be null.
pub(crate) fn required_string(
    env: &Env<'_>,
    value: &JString<'_>,
    argument: &str,
) -> BridgeResult<String> {
    if value.is_null() {
        return Err(invalid(format!("{argument} is null; pass a value")));
    }
    Ok(value.try_to_string(env)?)
}

/// Reads a Java string; null is `None`.
pub(crate) fn optional_string(env: &Env<'_>, value: &JString<'_>) -> BridgeResult<Option<String>> {
    if value.is_null() {
        return Ok(None);
    }
    Ok(Some(value.try_to_string(env)?))
}

/// Reads a Java `String[]`; null is an empty list.
pub(crate) fn string_list(
    env: &mut Env<'_>,
    array: &JObjectArray<'_, JString<'_>>,
    argument: &str,
) -> BridgeResult<Vec<String>> {
    if array.is_null() {
        return Ok(Vec::new());
    }
    let len = array.len(env)?;
    let mut out = Vec::with_capacity(len);
    for index in 0..len {
        let element = array.get_element(env, index)?;
        out.push(required_string(
            env,
            &element,
            &format!("{argument}[{index}]"),
        )?);
    }
    Ok(out)
}

/// Creates a Java `String[]`.
pub(crate) fn new_string_array<'local>(
    env: &mut Env<'local>,
    values: &[&str],
) -> BridgeResult<JObjectArray<'local, JString<'local>>> {
    let len =
        i32::try_from(values.len()).map_err(|_| invalid("too many strings for a Java array"))?;
    let array = env.new_object_array(
        len,
        jni::jni_str!("java/lang/String"),
        jni::objects::JObject::null(),
    )?;
    let array = env.cast_local::<JObjectArray<JString>>(array)?;
    for (index, value) in values.iter().enumerate() {
        let element = env.new_string(value)?;
        array.set_element(env, index, &element)?;
    }
    Ok(array)
}
