//! Key providers implemented in Java: `io.mqseal.KeyProvider` objects called by the core.
//!
//! The core calls a provider on the thread that runs the cipher operation, which is a Java
//! thread inside a native method. Each call still goes through
//! [`JavaVM::attach_current_thread`]: on an attached thread that costs a thread-local
//! lookup, and a thread the JVM does not know (none today) would be attached until it
//! exits rather than attached and detached on every call.
//!
//! A Java exception thrown by a callback never stays pending. It is cleared, mapped to a
//! provider error code (see [`classify`]) and kept in a thread-local slot, so that the
//! exception thrown to the caller carries it as its cause (see [`take_cause`]).
//!
//! Key bytes pass through Java `byte[]` arrays. The arrays this crate creates (the data
//! key given to `wrap`) and the key arrays a callback returns are overwritten with zeros
//! once read. Copies the JVM or the callback made elsewhere (a moving garbage collector,
//! a KMS client's buffers) are out of reach.

use std::cell::RefCell;
use std::sync::atomic::{AtomicI64, Ordering};

use jni::objects::{JByteArray, JObject, JString, JThrowable, JValue};
use jni::refs::Global;
use jni::{Env, JavaVM, jni_sig, jni_str};
use mqseal_core::{DataKey, Error, ErrorCode, KeyProvider, WrappedKey};
use zeroize::Zeroizing;

use crate::entry::BridgeResult;

/// Number of [`JavaKeyProvider`] objects alive, each holding a global reference.
static LIVE_PROVIDERS: AtomicI64 = AtomicI64::new(0);

/// Returns the number of Java key providers the native library still references.
pub(crate) fn live_providers() -> i64 {
    LIVE_PROVIDERS.load(Ordering::SeqCst)
}

thread_local! {
    /// The exception thrown by the last failed callback on this thread, with the code it
    /// was mapped to.
    static CAUSE: RefCell<Option<(ErrorCode, Global<JThrowable<'static>>)>> =
        const { RefCell::new(None) };
}

/// Drops the stored callback exception of this thread, if any.
pub(crate) fn clear_cause() {
    let _ = CAUSE.try_with(|slot| slot.try_borrow_mut().map(|mut slot| slot.take()));
}

/// Takes the stored callback exception when it was mapped to `code`, the code of the
/// error about to be thrown; otherwise the error did not come from that callback.
pub(crate) fn take_cause(code: ErrorCode) -> Option<Global<JThrowable<'static>>> {
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

/// A Java `io.mqseal.KeyProvider` used as a core [`KeyProvider`].
pub(crate) struct JavaKeyProvider {
    /// Class name of the Java object, for error messages.
    name: String,
    object: Global<JObject<'static>>,
    vm: JavaVM,
}

impl Drop for JavaKeyProvider {
    fn drop(&mut self) {
        LIVE_PROVIDERS.fetch_sub(1, Ordering::SeqCst);
    }
}

impl JavaKeyProvider {
    /// Keeps a global reference to `object`, which must implement `io.mqseal.KeyProvider`.
    pub(crate) fn new(env: &mut Env<'_>, object: &JObject<'_>) -> BridgeResult<JavaKeyProvider> {
        let class = env.get_object_class(object)?;
        let name = env
            .call_method(
                &class,
                jni_str!("getName"),
                jni_sig!("()Ljava/lang/String;"),
                &[],
            )?
            .l()?;
        let name = env.cast_local::<JString>(name)?.try_to_string(env)?;
        let provider = JavaKeyProvider {
            name,
            object: env.new_global_ref(object)?,
            vm: env.get_java_vm()?,
        };
        LIVE_PROVIDERS.fetch_add(1, Ordering::SeqCst);
        Ok(provider)
    }

    /// Runs `body` with an attached `Env` in a new local frame, and turns a Java exception
    /// it leaves pending into a provider error.
    fn call<T>(
        &self,
        method: &str,
        body: impl FnOnce(&mut Env<'_>, &JObject<'static>) -> Result<T, CallFailure>,
    ) -> mqseal_core::Result<T> {
        let outcome = self
            .vm
            .attach_current_thread(|env| -> jni::errors::Result<mqseal_core::Result<T>> {
                match body(env, self.object.as_obj()) {
                    Ok(value) => Ok(Ok(value)),
                    Err(CallFailure::Core(e)) => Ok(Err(e)),
                    Err(CallFailure::Jni(jni::errors::Error::JavaException)) => {
                        Ok(Err(self.caught(env, method)))
                    }
                    Err(CallFailure::Jni(e)) => Ok(Err(Error::new(
                        ErrorCode::Internal,
                        format!(
                            "a JNI call for key provider {}.{method} failed: {e}; this is a bug in mqseal",
                            self.name
                        ),
                    ))),
                }
            });
        outcome.unwrap_or_else(|e| {
            Err(Error::new(
                ErrorCode::Internal,
                format!(
                    "failed to attach this thread to the JVM to call key provider {}.{method}: {e}",
                    self.name
                ),
            ))
        })
    }

    /// Clears the pending exception, stores it as the cause of the error to come, and
    /// returns the provider error it maps to.
    fn caught(&self, env: &mut Env<'_>, method: &str) -> Error {
        let Some(throwable) = env.exception_occurred() else {
            return Error::new(
                ErrorCode::Internal,
                format!(
                    "key provider {}.{method} failed without a Java exception; this is a bug in mqseal",
                    self.name
                ),
            );
        };
        env.exception_clear();
        let (code, class) = classify(env, &throwable);
        if let Ok(global) = env.new_global_ref(&throwable) {
            let _ = CAUSE.try_with(|slot| {
                if let Ok(mut slot) = slot.try_borrow_mut() {
                    *slot = Some((code, global));
                }
            });
        }
        let kind = if code.is_retryable() {
            "retryable"
        } else {
            "permanent"
        };
        Error::new(
            code,
            format!(
                "key provider {}.{method} threw {class}, a {kind} failure ({}); the exception \
                 is attached as the cause",
                self.name,
                code.name()
            ),
        )
    }
}

/// Failure inside a callback body.
enum CallFailure {
    Core(Error),
    Jni(jni::errors::Error),
}

impl From<jni::errors::Error> for CallFailure {
    fn from(e: jni::errors::Error) -> Self {
        CallFailure::Jni(e)
    }
}

impl From<Error> for CallFailure {
    fn from(e: Error) -> Self {
        CallFailure::Core(e)
    }
}

/// Maps an exception thrown by a callback to an error code, and returns it with the
/// exception's class name:
///
/// - `io.mqseal.MqsealException` with a code from 500 to 799 (key not found, provider
///   unavailable, throttled, timed out, denied, key disabled, invalid response): that code;
/// - `java.util.concurrent.TimeoutException`, `java.net.SocketTimeoutException`:
///   `provider_timeout` (602, retryable);
/// - any other `java.io.IOException`: `provider_unavailable` (600, retryable);
/// - anything else, including other mqseal codes and `Error`s: `provider_denied` (700,
///   permanent), because retrying an unexpected failure unchanged rarely helps.
fn classify(env: &mut Env<'_>, throwable: &JThrowable<'_>) -> (ErrorCode, String) {
    let class = class_name(env, throwable).unwrap_or_else(|| String::from("a Java exception"));
    let code = classify_code(env, throwable).unwrap_or(ErrorCode::ProviderDenied);
    // A JNI call above may have failed with an exception of its own.
    env.exception_clear();
    (code, class)
}

fn classify_code(env: &mut Env<'_>, throwable: &JThrowable<'_>) -> Option<ErrorCode> {
    if env
        .is_instance_of(throwable, jni_str!("io/mqseal/MqsealException"))
        .ok()?
    {
        let code = env
            .call_method(throwable, jni_str!("code"), jni_sig!("()I"), &[])
            .ok()?
            .i()
            .ok()?;
        return Some(match ErrorCode::from_i32(code) {
            Some(c) if (500..800).contains(&code) => c,
            _ => ErrorCode::ProviderDenied,
        });
    }
    let timeout = env
        .is_instance_of(throwable, jni_str!("java/util/concurrent/TimeoutException"))
        .ok()?
        || env
            .is_instance_of(throwable, jni_str!("java/net/SocketTimeoutException"))
            .ok()?;
    if timeout {
        return Some(ErrorCode::ProviderTimeout);
    }
    if env
        .is_instance_of(throwable, jni_str!("java/io/IOException"))
        .ok()?
    {
        return Some(ErrorCode::ProviderUnavailable);
    }
    Some(ErrorCode::ProviderDenied)
}

fn class_name(env: &mut Env<'_>, object: &JObject<'_>) -> Option<String> {
    let class = env.get_object_class(object).ok()?;
    let name = env
        .call_method(
            &class,
            jni_str!("getName"),
            jni_sig!("()Ljava/lang/String;"),
            &[],
        )
        .ok()?
        .l()
        .ok()?;
    env.cast_local::<JString>(name)
        .ok()?
        .try_to_string(env)
        .ok()
}

/// Returns an `provider_invalid_response` error for a bad value from `name.method`.
fn invalid_response(name: &str, method: &str, problem: &str) -> Error {
    Error::new(
        ErrorCode::ProviderInvalidResponse,
        format!("key provider {name}.{method} {problem}; fix the provider implementation"),
    )
}

/// Converts a Java key version to the envelope's `u32`.
fn key_version(name: &str, method: &str, version: i64) -> Result<u32, Error> {
    u32::try_from(version).map_err(|_| {
        invalid_response(
            name,
            method,
            &format!("returned key version {version}; it must be between 0 and 4294967295"),
        )
    })
}

/// Copies a Java byte array returned by a callback, and overwrites it with zeros when it
/// holds a `secret` (a plaintext data key); null is an invalid response.
fn read_array(
    env: &mut Env<'_>,
    array: JObject<'_>,
    name: &str,
    method: &str,
    what: &str,
    secret: bool,
) -> Result<Zeroizing<Vec<u8>>, CallFailure> {
    if array.is_null() {
        return Err(invalid_response(name, method, &format!("returned a null {what}")).into());
    }
    let array = env.cast_local::<JByteArray>(array)?;
    let bytes = Zeroizing::new(env.convert_byte_array(&array)?);
    if secret {
        zero_array(env, &array)?;
    }
    Ok(bytes)
}

/// Overwrites a Java byte array with zeros.
fn zero_array(env: &mut Env<'_>, array: &JByteArray<'_>) -> jni::errors::Result<()> {
    let len = array.len(env)?;
    let zeros = vec![0i8; len];
    array.set_region(env, 0, &zeros)
}

/// Reads the key version and wrapped key of a `KeyProvider.WrappedKey`-like result.
fn read_wrapped(
    env: &mut Env<'_>,
    result: &JObject<'_>,
    name: &str,
    method: &str,
) -> Result<(u32, Vec<u8>), CallFailure> {
    let version = env
        .call_method(result, jni_str!("keyVersion"), jni_sig!("()J"), &[])?
        .j()?;
    let version = key_version(name, method, version)?;
    let wrapped = env
        .call_method(result, jni_str!("wrappedKey"), jni_sig!("()[B"), &[])?
        .l()?;
    let wrapped = read_array(env, wrapped, name, method, "wrapped key", false)?;
    if wrapped.is_empty() {
        return Err(invalid_response(name, method, "returned an empty wrapped key").into());
    }
    Ok((version, wrapped.to_vec()))
}

impl KeyProvider for JavaKeyProvider {
    fn kind(&self) -> &str {
        &self.name
    }

    /// Calls `recognizes`; an exception counts as "not recognized".
    fn recognizes(&self, key_id: &str) -> bool {
        self.call("recognizes", |env, object| {
            let key_id = env.new_string(key_id)?;
            Ok(env
                .call_method(
                    object,
                    jni_str!("recognizes"),
                    jni_sig!("(Ljava/lang/String;)Z"),
                    &[JValue::Object(&key_id)],
                )?
                .z()?)
        })
        .unwrap_or(false)
    }

    fn wrap(&self, key_id: &str, dek: &DataKey) -> mqseal_core::Result<WrappedKey> {
        let (key_version, ciphertext) = self.call("wrap", |env, object| {
            let id = env.new_string(key_id)?;
            let key = env.byte_array_from_slice(dek.as_bytes())?;
            let result = env.call_method(
                object,
                jni_str!("wrap"),
                jni_sig!("(Ljava/lang/String;[B)Lio/mqseal/KeyProvider$WrappedKey;"),
                &[JValue::Object(&id), JValue::Object(&key)],
            );
            // Zero the data key before looking at the result; an exception pending from
            // `wrap` must be cleared first, so zeroing then fails and leaves it to the GC.
            if !env.exception_check() {
                zero_array(env, &key)?;
            }
            let result = result?.l()?;
            if result.is_null() {
                return Err(invalid_response(&self.name, "wrap", "returned null").into());
            }
            read_wrapped(env, &result, &self.name, "wrap")
        })?;
        Ok(WrappedKey {
            key_id: key_id.to_owned(),
            key_version,
            ciphertext,
        })
    }

    fn unwrap(&self, wrapped: &WrappedKey) -> mqseal_core::Result<DataKey> {
        self.call("unwrap", |env, object| {
            let id = env.new_string(&wrapped.key_id)?;
            let ciphertext = env.byte_array_from_slice(&wrapped.ciphertext)?;
            let key = env
                .call_method(
                    object,
                    jni_str!("unwrap"),
                    jni_sig!("(Ljava/lang/String;J[B)[B"),
                    &[
                        JValue::Object(&id),
                        JValue::Long(i64::from(wrapped.key_version)),
                        JValue::Object(&ciphertext),
                    ],
                )?
                .l()?;
            let bytes = read_array(env, key, &self.name, "unwrap", "data key", true)?;
            Ok(DataKey::from_slice(&bytes)?)
        })
    }

    fn generate_data_key(&self, key_id: &str) -> mqseal_core::Result<(DataKey, WrappedKey)> {
        let generated = self.call("generateDataKey", |env, object| {
            let id = env.new_string(key_id)?;
            let result = env
                .call_method(
                    object,
                    jni_str!("generateDataKey"),
                    jni_sig!("(Ljava/lang/String;)Lio/mqseal/KeyProvider$GeneratedKey;"),
                    &[JValue::Object(&id)],
                )?
                .l()?;
            if result.is_null() {
                return Ok(None);
            }
            let (version, ciphertext) = read_wrapped(env, &result, &self.name, "generateDataKey")?;
            let key = env
                .call_method(&result, jni_str!("plaintextKey"), jni_sig!("()[B"), &[])?
                .l()?;
            let bytes = read_array(env, key, &self.name, "generateDataKey", "data key", true)?;
            let dek = DataKey::from_slice(&bytes)?;
            Ok(Some((version, dek, ciphertext)))
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
        self.call("primaryVersion", |env, object| {
            let id = env.new_string(key_id)?;
            let version = env
                .call_method(
                    object,
                    jni_str!("primaryVersion"),
                    jni_sig!("(Ljava/lang/String;)J"),
                    &[JValue::Object(&id)],
                )?
                .j()?;
            if version == -1 {
                return Ok(None);
            }
            Ok(Some(key_version(&self.name, "primaryVersion", version)?))
        })
    }
}
