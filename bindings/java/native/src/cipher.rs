//! Native methods of `io.mqseal.MqsealNative` that create, use and free a cipher.
//!
//! Byte arrays and buffers are pinned, never copied on the way in. Without sealed
//! properties and compression, the body length is known before opening, so the body
//! array is allocated at its exact size and decrypted in place. The same holds for
//! envelopes of large bodies. Otherwise the core returns a `Vec`, which is copied into
//! a new array once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jni::objects::{
    JByteArray, JByteBuffer, JClass, JLongArray, JObject, JObjectArray, JString, JValue,
};
use jni::sys::{jint, jlong};
use jni::{Env, EnvUnowned, jni_sig, jni_str};
use mqseal_core::config::Settings;
use mqseal_core::envelope::{FLAG_COMPRESSED, FLAG_SEALED_PROPERTIES};
use mqseal_core::{
    Cipher, CipherConfig, DecryptInfo, EncryptOptions, Envelope, ErrorCode, KeyProvider,
    LocalKeyring,
};
use zeroize::Zeroize;

use crate::convert::{
    optional_attributes, optional_context, optional_string, required_string, string_list,
};
use crate::entry::{BridgeResult, invalid, run};
use crate::handle;
use crate::provider::JavaKeyProvider;
use crate::raw;
use crate::region::{ByteRegion, PinMode, Pinned};

/// Body size from which envelopes are allocated at their exact size and written in
/// place. Below it, sealing into a `Vec` and copying that once costs fewer JNI calls
/// than sizing the envelope and pinning it.
const IN_PLACE_MIN_LEN: usize = 16 * 1024;

/// Value the Java builder passes for a setting it leaves at the core's default.
const UNSET: i64 = -1;

fn optional_u64(value: jlong, argument: &str) -> BridgeResult<Option<u64>> {
    match value {
        UNSET => Ok(None),
        v => u64::try_from(v)
            .map(Some)
            .map_err(|_| invalid(format!("{argument} is {v}; it must not be negative"))),
    }
}

fn optional_usize(value: jint, argument: &str) -> BridgeResult<Option<usize>> {
    Ok(optional_u64(jlong::from(value), argument)?.map(|v| v as usize))
}

fn optional_bool(value: jint) -> Option<bool> {
    match value {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

/// Settings passed by `MqsealCipher.Builder`, each `UNSET` (-1) for the core default.
struct BuilderSettings {
    /// Keyring file, consulted after `providers`; `None` for providers only.
    keyring_path: Option<String>,
    /// Key providers implemented in Java, in the builder's order.
    providers: Vec<Arc<dyn KeyProvider>>,
    key_ids: Vec<String>,
    suite: Option<String>,
    backend: Option<String>,
    max_messages: jlong,
    max_bytes: jlong,
    max_age_millis: jlong,
    cache_capacity: jint,
    cache_ttl_millis: jlong,
    compression: jint,
    compression_min_size: jint,
    max_body_len: jint,
    store_context: jint,
}

impl BuilderSettings {
    fn to_config(&self) -> BridgeResult<CipherConfig> {
        let mut config = CipherConfig {
            key_ids: self.key_ids.clone(),
            ..CipherConfig::default()
        };
        if let Some(suite) = &self.suite {
            config.suite = suite.parse()?;
        }
        if let Some(backend) = &self.backend {
            config.backend = backend.parse()?;
        }

        if let Some(v) = optional_u64(self.max_messages, "maxMessagesPerKey")? {
            config.limits.max_messages = v;
        }
        if let Some(v) = optional_u64(self.max_bytes, "maxBytesPerKey")? {
            config.limits.max_bytes = v;
        }
        if let Some(v) = optional_u64(self.max_age_millis, "maxKeyAge")? {
            config.limits.max_age = Duration::from_millis(v);
        }

        if let Some(v) = optional_usize(self.cache_capacity, "cacheCapacity")? {
            config.cache_capacity = v;
        }
        if let Some(v) = optional_u64(self.cache_ttl_millis, "cacheTtl")? {
            config.cache_ttl = Duration::from_millis(v);
        }

        if let Some(v) = optional_bool(self.compression) {
            config.compression = v;
        }
        if let Some(v) = optional_usize(self.compression_min_size, "compressionMinSize")? {
            config.compression_min_size = v;
        }
        if let Some(v) = optional_usize(self.max_body_len, "maxBodyLength")? {
            config.max_body_len = v;
        }
        if let Some(v) = optional_bool(self.store_context) {
            config.store_context = v;
        }
        Ok(config)
    }

    fn build(&self) -> BridgeResult<Cipher> {
        let config = self.to_config()?;
        // The keyring claims every well-formed key id, so it comes last.
        let mut providers = self.providers.clone();
        if let Some(path) = &self.keyring_path {
            providers.push(Arc::new(LocalKeyring::open(PathBuf::from(path))?));
        }
        Ok(Cipher::new(config, providers)?)
    }

    /// Returns how the cipher's regions must be pinned.
    fn pin_mode(&self) -> PinMode {
        if self.providers.is_empty() {
            PinMode::Critical
        } else {
            PinMode::Copy
        }
    }
}

/// Reads a Java `KeyProvider[]`; null is an empty list.
fn java_providers(
    env: &mut Env<'_>,
    array: &JObjectArray<'_>,
) -> BridgeResult<Vec<Arc<dyn KeyProvider>>> {
    if array.is_null() {
        return Ok(Vec::new());
    }
    let len = array.len(env)?;
    let mut out: Vec<Arc<dyn KeyProvider>> = Vec::with_capacity(len);
    for index in 0..len {
        let element = array.get_element(env, index)?;
        if element.is_null() {
            return Err(invalid(format!(
                "keyProviders[{index}] is null; pass a KeyProvider"
            )));
        }
        out.push(Arc::new(JavaKeyProvider::new(env, &element)?));
    }
    Ok(out)
}

#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_mqseal_MqsealNative_cipherNew<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    keyring_path: JString<'local>,
    providers: JObjectArray<'local>,
    key_ids: JObjectArray<'local, JString<'local>>,
    suite: JString<'local>,
    backend: JString<'local>,
    max_messages: jlong,
    max_bytes: jlong,
    max_age_millis: jlong,
    cache_capacity: jint,
    cache_ttl_millis: jlong,
    compression: jint,
    compression_min_size: jint,
    max_body_len: jint,
    store_context: jint,
) -> jlong {
    run(env, "cipherNew", |env| {
        let settings = BuilderSettings {
            keyring_path: optional_string(env, &keyring_path)?,
            providers: java_providers(env, &providers)?,
            key_ids: string_list(env, &key_ids, "keyIds")?,
            suite: optional_string(env, &suite)?,
            backend: optional_string(env, &backend)?,
            max_messages,
            max_bytes,
            max_age_millis,
            cache_capacity,
            cache_ttl_millis,
            compression,
            compression_min_size,
            max_body_len,
            store_context,
        };
        Ok(handle::into_handle(settings.build()?, settings.pin_mode()))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_cipherFromConfig<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    text: JString<'local>,
    provider: JObject<'local>,
) -> jlong {
    run(env, "cipherFromConfig", |env| {
        let text = required_string(env, &text, "configuration text")?;
        let settings = Settings::parse(&text)?;
        if provider.is_null() {
            return Ok(handle::into_handle(
                settings.build(None)?,
                PinMode::Critical,
            ));
        }
        let provider: Arc<dyn KeyProvider> = Arc::new(JavaKeyProvider::new(env, &provider)?);
        Ok(handle::into_handle(
            settings.build(Some(provider))?,
            PinMode::Copy,
        ))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_cipherFree<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    run(env, "cipherFree", |_env| {
        // SAFETY: NativeHandle.java calls this exactly once per handle, after every call
        // that borrowed it has returned.
        unsafe { handle::free(handle) };
        Ok(())
    })
}

/// Checks that `input` and `output` share no byte. Makes JNI calls, so call it before
/// pinning.
fn check_disjoint(
    env: &Env<'_>,
    input: &ByteRegion<'_>,
    output: &ByteRegion<'_>,
) -> BridgeResult<()> {
    if input.overlaps(env, output)? {
        return Err(invalid(
            "the input and output buffers overlap; use separate buffers or separate ranges",
        ));
    }
    Ok(())
}

/// Pins `input` for reading and `output` for writing.
///
/// The core may call the key provider while regions are pinned (a new data key on
/// encryption, an unwrap on a cache miss). The local keyring only reads its file, which
/// a critical section allows. A cipher with a Java key provider passes
/// [`PinMode::Copy`], so its callbacks run outside any critical section.
///
/// # Safety
///
/// As for [`ByteRegion::pin_input`]: with [`PinMode::Critical`], no JNI call until both
/// guards are dropped. The
/// regions must have passed [`check_disjoint`].
unsafe fn pin_pair<'r, 'local>(
    env: &Env<'local>,
    input: &'r ByteRegion<'local>,
    output: &'r ByteRegion<'local>,
    mode: PinMode,
) -> BridgeResult<(Pinned<'r>, Pinned<'r>)> {
    // SAFETY: forwarded from the caller.
    let pinned_input = unsafe { input.pin_input(env, mode)? };
    // SAFETY: forwarded from the caller.
    let pinned_output = unsafe { output.pin_output(env, mode)? };
    Ok((pinned_input, pinned_output))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_encrypt<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    body: JByteArray<'local>,
    offset: jint,
    len: jint,
    context: JByteArray<'local>,
    properties: JByteArray<'local>,
) -> JByteArray<'local> {
    run(env, "encrypt", |env| {
        // SAFETY: Java keeps the handle live for the duration of this call.
        let handle = unsafe { handle::borrow(handle)? };
        let cipher = &handle.cipher;
        let context = optional_context(env, &context)?;
        let properties =
            optional_attributes(env, &properties, "sealed properties")?.filter(|p| !p.is_empty());
        let input = ByteRegion::resolve(env, &body, &JByteBuffer::null(), offset, len, "body")?;
        let options = EncryptOptions {
            context: context.as_deref(),
            properties: properties.as_ref(),
        };
        let config = cipher.config();
        let compressible = config.compression && input.len() >= config.compression_min_size;
        if properties.is_none() && !compressible && input.len() >= IN_PLACE_MIN_LEN {
            let size = cipher.encrypted_len(input.len(), context.as_deref())?;
            let envelope = raw::new_byte_array(env, size)?;
            let output = ByteRegion::whole_array(env, &envelope, "envelope")?;
            let sealed = {
                // SAFETY: the block makes no JNI call, and the guards drop at its end.
                let (input, mut output) = unsafe { pin_pair(env, &input, &output, handle.pin)? };
                cipher.encrypt_into(input.as_slice(), &options, output.as_mut_slice())
            };
            match sealed {
                Ok(written) if written == size => return Ok(envelope),
                // The data key was replaced between sizing and sealing and the new
                // header has another length: seal again below into a growable buffer.
                Ok(_) => {}
                Err(e) if e.code() == ErrorCode::BufferTooSmall => {}
                Err(e) => return Err(e.into()),
            }
        }
        let envelope = {
            // SAFETY: the block makes no JNI call, and the guard drops at its end.
            let input = unsafe { input.pin_input(env, handle.pin)? };
            cipher.encrypt(input.as_slice(), &options)?
        };
        raw::byte_array_from_slice(env, &envelope)
    })
}

#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_mqseal_MqsealNative_encryptInto<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    in_array: JByteArray<'local>,
    in_buffer: JByteBuffer<'local>,
    in_offset: jint,
    in_len: jint,
    out_array: JByteArray<'local>,
    out_buffer: JByteBuffer<'local>,
    out_offset: jint,
    out_len: jint,
    context: JByteArray<'local>,
) -> jint {
    run(env, "encryptInto", |env| {
        // SAFETY: Java keeps the handle live for the duration of this call.
        let handle = unsafe { handle::borrow(handle)? };
        let cipher = &handle.cipher;
        let context = optional_context(env, &context)?;
        let input = ByteRegion::resolve(env, &in_array, &in_buffer, in_offset, in_len, "body")?;
        let output =
            ByteRegion::resolve(env, &out_array, &out_buffer, out_offset, out_len, "output")?;
        check_disjoint(env, &input, &output)?;
        let options = EncryptOptions {
            context: context.as_deref(),
            properties: None,
        };
        let written = {
            // SAFETY: the block makes no JNI call, and the guards drop at its end.
            let (input, mut output) = unsafe { pin_pair(env, &input, &output, handle.pin)? };
            cipher.encrypt_into(input.as_slice(), &options, output.as_mut_slice())?
        };
        to_jint(written)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_encryptedLength<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    body_len: jint,
    context: JByteArray<'local>,
) -> jint {
    run(env, "encryptedLength", |env| {
        // SAFETY: Java keeps the handle live for the duration of this call.
        let handle = unsafe { handle::borrow(handle)? };
        let cipher = &handle.cipher;
        let context = optional_context(env, &context)?;
        let body_len = usize::try_from(body_len)
            .map_err(|_| invalid(format!("body length {body_len} must not be negative")))?;
        to_jint(cipher.encrypted_len(body_len, context.as_deref())?)
    })
}

fn to_jint(value: usize) -> BridgeResult<jint> {
    jint::try_from(value).map_err(|_| invalid(format!("{value} bytes do not fit a Java array")))
}

/// Returns the body length of an envelope whose plaintext is exactly its body (no
/// sealed properties, no compression), or `None` when the length is known only after
/// decryption or the envelope does not parse (decryption then reports the error).
fn exact_body_len(envelope: &[u8]) -> Option<usize> {
    let parsed = Envelope::parse(envelope).ok()?;
    (parsed.flags & (FLAG_COMPRESSED | FLAG_SEALED_PROPERTIES) == 0)
        .then_some(parsed.ciphertext.len())
}

/// Decrypts the region into a new Java array and returns it with the header facts.
fn decrypt_to_array<'local>(
    env: &mut Env<'local>,
    cipher: &Cipher,
    pin: PinMode,
    input: &ByteRegion<'local>,
    context: Option<&mqseal_core::Context>,
) -> BridgeResult<(JByteArray<'local>, DecryptInfo)> {
    // Decrypting in place at every size also avoids a native copy of the plaintext.
    let body_len = {
        // SAFETY: the block makes no JNI call, and the guard drops at its end.
        let pinned = unsafe { input.pin_input(env, pin)? };
        exact_body_len(pinned.as_slice())
    };
    if let Some(body_len) = body_len {
        let body = raw::new_byte_array(env, body_len)?;
        let output = ByteRegion::whole_array(env, &body, "body")?;
        let (_, info) = {
            // SAFETY: the block makes no JNI call, and the guards drop at its end.
            let (input, mut output) = unsafe { pin_pair(env, input, &output, pin)? };
            cipher.decrypt_into(input.as_slice(), context, output.as_mut_slice())?
        };
        return Ok((body, info));
    }
    let mut decrypted = {
        // SAFETY: the block makes no JNI call, and the guard drops at its end.
        let pinned = unsafe { input.pin_input(env, pin)? };
        cipher.decrypt(pinned.as_slice(), context)?
    };
    let body = raw::byte_array_from_slice(env, &decrypted.body);
    decrypted.body.zeroize();
    Ok((body?, decrypted.info))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_decryptBody<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    envelope: JByteArray<'local>,
    offset: jint,
    len: jint,
    context: JByteArray<'local>,
) -> JByteArray<'local> {
    run(env, "decryptBody", |env| {
        // SAFETY: Java keeps the handle live for the duration of this call.
        let handle = unsafe { handle::borrow(handle)? };
        let cipher = &handle.cipher;
        let context = optional_context(env, &context)?;
        let input = ByteRegion::resolve(
            env,
            &envelope,
            &JByteBuffer::null(),
            offset,
            len,
            "envelope",
        )?;
        Ok(decrypt_to_array(env, cipher, handle.pin, &input, context.as_deref())?.0)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_decrypt<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    envelope: JByteArray<'local>,
    offset: jint,
    len: jint,
    context: JByteArray<'local>,
) -> JObject<'local> {
    run(env, "decrypt", |env| {
        // SAFETY: Java keeps the handle live for the duration of this call.
        let handle = unsafe { handle::borrow(handle)? };
        let cipher = &handle.cipher;
        let context = optional_context(env, &context)?;
        let input = ByteRegion::resolve(
            env,
            &envelope,
            &JByteBuffer::null(),
            offset,
            len,
            "envelope",
        )?;
        let (body, info) = decrypt_to_array(env, cipher, handle.pin, &input, context.as_deref())?;
        let properties = match &info.properties {
            Some(p) => env.byte_array_from_slice(&p.encode())?,
            None => JByteArray::null(),
        };
        let key_id = env.new_string(&info.key_id)?;
        let suite = env.new_string(info.suite.name())?;
        let decrypted = env.new_object(
            jni_str!("io/mqseal/Decrypted"),
            jni_sig!("([B[BLjava/lang/String;JLjava/lang/String;Z)V"),
            &[
                JValue::Object(&body),
                JValue::Object(&properties),
                JValue::Object(&key_id),
                JValue::Long(jlong::from(info.key_version)),
                JValue::Object(&suite),
                JValue::Bool(info.compressed),
            ],
        )?;
        Ok(decrypted)
    })
}

#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_mqseal_MqsealNative_decryptInto<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    in_array: JByteArray<'local>,
    in_buffer: JByteBuffer<'local>,
    in_offset: jint,
    in_len: jint,
    out_array: JByteArray<'local>,
    out_buffer: JByteBuffer<'local>,
    out_offset: jint,
    out_len: jint,
    context: JByteArray<'local>,
) -> jint {
    run(env, "decryptInto", |env| {
        // SAFETY: Java keeps the handle live for the duration of this call.
        let handle = unsafe { handle::borrow(handle)? };
        let cipher = &handle.cipher;
        let context = optional_context(env, &context)?;
        let input = ByteRegion::resolve(env, &in_array, &in_buffer, in_offset, in_len, "envelope")?;
        let output =
            ByteRegion::resolve(env, &out_array, &out_buffer, out_offset, out_len, "output")?;
        check_disjoint(env, &input, &output)?;
        let (written, _) = {
            // SAFETY: the block makes no JNI call, and the guards drop at its end.
            let (input, mut output) = unsafe { pin_pair(env, &input, &output, handle.pin)? };
            cipher.decrypt_into(input.as_slice(), context.as_deref(), output.as_mut_slice())?
        };
        to_jint(written)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_rewrap<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    envelope: JByteArray<'local>,
) -> JByteArray<'local> {
    run(env, "rewrap", |env| {
        // SAFETY: Java keeps the handle live for the duration of this call.
        let handle = unsafe { handle::borrow(handle)? };
        let cipher = &handle.cipher;
        let input = ByteRegion::whole_array(env, &envelope, "envelope")?;
        let rewrapped = {
            // SAFETY: the block makes no JNI call, and the guard drops at its end.
            let pinned = unsafe { input.pin_input(env, handle.pin)? };
            cipher.rewrap(pinned.as_slice())?
        };
        Ok(env.byte_array_from_slice(&rewrapped)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_rotate<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    run(env, "rotate", |_env| {
        // SAFETY: Java keeps the handle live for the duration of this call.
        let handle = unsafe { handle::borrow(handle)? };
        let cipher = &handle.cipher;
        cipher.rotate();
        Ok(())
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_counters<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JLongArray<'local> {
    run(env, "counters", |env| {
        // SAFETY: Java keeps the handle live for the duration of this call.
        let handle = unsafe { handle::borrow(handle)? };
        let cipher = &handle.cipher;
        let values: Vec<jlong> = cipher
            .counters()
            .fields()
            .iter()
            .map(|(_, value)| jlong::try_from(*value).unwrap_or(jlong::MAX))
            .collect();
        let array = JLongArray::new(env, values.len())?;
        array.set_region(env, 0, &values)?;
        Ok(array)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_defaults_match_core_defaults() {
        let settings = BuilderSettings {
            keyring_path: Some(String::from("/unused")),
            providers: Vec::new(),
            key_ids: Vec::new(),
            suite: None,
            backend: None,
            max_messages: UNSET,
            max_bytes: UNSET,
            max_age_millis: UNSET,
            cache_capacity: -1,
            cache_ttl_millis: UNSET,
            compression: -1,
            compression_min_size: -1,
            max_body_len: -1,
            store_context: -1,
        };
        assert_eq!(
            settings.to_config().expect("valid"),
            CipherConfig::default()
        );
    }

    #[test]
    fn builder_rejects_negative_limits() {
        assert!(optional_u64(-2, "maxMessagesPerKey").is_err());
        assert_eq!(optional_u64(5, "x").expect("valid"), Some(5));
        assert_eq!(optional_bool(1), Some(true));
        assert_eq!(optional_bool(-1), None);
    }
}
