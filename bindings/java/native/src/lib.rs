//! JNI bridge between the Java library `io.mqseal` and mqseal-core.
//!
//! Contract with the Java side (`io.mqseal.MqsealNative` declares every method):
//!
//! - Every native method runs inside [`entry::run`]: a Rust panic becomes
//!   `InternalException` (code 901) and never unwinds into the JVM, and every error
//!   becomes the exception that `io.mqseal.ErrorCodes` maps its code to.
//! - A cipher handle is a `long` created by `cipherNew` or `cipherFromConfig` and freed
//!   once by `cipherFree`; Java guarantees no call uses a handle while it is freed.
//! - Java validates offsets and lengths before each call; this crate checks them again
//!   before touching memory, because memory safety depends on them.
//! - Byte arrays are pinned (`GetPrimitiveArrayCritical`) and direct buffers are read
//!   in place, so inputs are never copied; see [`region`].
//! - Context and sealed properties arrive in the core's canonical attribute encoding.
//! - A cipher may use key providers implemented in Java (`io.mqseal.KeyProvider`, see
//!   [`provider`]); a Java exception thrown by one becomes a provider error code, with the
//!   exception attached as the cause of the exception thrown to the caller.
//! - Nothing here logs; key bytes and bodies never reach an error message.

mod cipher;
mod convert;
mod entry;
mod envelope;
mod handle;
mod provider;
mod raw;
mod region;
mod support;
