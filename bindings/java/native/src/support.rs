//! Native methods besides the cipher: version, keyring files, and the tables and test
//! hooks that let the Java tests check the binding against the core.

use std::path::Path;
use std::sync::Arc;

use jni::EnvUnowned;
use jni::objects::{JByteArray, JClass, JIntArray, JLongArray, JObjectArray, JString};
use jni::sys::{jboolean, jint, jlong};
use mqseal_core::config::Settings;
use mqseal_core::{
    Attributes, CallbackProvider, DataKey, Error, ErrorCode, LocalKeyring, properties,
};

use crate::convert::{new_string_array, required_string, string_list};
use crate::entry::{invalid, run};

/// Version of this library, as in `Cargo.toml`; the Java loader compares it with the
/// version of the jar.
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_nativeVersion<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JString<'local> {
    run(env, "nativeVersion", |env| Ok(env.new_string(VERSION)?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_keyringGenerate<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    name: JString<'local>,
) -> jlong {
    run(env, "keyringGenerate", |env| {
        let path = required_string(env, &path, "keyring path")?;
        let name = required_string(env, &name, "key name")?;
        Ok(jlong::from(LocalKeyring::generate_in_file(
            Path::new(&path),
            &name,
        )?))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_keyringRotate<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    name: JString<'local>,
) -> jlong {
    run(env, "keyringRotate", |env| {
        let path = required_string(env, &path, "keyring path")?;
        let name = required_string(env, &name, "key name")?;
        Ok(jlong::from(LocalKeyring::rotate_in_file(
            Path::new(&path),
            &name,
        )?))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_errorCodes<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JIntArray<'local> {
    run(env, "errorCodes", |env| {
        let codes: Vec<jint> = ErrorCode::ALL.iter().map(|c| c.as_i32()).collect();
        let array = JIntArray::new(env, codes.len())?;
        array.set_region(env, 0, &codes)?;
        Ok(array)
    })
}

fn known_code(code: jint) -> Result<ErrorCode, crate::entry::BridgeError> {
    ErrorCode::from_i32(code).ok_or_else(|| invalid(format!("{code} is not an mqseal error code")))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_errorCodeName<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    code: jint,
) -> JString<'local> {
    run(env, "errorCodeName", |env| {
        Ok(env.new_string(known_code(code)?.name())?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_errorCodeRetryable<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    code: jint,
) -> jboolean {
    run(env, "errorCodeRetryable", |_env| {
        Ok(known_code(code)?.is_retryable())
    })
}

/// Raises the error `code` through the normal error path, so tests can check that
/// every code reaches Java as its exception class.
#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_debugThrow<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    code: jint,
    required_size: jlong,
) {
    run(env, "debugThrow", |_env| {
        let code = known_code(code)?;
        let error = if code == ErrorCode::BufferTooSmall {
            let required = usize::try_from(required_size)
                .map_err(|_| invalid("required size must not be negative"))?;
            Error::buffer_too_small(required, 0)
        } else {
            Error::new(
                code,
                format!("test error raised for code {}", code.as_i32()),
            )
        };
        Err(error.into())
    })
}

/// Panics, so tests can check that a panic becomes an exception.
#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_debugForcePanic<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
) {
    run(
        env,
        "debugForcePanic",
        |_env| -> crate::entry::BridgeResult<()> {
            panic!("panic forced by MqsealCipher.debugForcePanic")
        },
    )
}

/// Returns the property constants as (Java constant name, value) pairs, flattened.
#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_propertyConstants<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JObjectArray<'local, JString<'local>> {
    run(env, "propertyConstants", |env| {
        let pairs = [
            "PREFIX",
            properties::PREFIX,
            "VERSION",
            properties::VERSION,
            "SUITE",
            properties::SUITE,
            "KEY_ID",
            properties::KEY_ID,
            "KEY_VERSION",
            properties::KEY_VERSION,
            "TOPIC",
            properties::TOPIC,
            "SEALED",
            properties::SEALED,
            "ERROR_CODE",
            properties::ERROR_CODE,
            "ERROR_NAME",
            properties::ERROR_NAME,
            "ERROR_RETRYABLE",
            properties::ERROR_RETRYABLE,
            "CONTEXT_TOPIC",
            properties::CONTEXT_TOPIC,
        ];
        new_string_array(env, &pairs)
    })
}

/// Returns every property name of the core's table, `properties::ALL`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_propertyTable<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JObjectArray<'local, JString<'local>> {
    run(env, "propertyTable", |env| {
        let names: Vec<&str> = properties::ALL.iter().map(|(name, _)| *name).collect();
        new_string_array(env, &names)
    })
}

/// Encodes key/value pairs with the core's canonical encoding, so tests can compare
/// it with the Java encoder.
#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_encodeAttributes<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pairs: JObjectArray<'local, JString<'local>>,
) -> JByteArray<'local> {
    run(env, "encodeAttributes", |env| {
        let flat = string_list(env, &pairs, "pairs")?;
        if flat.len() % 2 != 0 {
            return Err(invalid("pairs must hold a value after every key"));
        }
        let map = Attributes::from_pairs(flat.chunks(2).map(|kv| (kv[0].clone(), kv[1].clone())))?;
        Ok(env.byte_array_from_slice(&map.encode())?)
    })
}

/// Builds a cipher whose first data key is `dek`, wrapped as `wrapped` under version
/// `key_version` of the configured key id, so tests can check that Java encryption
/// reproduces the shared known-answer vectors byte for byte. Only generation is
/// supported: wrapping and unwrapping fail.
#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_debugKnownAnswerCipher<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    config: JString<'local>,
    dek: JByteArray<'local>,
    wrapped: JByteArray<'local>,
    key_version: jlong,
) -> jlong {
    run(env, "debugKnownAnswerCipher", |env| {
        let text = required_string(env, &config, "configuration text")?;
        let dek = zeroize::Zeroizing::new(env.convert_byte_array(&dek)?);
        let dek = DataKey::from_slice(&dek)?;
        let wrapped = env.convert_byte_array(&wrapped)?;
        let version = u32::try_from(key_version)
            .map_err(|_| invalid("key version must be between 0 and 4294967295"))?;
        let provider = CallbackProvider::known_answer(dek, wrapped, version);
        let cipher = Settings::parse(&text)?.build(Some(Arc::new(provider)))?;
        Ok(crate::handle::into_handle(
            cipher,
            crate::region::PinMode::Critical,
        ))
    })
}

/// Returns the number of cipher handles and Java key providers the native library holds,
/// so tests can check that closing a cipher frees both.
#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqseal_MqsealNative_debugLiveObjects<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JLongArray<'local> {
    run(env, "debugLiveObjects", |env| {
        let counts = [
            crate::handle::live_handles(),
            crate::provider::live_providers(),
        ];
        let array = JLongArray::new(env, counts.len())?;
        array.set_region(env, 0, &counts)?;
        Ok(array)
    })
}
