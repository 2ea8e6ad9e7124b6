//! Key providers: the callback provider that plugs a host KMS into mqseal, and the local
//! keyring file helpers.

use std::ffi::{CString, c_char, c_void};
use std::path::Path;
use std::sync::Arc;

use mqseal_core::envelope::MAX_WRAPPED_KEY_LEN;
use mqseal_core::{
    CallbackProvider, DataKey, Error, ErrorCode, KEY_LEN, KeyProvider, LocalKeyring, Result,
};
use zeroize::Zeroizing;

use crate::{boundary, raw};

/// Length of a data key (DEK) in bytes: the `dek_len` passed to every callback.
pub const MQSEAL_DEK_LEN: usize = 32;
/// Capacity of the wrapped-key buffer passed to the `wrap` and `generate` callbacks, and
/// the largest wrapped data key an envelope can carry.
pub const MQSEAL_MAX_WRAPPED_KEY_LEN: usize = 8192;

const _: () = assert!(MQSEAL_DEK_LEN == KEY_LEN);
const _: () = assert!(MQSEAL_MAX_WRAPPED_KEY_LEN == MAX_WRAPPED_KEY_LEN);

/// Wraps a data key under the primary version of `key_id`.
///
/// Receives `user_data`, the NUL-terminated key id, and the plaintext data key
/// (`dek_len` = `MQSEAL_DEK_LEN` bytes of mqseal's memory, valid only during the call and
/// wiped when mqseal drops the key). Writes the key version used to `*key_version`, the
/// wrapped key to `wrapped` (capacity `wrapped_cap` = `MQSEAL_MAX_WRAPPED_KEY_LEN`) and
/// its length to `*wrapped_len`. Returns `MQSEAL_OK` or an mqseal status code (see
/// `mqseal_callback_provider_new` for the mapping).
pub type mqseal_wrap_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        key_id: *const c_char,
        dek: *const u8,
        dek_len: usize,
        key_version: *mut u32,
        wrapped: *mut u8,
        wrapped_cap: usize,
        wrapped_len: *mut usize,
    ) -> i32,
>;

/// Recovers a data key from a wrapped key.
///
/// Receives `user_data`, the NUL-terminated key id, the key version and the wrapped key
/// as found in the envelope. Writes exactly `dek_len` = `MQSEAL_DEK_LEN` bytes of
/// plaintext data key to `dek` (a buffer that mqseal wipes after the call). Returns
/// `MQSEAL_OK` or an mqseal status code.
pub type mqseal_unwrap_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        key_id: *const c_char,
        key_version: u32,
        wrapped: *const u8,
        wrapped_len: usize,
        dek: *mut u8,
        dek_len: usize,
    ) -> i32,
>;

/// Generates a data key, as a KMS's GenerateDataKey does (optional).
///
/// Receives `user_data` and the NUL-terminated key id. Writes the key version to
/// `*key_version`, `dek_len` = `MQSEAL_DEK_LEN` bytes of plaintext data key to `dek` (a
/// buffer that mqseal wipes after use), the wrapped key to `wrapped` (capacity
/// `wrapped_cap`) and its length to `*wrapped_len`. Returns `MQSEAL_OK` or an mqseal
/// status code.
pub type mqseal_generate_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        key_id: *const c_char,
        key_version: *mut u32,
        dek: *mut u8,
        dek_len: usize,
        wrapped: *mut u8,
        wrapped_cap: usize,
        wrapped_len: *mut usize,
    ) -> i32,
>;

/// Releases `user_data` once no provider or cipher uses it any more (optional).
pub type mqseal_destroy_fn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// The host functions of a callback provider. Copied by `mqseal_callback_provider_new`,
/// so the struct itself may be temporary.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mqseal_provider_callbacks {
    /// Required.
    pub wrap: mqseal_wrap_fn,
    /// Required.
    pub unwrap: mqseal_unwrap_fn,
    /// Optional (NULL): without it mqseal draws a random data key and calls `wrap`.
    pub generate: mqseal_generate_fn,
    /// Optional (NULL): called once with `user_data` when the provider is released.
    pub destroy: mqseal_destroy_fn,
    /// Passed unchanged to every callback.
    pub user_data: *mut c_void,
}

/// A key provider whose wrap, unwrap and (optionally) generate operations are C
/// functions of the host application, so any KMS can be plugged in.
///
/// Thread safety: the handle may be used and freed from any thread; the callbacks are
/// called from whichever threads use a cipher built with it, possibly at the same time.
pub struct mqseal_callback_provider {
    pub(crate) provider: Arc<dyn KeyProvider>,
}

/// The host's callbacks and user data, released with `destroy` when the last provider
/// or cipher that uses them is dropped.
struct Host {
    name: String,
    callbacks: mqseal_provider_callbacks,
}

// SAFETY: the header contract requires the callbacks and `user_data` to be usable from
// any thread, concurrently; mqseal only passes `user_data` back to them and to `destroy`.
unsafe impl Send for Host {}
// SAFETY: as for `Send`: shared access only ever hands `user_data` to the host callbacks,
// which the contract requires to be thread-safe.
unsafe impl Sync for Host {}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(destroy) = self.callbacks.destroy {
            // SAFETY: `destroy` is a host function taking the host's `user_data`; this is
            // its single call, made after every other callback has returned, because the
            // last reference to the host is being dropped.
            unsafe { destroy(self.callbacks.user_data) }
        }
    }
}

/// Maps a callback's status to an mqseal error.
///
/// Provider codes pass through: 400, 401, 500, 501, 600-602, 700-702 and 900. Anything
/// else, including 0 reported where a value was missing, becomes 702
/// (`MQSEAL_PROVIDER_INVALID_RESPONSE`).
fn callback_error(status: i32, provider: &str, op: &str, key_id: &str) -> Error {
    let code = match ErrorCode::from_i32(status) {
        Some(
            c @ (ErrorCode::AuthenticationFailed
            | ErrorCode::KeyCommitmentMismatch
            | ErrorCode::KeyNotFound
            | ErrorCode::KeyVersionNotFound
            | ErrorCode::ProviderUnavailable
            | ErrorCode::ProviderThrottled
            | ErrorCode::ProviderTimeout
            | ErrorCode::ProviderDenied
            | ErrorCode::KeyDisabled
            | ErrorCode::ProviderInvalidResponse
            | ErrorCode::Internal),
        ) => c,
        _ => ErrorCode::ProviderInvalidResponse,
    };
    let reported = ErrorCode::from_i32(status).map_or("not an mqseal status", ErrorCode::name);
    Error::new(
        code,
        format!(
            "key provider {provider:?}: the {op} callback for key id {key_id:?} returned status {status} ({reported})"
        ),
    )
}

fn key_id_c(key_id: &str) -> Result<CString> {
    CString::new(key_id).map_err(|_| {
        Error::new(
            ErrorCode::MalformedEnvelope,
            format!("key id {key_id:?} contains a NUL byte, so it cannot be passed to a callback"),
        )
    })
}

fn wrapped_len_checked(len: usize, provider: &str, op: &str, key_id: &str) -> Result<usize> {
    if len == 0 || len > MQSEAL_MAX_WRAPPED_KEY_LEN {
        return Err(Error::new(
            ErrorCode::ProviderInvalidResponse,
            format!(
                "key provider {provider:?}: the {op} callback for key id {key_id:?} reported a wrapped key of {len} bytes; 1 to {MQSEAL_MAX_WRAPPED_KEY_LEN} are allowed"
            ),
        ));
    }
    Ok(len)
}

impl Host {
    fn wrap(&self, key_id: &str, dek: &[u8]) -> Result<(u32, Vec<u8>)> {
        let f = self
            .callbacks
            .wrap
            .ok_or_else(|| missing_callback("wrap"))?;
        let id = key_id_c(key_id)?;
        let mut version = 0u32;
        let mut wrapped = vec![0u8; MQSEAL_MAX_WRAPPED_KEY_LEN];
        let mut len = 0usize;
        // SAFETY: `f` is the host's wrap function; every pointer is valid for the call:
        // `id` is NUL-terminated, `dek` holds `dek.len()` bytes, `wrapped` has
        // `wrapped.len()` writable bytes, and `version`/`len` are writable locals.
        let status = unsafe {
            f(
                self.callbacks.user_data,
                id.as_ptr(),
                dek.as_ptr(),
                dek.len(),
                &mut version,
                wrapped.as_mut_ptr(),
                wrapped.len(),
                &mut len,
            )
        };
        if status != 0 {
            return Err(callback_error(status, &self.name, "wrap", key_id));
        }
        wrapped.truncate(wrapped_len_checked(len, &self.name, "wrap", key_id)?);
        Ok((version, wrapped))
    }

    fn unwrap(&self, key_id: &str, key_version: u32, wrapped: &[u8]) -> Result<DataKey> {
        let f = self
            .callbacks
            .unwrap
            .ok_or_else(|| missing_callback("unwrap"))?;
        let id = key_id_c(key_id)?;
        // Wiped on every path when it goes out of scope.
        let mut dek = Zeroizing::new([0u8; MQSEAL_DEK_LEN]);
        // SAFETY: `f` is the host's unwrap function; `id` is NUL-terminated, `wrapped`
        // holds `wrapped.len()` bytes, and `dek` has `MQSEAL_DEK_LEN` writable bytes.
        let status = unsafe {
            f(
                self.callbacks.user_data,
                id.as_ptr(),
                key_version,
                wrapped.as_ptr(),
                wrapped.len(),
                dek.as_mut_ptr(),
                dek.len(),
            )
        };
        if status != 0 {
            return Err(callback_error(status, &self.name, "unwrap", key_id));
        }
        DataKey::from_slice(dek.as_ref())
    }

    fn generate(&self, key_id: &str) -> Result<(u32, DataKey, Vec<u8>)> {
        let f = self
            .callbacks
            .generate
            .ok_or_else(|| missing_callback("generate"))?;
        let id = key_id_c(key_id)?;
        let mut version = 0u32;
        let mut dek = Zeroizing::new([0u8; MQSEAL_DEK_LEN]);
        let mut wrapped = vec![0u8; MQSEAL_MAX_WRAPPED_KEY_LEN];
        let mut len = 0usize;
        // SAFETY: `f` is the host's generate function; `id` is NUL-terminated, `dek` has
        // `MQSEAL_DEK_LEN` writable bytes, `wrapped` has `wrapped.len()` writable bytes,
        // and `version`/`len` are writable locals.
        let status = unsafe {
            f(
                self.callbacks.user_data,
                id.as_ptr(),
                &mut version,
                dek.as_mut_ptr(),
                dek.len(),
                wrapped.as_mut_ptr(),
                wrapped.len(),
                &mut len,
            )
        };
        if status != 0 {
            return Err(callback_error(status, &self.name, "generate", key_id));
        }
        wrapped.truncate(wrapped_len_checked(len, &self.name, "generate", key_id)?);
        Ok((version, DataKey::from_slice(dek.as_ref())?, wrapped))
    }
}

fn missing_callback(what: &str) -> Error {
    Error::new(
        ErrorCode::Internal,
        format!("the {what} callback is missing"),
    )
}

fn split_key_ids(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Creates a callback provider and writes it to `*out`; free it with
/// `mqseal_callback_provider_free`.
///
/// - `name`: shown in error messages; NULL means `"callback"`.
/// - `key_ids`: comma-separated key ids this provider recognizes; NULL or empty means
///   every key id.
/// - `callbacks`: `wrap` and `unwrap` are required, `generate` and `destroy` optional.
///   The struct is copied.
///
/// Ownership of `user_data`: on success the provider owns it, and calls
/// `destroy(user_data)` once, when this handle and every cipher built with it have been
/// freed. On failure `destroy` is not called and `user_data` stays the caller's.
///
/// Callbacks may be called from several threads at once and must be thread-safe. They
/// must not unwind (C++ exceptions, `longjmp`) through mqseal, and must not call back
/// into the cipher that invoked them. A callback reports failure by returning an mqseal
/// status: 400, 401, 500, 501, 600, 601, 602, 700, 701, 702 and 900 pass through
/// unchanged (600-602 are retryable); any other non-zero value becomes 702
/// (`MQSEAL_PROVIDER_INVALID_RESPONSE`).
///
/// Errors: `MQSEAL_NULL_ARGUMENT` when `callbacks`, `wrap` or `unwrap` is NULL;
/// `MQSEAL_INVALID_ARGUMENT` for a string that is not UTF-8.
///
/// # Safety
///
/// `name` and `key_ids` must be NULL or NUL-terminated strings; `callbacks` must point to
/// a `mqseal_provider_callbacks` whose functions follow the contract above; `out` must
/// point to a writable `mqseal_callback_provider *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_callback_provider_new(
    name: *const c_char,
    key_ids: *const c_char,
    callbacks: *const mqseal_provider_callbacks,
    out: *mut *mut mqseal_callback_provider,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let name = unsafe { raw::opt_str(name, "name") }?.unwrap_or("callback");
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let key_ids = unsafe { raw::opt_str(key_ids, "key_ids") }?;
        // SAFETY: the caller passes a readable `mqseal_provider_callbacks`.
        let callbacks = *unsafe { raw::handle(callbacks, "callbacks") }?;
        // SAFETY: the caller passes a writable pointer slot.
        let out = unsafe { raw::out(out, "out") }?;
        if callbacks.wrap.is_none() {
            return Err(Error::new(
                ErrorCode::NullArgument,
                "callbacks.wrap is NULL; a callback provider needs wrap and unwrap",
            ));
        }
        if callbacks.unwrap.is_none() {
            return Err(Error::new(
                ErrorCode::NullArgument,
                "callbacks.unwrap is NULL; a callback provider needs wrap and unwrap",
            ));
        }
        let ids = key_ids.map(split_key_ids).filter(|ids| !ids.is_empty());
        let has_generate = callbacks.generate.is_some();
        // From here on the host is owned: dropping it calls `destroy`.
        let host = Arc::new(Host {
            name: name.to_owned(),
            callbacks,
        });
        let (h_wrap, h_unwrap) = (host.clone(), host.clone());
        let mut provider = CallbackProvider::new(
            name,
            ids,
            Box::new(move |id: &str, dek: &[u8]| h_wrap.wrap(id, dek)),
            Box::new(move |id: &str, version: u32, wrapped: &[u8]| {
                h_unwrap.unwrap(id, version, wrapped)
            }),
        );
        if has_generate {
            let h_generate = host.clone();
            provider = provider.with_generate(Box::new(move |id: &str| h_generate.generate(id)));
        }
        drop(host);
        out.write(raw::into_handle(mqseal_callback_provider {
            provider: Arc::new(provider),
        }));
        Ok(())
    })
}

/// Frees a callback provider handle. Ciphers built with it keep working: they hold
/// their own reference, and `destroy` runs when the last of them is freed. NULL is
/// ignored.
///
/// # Safety
///
/// `provider` must be NULL or a live provider handle, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_callback_provider_free(provider: *mut mqseal_callback_provider) {
    boundary::value((), || {
        // SAFETY: the caller passes NULL or a live provider handle that it gives up here.
        unsafe { raw::free_handle(provider) }
    })
}

/// Adds key `name` with a random version-1 key-encryption key to the keyring file at
/// `path`, creating the file (mode 0600) when it does not exist. Writes the new version
/// (1) to `*version`.
///
/// The keyring is for development and pilots: its keys sit in a file protected only by
/// file permissions.
///
/// Errors: `MQSEAL_INVALID_ARGUMENT` for a bad name or a name already in the keyring;
/// `MQSEAL_INVALID_CONFIG` when the file cannot be read or written, is not a keyring, or
/// is readable by group or others.
///
/// # Safety
///
/// `path` and `name` must be NUL-terminated strings; `version` must point to a writable
/// `uint32_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_keyring_generate(
    path: *const c_char,
    name: *const c_char,
    version: *mut u32,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a NUL-terminated string.
        let path = unsafe { raw::str(path, "path") }?;
        // SAFETY: the caller passes a NUL-terminated string.
        let name = unsafe { raw::str(name, "name") }?;
        // SAFETY: the caller passes a writable `uint32_t`.
        let version = unsafe { raw::out(version, "version") }?;
        version.write(LocalKeyring::generate_in_file(Path::new(path), name)?);
        Ok(())
    })
}

/// Adds a new random version of key `name` to the keyring file at `path` and makes it
/// primary. Writes the new version to `*version`.
///
/// Producers pick the new version up with their next data key (see
/// `mqseal_cipher_rotate`); consumers re-read the file when they meet an unknown version.
///
/// Errors: `MQSEAL_KEY_NOT_FOUND` when the keyring has no key `name`;
/// `MQSEAL_INVALID_CONFIG` when the file cannot be read or written.
///
/// # Safety
///
/// `path` and `name` must be NUL-terminated strings; `version` must point to a writable
/// `uint32_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_keyring_rotate(
    path: *const c_char,
    name: *const c_char,
    version: *mut u32,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a NUL-terminated string.
        let path = unsafe { raw::str(path, "path") }?;
        // SAFETY: the caller passes a NUL-terminated string.
        let name = unsafe { raw::str(name, "name") }?;
        // SAFETY: the caller passes a writable `uint32_t`.
        let version = unsafe { raw::out(version, "version") }?;
        version.write(LocalKeyring::rotate_in_file(Path::new(path), name)?);
        Ok(())
    })
}
