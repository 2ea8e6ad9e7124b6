//! The one wrapper around every native method: panic boundary and error conversion.
//!
//! Every `extern "system"` function of this crate calls [`run`]. It catches any Rust
//! panic, so unwinding never crosses into the JVM, and turns every error into a Java
//! exception built by `io.mqseal.ErrorCodes.exceptionFor`, the single place that maps
//! numeric codes to exception classes.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use jni::errors::ErrorPolicy;
use jni::objects::{JThrowable, JValue};
use jni::{Env, EnvUnowned, jni_sig, jni_str};
use mqseal_core::ErrorCode;

/// An error raised inside a native method, thrown to Java when the method returns.
#[derive(Debug)]
pub(crate) enum BridgeError {
    /// An mqseal error with its stable code.
    Core(mqseal_core::Error),
    /// A JNI call failed. A Java exception may already be pending.
    Jni(jni::errors::Error),
    /// A Rust panic was caught; the string is the panic message.
    Panic(String),
}

impl From<mqseal_core::Error> for BridgeError {
    fn from(error: mqseal_core::Error) -> Self {
        BridgeError::Core(error)
    }
}

impl From<jni::errors::Error> for BridgeError {
    fn from(error: jni::errors::Error) -> Self {
        BridgeError::Jni(error)
    }
}

impl std::fmt::Display for BridgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BridgeError::Core(e) => write!(f, "{e}"),
            BridgeError::Jni(e) => write!(f, "JNI call failed: {e}"),
            BridgeError::Panic(message) => write!(f, "Rust panic: {message}"),
        }
    }
}

impl std::error::Error for BridgeError {}

/// Result type of native method bodies.
pub(crate) type BridgeResult<T> = Result<T, BridgeError>;

/// Returns an [`ErrorCode::InvalidArgument`] error with `message`.
pub(crate) fn invalid(message: impl Into<String>) -> BridgeError {
    BridgeError::Core(mqseal_core::Error::new(ErrorCode::InvalidArgument, message))
}

thread_local! {
    /// Source location of the last panic on this thread, recorded by the panic hook.
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static PANIC_HOOK: Once = Once::new();

/// Replaces the default panic hook, which prints to the host's stderr, with one that
/// records the location for the exception message. It covers this library only: a
/// `cdylib` carries its own copy of the Rust standard library.
fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let location = info.location().map(ToString::to_string);
            let _ = PANIC_LOCATION.try_with(|slot| {
                if let Ok(mut slot) = slot.try_borrow_mut() {
                    *slot = location;
                }
            });
        }));
    });
}

/// Runs the body of a native method named `method`.
///
/// A panic in `body` becomes an `InternalException` with code 901 and an error becomes
/// the exception its code maps to; the native method then returns `T::default()`
/// (null, 0 or false), which Java discards because the exception is pending.
pub(crate) fn run<'local, T: Default>(
    mut unowned: EnvUnowned<'local>,
    method: &'static str,
    body: impl FnOnce(&mut Env<'local>) -> BridgeResult<T>,
) -> T {
    install_panic_hook();
    crate::provider::clear_cause();
    let result = unowned
        .with_env_no_catch(|env| -> BridgeResult<T> {
            match catch_unwind(AssertUnwindSafe(|| body(env))) {
                Ok(result) => result,
                Err(payload) => Err(BridgeError::Panic(format!(
                    "{} (in native method {method})",
                    panic_message(payload)
                ))),
            }
        })
        .resolve::<ThrowMqsealException>();
    crate::provider::clear_cause();
    result
}

/// Returns the message of a panic payload and drops the payload without unwinding.
fn panic_message(payload: Box<dyn Any + Send + 'static>) -> String {
    let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("panic payload is not a string")
    };
    let location = PANIC_LOCATION
        .try_with(|slot| slot.try_borrow_mut().ok().and_then(|mut slot| slot.take()))
        .ok()
        .flatten();
    let message = match location {
        Some(location) => format!("{message} at {location}"),
        None => message,
    };
    // Dropping a payload runs foreign Drop code, which may itself panic.
    if catch_unwind(AssertUnwindSafe(|| drop(payload))).is_err() {
        return message + " (and dropping the panic payload panicked)";
    }
    message
}

/// Error policy that throws the mqseal exception for a [`BridgeError`].
struct ThrowMqsealException;

impl<T: Default> ErrorPolicy<T, BridgeError> for ThrowMqsealException {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut Self::Captures<'unowned_env_local, 'native_method>,
        error: BridgeError,
    ) -> jni::errors::Result<T> {
        throw(env, &error)?;
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut Self::Captures<'unowned_env_local, 'native_method>,
        payload: Box<dyn Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        throw(env, &BridgeError::Panic(panic_message(payload)))?;
        Ok(T::default())
    }
}

/// Throws the Java exception for `error`, unless a Java exception is already pending:
/// that one (for example an `OutOfMemoryError` from an allocation) is more precise.
fn throw(env: &mut Env<'_>, error: &BridgeError) -> jni::errors::Result<()> {
    if env.exception_check() {
        return Ok(());
    }
    let (code, message, required_size) = match error {
        BridgeError::Core(e) => (
            e.code(),
            e.message().to_owned(),
            e.required_size()
                .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX)),
        ),
        BridgeError::Jni(jni::errors::Error::NullPtr(argument)) => (
            ErrorCode::NullArgument,
            format!("a required argument is null ({argument}); pass a non-null value"),
            -1,
        ),
        BridgeError::Jni(e) => (
            ErrorCode::Internal,
            format!("a JNI call failed inside mqseal: {e}; this is a bug in mqseal"),
            -1,
        ),
        BridgeError::Panic(message) => (
            ErrorCode::Panic,
            format!("mqseal caught a Rust panic: {message}; this is a bug in mqseal"),
            -1,
        ),
    };
    let cause = crate::provider::take_cause(code);
    throw_code(
        env,
        code.as_i32(),
        &message,
        required_size,
        cause.as_deref(),
    )
}

/// Builds the exception for `code` with `ErrorCodes.exceptionFor`, sets `cause` (an
/// exception thrown by a key provider) as its cause, and throws it.
fn throw_code(
    env: &mut Env<'_>,
    code: i32,
    message: &str,
    required_size: i64,
    cause: Option<&JThrowable<'_>>,
) -> jni::errors::Result<()> {
    let message = env.new_string(message)?;
    let exception = env
        .call_static_method(
            jni_str!("io/mqseal/ErrorCodes"),
            jni_str!("exceptionFor"),
            jni_sig!("(ILjava/lang/String;J)Lio/mqseal/MqsealException;"),
            &[
                JValue::Int(code),
                JValue::Object(&message),
                JValue::Long(required_size),
            ],
        )?
        .l()?;
    let throwable = env.cast_local::<JThrowable>(exception)?;
    if let Some(cause) = cause {
        env.call_method(
            &throwable,
            jni_str!("initCause"),
            jni_sig!("(Ljava/lang/Throwable;)Ljava/lang/Throwable;"),
            &[JValue::Object(cause)],
        )?;
    }
    match env.throw(throwable) {
        // `throw` reports the now pending exception as an error; that is the success case.
        Err(jni::errors::Error::JavaException) | Ok(()) => Ok(()),
        Err(e) => Err(e),
    }
}
