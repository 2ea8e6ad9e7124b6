//! `mqseal_cipher`: construction, encryption, decryption, rewrap, rotation, counters.

use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

use mqseal_core::config::Settings;
use mqseal_core::{
    Attributes, Backend, Cipher, CipherConfig, DecryptInfo, EncryptOptions, Error, ErrorCode,
    KeyProvider, LocalKeyring, Result, Suite, UsageLimits,
};

use crate::attributes::mqseal_attributes;
use crate::boundary;
use crate::buffer::mqseal_buffer;
use crate::provider::mqseal_callback_provider;
use crate::raw::{self, Out};

/// Suite id of AES-256-GCM (also its wire id in envelopes).
pub const MQSEAL_SUITE_AES_256_GCM: u32 = 1;
/// Suite id of ChaCha20-Poly1305 (RFC 8439) (also its wire id in envelopes).
pub const MQSEAL_SUITE_CHACHA20_POLY1305: u32 = 2;
/// Capacity of the key id arrays in `mqseal_decrypt_info` and `mqseal_envelope_key`: a
/// key id is at most 255 bytes, plus the terminating NUL.
pub const MQSEAL_KEY_ID_CAP: usize = 256;

const _: () = assert!(MQSEAL_KEY_ID_CAP == mqseal_core::envelope::MAX_KEY_ID_LEN + 1);

/// Encrypts and decrypts message bodies.
///
/// Thread safety: a cipher may be used by any number of threads at once, with no
/// locking by the caller; all of them share its data-key caches and counters. Freeing it
/// must not race with other calls on it.
pub struct mqseal_cipher {
    cipher: Cipher,
}

/// Settings for `mqseal_cipher_new`. Fill it with `mqseal_cipher_options_init` first,
/// then change the fields you need: a field left as `init` set it has the documented
/// default. Strings are NUL-terminated UTF-8 and are read during `mqseal_cipher_new`
/// only.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mqseal_cipher_options {
    /// `sizeof(mqseal_cipher_options)`, set by `mqseal_cipher_options_init`; guards
    /// against an uninitialized struct or a header/library mismatch.
    pub struct_size: usize,
    /// Path of a local keyring file; NULL for none. Default NULL.
    pub keyring_path: *const c_char,
    /// A callback provider; NULL for none. The cipher keeps its own reference, so the
    /// provider handle may be freed right after `mqseal_cipher_new`. When both a provider
    /// and a keyring are given, the provider is asked first for each key id it
    /// recognizes, the keyring for the rest. Default NULL.
    pub provider: *const mqseal_callback_provider,
    /// Comma-separated key ids that wrap each new data key; the first one generates it.
    /// NULL or empty makes a decrypt-only cipher. Default NULL.
    pub key_ids: *const c_char,
    /// `MQSEAL_SUITE_AES_256_GCM` or `MQSEAL_SUITE_CHACHA20_POLY1305` for new envelopes;
    /// decryption accepts both. Default AES-256-GCM.
    pub suite: u32,
    /// Crypto backend name, `"aws-lc"` or `"rustcrypto"` when compiled in; NULL for the
    /// fastest available. Default NULL.
    pub backend: *const c_char,
    /// Messages sealed under one data key before a new one is made. Default 2^24.
    pub max_messages: u64,
    /// Plaintext bytes sealed under one data key. Default 2^36.
    pub max_bytes: u64,
    /// Seconds a data key seals messages. Default 3600.
    pub max_age_seconds: u64,
    /// Unwrapped data keys kept by consumers; 0 disables the cache. Default 1000.
    pub cache_capacity: usize,
    /// Seconds an unwrapped data key stays cached. Default 3600.
    pub cache_ttl_seconds: u64,
    /// Compress bodies with LZ4 before encryption. Off by default: compression lets
    /// message sizes reveal how compressible the plaintext is.
    pub compression: bool,
    /// Smallest body compressed when `compression` is on, in bytes. Default 1024.
    pub compression_min_size: usize,
    /// Largest body accepted for encryption and produced by decryption, in bytes.
    /// Default 64 MiB.
    pub max_body_len: usize,
    /// Store the context in the envelope header, so consumers can decrypt without
    /// supplying it. Default false.
    pub store_context: bool,
}

/// Counters of a cipher, read with `mqseal_cipher_counters`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct mqseal_counters {
    /// Messages encrypted.
    pub encrypted: u64,
    /// Messages decrypted.
    pub decrypted: u64,
    /// Decryptions that failed, for any reason.
    pub decrypt_failures: u64,
    /// Data-key lookups served from the cache (producer and consumer).
    pub cache_hits: u64,
    /// Data-key lookups that needed the provider (producer and consumer).
    pub cache_misses: u64,
    /// Calls to key providers (generate, wrap, unwrap).
    pub provider_calls: u64,
    /// Provider calls that failed.
    pub provider_failures: u64,
    /// Data keys created for encryption.
    pub data_keys_created: u64,
    /// Unwrapped data keys currently in the consumer cache.
    pub cached_keys: u64,
    /// Requests sent to key providers, retries and rotation checks included.
    pub provider_attempts: u64,
    /// Retries of transiently failed provider requests.
    pub provider_retries: u64,
    /// Provider requests that failed transiently (unavailable, throttled, timed out).
    pub provider_transient_failures: u64,
    /// Provider requests that failed permanently (denied, disabled, not found, invalid).
    pub provider_permanent_failures: u64,
    /// Total time of provider requests, in microseconds.
    pub provider_latency_us_total: u64,
    /// Longest provider request, in microseconds.
    pub provider_latency_us_max: u64,
    /// Times a provider's circuit breaker opened.
    pub breaker_opens: u64,
    /// Calls rejected at once because a circuit breaker was open.
    pub breaker_rejections: u64,
    /// Unwraps answered from the negative cache of unusable wrapped keys.
    pub negative_cache_hits: u64,
    /// Producer data keys replaced because a rotation check found a new primary KEK.
    pub rotations: u64,
}

/// What decryption reports besides the body.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mqseal_decrypt_info {
    /// Suite id of the envelope (`MQSEAL_SUITE_*`).
    pub suite: u32,
    /// Version of the key-encryption key that recovered the data key.
    pub key_version: u32,
    /// Whether the body was compressed inside the envelope.
    pub compressed: bool,
    /// Whether the envelope carried sealed properties.
    pub has_properties: bool,
    /// Length of `key_id` in bytes, without the NUL.
    pub key_id_len: usize,
    /// Key id that recovered the data key, NUL-terminated.
    pub key_id: [c_char; MQSEAL_KEY_ID_CAP],
}

fn suite_from_id(id: u32) -> Result<Suite> {
    u8::try_from(id)
        .ok()
        .and_then(|b| Suite::from_id(b).ok())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidConfig,
                format!(
                    "suite = {id} is not supported; use MQSEAL_SUITE_AES_256_GCM (1) or \
                     MQSEAL_SUITE_CHACHA20_POLY1305 (2)"
                ),
            )
        })
}

pub(crate) fn suite_id(suite: Suite) -> u32 {
    u32::from(suite.id())
}

fn options_from_config(config: &CipherConfig) -> mqseal_cipher_options {
    mqseal_cipher_options {
        struct_size: size_of::<mqseal_cipher_options>(),
        keyring_path: std::ptr::null(),
        provider: std::ptr::null(),
        key_ids: std::ptr::null(),
        suite: suite_id(config.suite),
        backend: std::ptr::null(),
        max_messages: config.limits.max_messages,
        max_bytes: config.limits.max_bytes,
        max_age_seconds: config.limits.max_age.as_secs(),
        cache_capacity: config.cache_capacity,
        cache_ttl_seconds: config.cache_ttl.as_secs(),
        compression: config.compression,
        compression_min_size: config.compression_min_size,
        max_body_len: config.max_body_len,
        store_context: config.store_context,
    }
}

/// Fills `*options` with the defaults. Call it before setting fields.
///
/// # Safety
///
/// `options` must point to a writable `mqseal_cipher_options`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_options_init(options: *mut mqseal_cipher_options) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a writable options struct.
        let out = unsafe { raw::out(options, "options") }?;
        out.write(options_from_config(&CipherConfig::default()));
        Ok(())
    })
}

fn write_cipher(out: Out<'_, *mut mqseal_cipher>, cipher: Cipher) {
    out.write(raw::into_handle(mqseal_cipher { cipher }));
}

/// Creates a cipher from options and writes it to `*out`; free it with
/// `mqseal_cipher_free`.
///
/// At least one of `keyring_path` and `provider` must be set. Opening the keyring reads
/// the file once; the key provider is not called until the first encryption or
/// decryption.
///
/// Errors: `MQSEAL_NULL_ARGUMENT`; `MQSEAL_INVALID_CONFIG` for an uninitialized struct
/// (wrong `struct_size`), a setting out of range, no provider, a key id no provider
/// recognizes, or a keyring file that cannot be read or is readable by others;
/// `MQSEAL_INVALID_ARGUMENT` for a string that is not UTF-8.
///
/// # Safety
///
/// `options` must point to an `mqseal_cipher_options` filled by
/// `mqseal_cipher_options_init`, whose string fields are NULL or NUL-terminated and whose
/// `provider` is NULL or a live provider handle; `out` must point to a writable
/// `mqseal_cipher *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_new(
    options: *const mqseal_cipher_options,
    out: *mut *mut mqseal_cipher,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a readable options struct.
        let o = *unsafe { raw::handle(options, "options") }?;
        // SAFETY: the caller passes a writable pointer slot.
        let out = unsafe { raw::out(out, "out") }?;
        if o.struct_size != size_of::<mqseal_cipher_options>() {
            return Err(Error::new(
                ErrorCode::InvalidConfig,
                format!(
                    "options.struct_size is {} but this library's mqseal_cipher_options has {} bytes; \
                     fill the struct with mqseal_cipher_options_init and build against the matching mqseal.h",
                    o.struct_size,
                    size_of::<mqseal_cipher_options>()
                ),
            ));
        }
        // SAFETY: the string fields are NULL or NUL-terminated, as the caller guarantees.
        let keyring_path = unsafe { raw::opt_str(o.keyring_path, "options.keyring_path") }?;
        // SAFETY: as above.
        let key_ids = unsafe { raw::opt_str(o.key_ids, "options.key_ids") }?;
        // SAFETY: as above.
        let backend = unsafe { raw::opt_str(o.backend, "options.backend") }?;
        // SAFETY: `provider` is NULL or a live provider handle, as the caller guarantees.
        let provider = unsafe { raw::opt_handle(o.provider) };

        let config = CipherConfig {
            suite: suite_from_id(o.suite)?,
            backend: match backend {
                Some(name) => name.parse()?,
                None => Backend::default(),
            },
            key_ids: key_ids
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            limits: UsageLimits {
                max_messages: o.max_messages,
                max_bytes: o.max_bytes,
                max_age: Duration::from_secs(o.max_age_seconds),
            },
            cache_capacity: o.cache_capacity,
            cache_ttl: Duration::from_secs(o.cache_ttl_seconds),
            compression: o.compression,
            compression_min_size: o.compression_min_size,
            max_body_len: o.max_body_len,
            store_context: o.store_context,
            ..CipherConfig::default()
        };
        let mut providers: Vec<Arc<dyn KeyProvider>> = Vec::new();
        if let Some(p) = provider {
            providers.push(p.provider.clone());
        }
        if let Some(path) = keyring_path {
            providers.push(Arc::new(LocalKeyring::open(path)?));
        }
        write_cipher(out, Cipher::new(config, providers)?);
        Ok(())
    })
}

fn from_settings(
    text: &str,
    provider: Option<&mqseal_callback_provider>,
    out: Out<'_, *mut mqseal_cipher>,
) -> Result<()> {
    let settings = Settings::parse(text)?;
    write_cipher(out, settings.build(provider.map(|p| p.provider.clone()))?);
    Ok(())
}

/// Creates a cipher from configuration text (`key = value` lines, the format shared by
/// every mqseal binding: `provider`, `keyring.path`, `aws_kms.*`, `key_id`, `suite`,
/// `limits.*`, `cache.*`, `retry.*`, `breaker.*`, `rotation.check_seconds`,
/// `compression`, `max_body_len`, `context.store`) and writes it to `*out`; free it with
/// `mqseal_cipher_free`.
///
/// `provider` may be NULL. When it is not NULL it takes the place of `callback` in the
/// `provider` list, or, when the list has no `callback`, replaces the configured
/// providers.
///
/// Errors: `MQSEAL_NULL_ARGUMENT`; `MQSEAL_INVALID_CONFIG` naming the line for an unknown
/// key or a bad value, or when the keyring cannot be opened.
///
/// # Safety
///
/// `config` must be a NUL-terminated string; `provider` NULL or a live provider handle;
/// `out` must point to a writable `mqseal_cipher *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_new_from_config(
    config: *const c_char,
    provider: *const mqseal_callback_provider,
    out: *mut *mut mqseal_cipher,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a NUL-terminated string.
        let text = unsafe { raw::str(config, "config") }?;
        // SAFETY: the caller passes NULL or a live provider handle.
        let provider = unsafe { raw::opt_handle(provider) };
        // SAFETY: the caller passes a writable pointer slot.
        let out = unsafe { raw::out(out, "out") }?;
        from_settings(text, provider, out)
    })
}

/// Like `mqseal_cipher_new_from_config`, reading the configuration from the file at
/// `path`; writes the cipher to `*out`, to free with `mqseal_cipher_free`.
///
/// Errors: as `mqseal_cipher_new_from_config`, and `MQSEAL_INVALID_CONFIG` when the file
/// cannot be read.
///
/// # Safety
///
/// `path` must be a NUL-terminated string; `provider` NULL or a live provider handle;
/// `out` must point to a writable `mqseal_cipher *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_new_from_file(
    path: *const c_char,
    provider: *const mqseal_callback_provider,
    out: *mut *mut mqseal_cipher,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a NUL-terminated string.
        let path = unsafe { raw::str(path, "path") }?;
        // SAFETY: the caller passes NULL or a live provider handle.
        let provider = unsafe { raw::opt_handle(provider) };
        // SAFETY: the caller passes a writable pointer slot.
        let out = unsafe { raw::out(out, "out") }?;
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::new(
                ErrorCode::InvalidConfig,
                format!("cannot read configuration file {path}: {e}"),
            )
        })?;
        from_settings(&text, provider, out)
    })
}

/// Frees a cipher. NULL is ignored. A callback provider it uses is released when no
/// other cipher or handle holds it.
///
/// # Safety
///
/// `cipher` must be NULL or a live cipher, not used afterwards by any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_free(cipher: *mut mqseal_cipher) {
    boundary::value((), || {
        // SAFETY: the caller passes NULL or a live cipher that it gives up here.
        unsafe { raw::free_handle(cipher) }
    })
}

/// The inputs shared by every encrypt entry point.
struct EncryptArgs<'a> {
    cipher: &'a Cipher,
    body: &'a [u8],
    context: Option<&'a Attributes>,
    properties: Option<&'a Attributes>,
}

impl EncryptArgs<'_> {
    fn options(&self) -> EncryptOptions<'_> {
        EncryptOptions {
            context: self.context,
            properties: self.properties,
        }
    }
}

/// # Safety
///
/// As for the encrypt entry points: live handles or NULL, `body` NULL with 0 or
/// `body_len` readable bytes.
unsafe fn encrypt_args<'a>(
    cipher: *const mqseal_cipher,
    body: *const u8,
    body_len: usize,
    context: *const mqseal_attributes,
    properties: *const mqseal_attributes,
) -> Result<EncryptArgs<'a>> {
    // SAFETY: forwarded from the caller: a live cipher handle.
    let cipher = &unsafe { raw::handle(cipher, "cipher") }?.cipher;
    // SAFETY: forwarded from the caller: NULL with 0, or `body_len` readable bytes.
    let body = unsafe { raw::bytes(body, body_len, "body") }?;
    // SAFETY: forwarded from the caller: NULL or a live map.
    let context = unsafe { raw::opt_handle(context) }.map(mqseal_attributes::core);
    // SAFETY: forwarded from the caller: NULL or a live map.
    let properties = unsafe { raw::opt_handle(properties) }.map(mqseal_attributes::core);
    Ok(EncryptArgs {
        cipher,
        body,
        context,
        properties,
    })
}

fn check_body_len(cipher: &Cipher, len: usize) -> Result<()> {
    let max = cipher.config().max_body_len;
    if len > max {
        return Err(Error::new(
            ErrorCode::UsageLimitExceeded,
            format!(
                "body of {len} bytes exceeds max_body_len = {max}; raise max_body_len or send a smaller body"
            ),
        ));
    }
    Ok(())
}

/// Writes the size query result: the envelope length for a body of `body_len` bytes with
/// `context` and `properties` (each may be NULL).
///
/// The result is exact for the cipher's current data key without compression, and an
/// upper bound with compression. It may create the data key (calling the key provider).
/// If another thread rotates the data key in between, `mqseal_cipher_encrypt_into` can
/// still report `MQSEAL_BUFFER_TOO_SMALL` with the new size.
///
/// Errors: `MQSEAL_NULL_ARGUMENT`; `MQSEAL_USAGE_LIMIT_EXCEEDED` when `body_len` exceeds
/// the cipher's `max_body_len`; provider errors.
///
/// # Safety
///
/// `cipher` must be a live cipher; `context` and `properties` NULL or live maps;
/// `out_len` must point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_encrypted_len(
    cipher: *const mqseal_cipher,
    body_len: usize,
    context: *const mqseal_attributes,
    properties: *const mqseal_attributes,
    out_len: *mut usize,
) -> i32 {
    boundary::status(|| {
        // SAFETY: live handles or NULL as the caller guarantees; no body is read.
        let a = unsafe { encrypt_args(cipher, std::ptr::null(), 0, context, properties) }?;
        // SAFETY: the caller passes a writable `size_t`.
        let out_len = unsafe { raw::out(out_len, "out_len") }?;
        check_body_len(a.cipher, body_len)?;
        let mut len = a.cipher.encrypted_len(body_len, a.context)?;
        if let Some(p) = a.properties.filter(|p| !p.is_empty()) {
            len += 4 + p.encoded_len();
        }
        out_len.write(len);
        Ok(())
    })
}

/// Encrypts `body` into the caller's buffer `out` of `out_cap` bytes and writes the
/// envelope length to `*out_len`.
///
/// `context` (may be NULL) is authenticated but not stored: the consumer must supply the
/// same map to decrypt, for example `topic=<logical topic>`. `properties` (may be NULL)
/// are sealed inside the envelope and returned by decryption.
///
/// `MQSEAL_BUFFER_TOO_SMALL` is the one exception to "out-params are written only on
/// success": the required size is written to `*out_len`, and `out` is left unchanged.
/// Call with `(NULL, 0)` to learn the size, or use `mqseal_cipher_encrypted_len`.
///
/// Errors: `MQSEAL_NULL_ARGUMENT`; `MQSEAL_BUFFER_TOO_SMALL`; `MQSEAL_INVALID_ARGUMENT`
/// when `out` overlaps `body`; `MQSEAL_USAGE_LIMIT_EXCEEDED`; provider errors.
///
/// # Safety
///
/// `cipher` must be a live cipher; `body` NULL with `body_len` 0 or `body_len` readable
/// bytes; `context` and `properties` NULL or live maps; `out` NULL with `out_cap` 0 or
/// `out_cap` writable bytes not overlapping `body`; `out_len` a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_encrypt_into(
    cipher: *const mqseal_cipher,
    body: *const u8,
    body_len: usize,
    context: *const mqseal_attributes,
    properties: *const mqseal_attributes,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    boundary::status(|| {
        // SAFETY: live handles or NULL, and a readable body, as the caller guarantees.
        let a = unsafe { encrypt_args(cipher, body, body_len, context, properties) }?;
        // SAFETY: the caller passes a writable `size_t`.
        let out_len = unsafe { raw::out(out_len, "out_len") }?;
        if raw::overlaps(body, body_len, out, out_cap) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "the output buffer overlaps the body; encrypt into a separate buffer",
            ));
        }
        // SAFETY: NULL with 0 or `out_cap` writable bytes, checked above not to overlap
        // the only other buffer of the call.
        let dst = unsafe { raw::bytes_mut(out, out_cap, "out") }?;
        match a.cipher.encrypt_into(a.body, &a.options(), dst) {
            Ok(n) => {
                out_len.write(n);
                Ok(())
            }
            Err(e) => Err(with_required_size(e, out_len)),
        }
    })
}

/// Writes the required size of a `BufferTooSmall` error to `out_len`: the documented
/// exception to "out-params are written only on success".
fn with_required_size(e: Error, out_len: Out<'_, usize>) -> Error {
    if e.code() == ErrorCode::BufferTooSmall
        && let Some(required) = e.required_size()
    {
        out_len.write(required);
    }
    e
}

/// Encrypts `body` into a new buffer written to `*out`; free it with
/// `mqseal_buffer_free`. Arguments as for `mqseal_cipher_encrypt_into`.
///
/// Errors: `MQSEAL_NULL_ARGUMENT`; `MQSEAL_USAGE_LIMIT_EXCEEDED`; provider errors.
///
/// # Safety
///
/// `cipher` must be a live cipher; `body` NULL with `body_len` 0 or `body_len` readable
/// bytes; `context` and `properties` NULL or live maps; `out` a writable
/// `mqseal_buffer *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_encrypt(
    cipher: *const mqseal_cipher,
    body: *const u8,
    body_len: usize,
    context: *const mqseal_attributes,
    properties: *const mqseal_attributes,
    out: *mut *mut mqseal_buffer,
) -> i32 {
    boundary::status(|| {
        // SAFETY: live handles or NULL, and a readable body, as the caller guarantees.
        let a = unsafe { encrypt_args(cipher, body, body_len, context, properties) }?;
        // SAFETY: the caller passes a writable pointer slot.
        let out = unsafe { raw::out(out, "out") }?;
        let envelope = a.cipher.encrypt(a.body, &a.options())?;
        out.write(raw::into_handle(mqseal_buffer::new(envelope)));
        Ok(())
    })
}

/// Writes an upper bound of the decrypted body length of `envelope` to `*out_len`,
/// without cryptography: the payload length for an envelope without compression (exact
/// when it carries no sealed properties), or the cipher's `max_body_len` for a
/// compressed one, whose size is known only after decryption. For compressed envelopes
/// prefer `mqseal_cipher_decrypt`, or the required size that
/// `mqseal_cipher_decrypt_into` reports with `MQSEAL_BUFFER_TOO_SMALL`.
///
/// Errors: `MQSEAL_NULL_ARGUMENT`; envelope errors (`MQSEAL_NOT_ENCRYPTED`,
/// `MQSEAL_TRUNCATED_ENVELOPE`, `MQSEAL_MALFORMED_ENVELOPE`, `MQSEAL_UNSUPPORTED_*`).
///
/// # Safety
///
/// `cipher` must be a live cipher; `envelope` NULL with 0 or `envelope_len` readable
/// bytes; `out_len` a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_decrypted_len(
    cipher: *const mqseal_cipher,
    envelope: *const u8,
    envelope_len: usize,
    out_len: *mut usize,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a live cipher.
        let cipher = &unsafe { raw::handle(cipher, "cipher") }?.cipher;
        // SAFETY: the caller passes NULL with 0 or `envelope_len` readable bytes.
        let bytes = unsafe { raw::bytes(envelope, envelope_len, "envelope") }?;
        // SAFETY: the caller passes a writable `size_t`.
        let out_len = unsafe { raw::out(out_len, "out_len") }?;
        let env = mqseal_core::Envelope::parse(bytes)?;
        let bound = if env.flags & mqseal_core::envelope::FLAG_COMPRESSED != 0 {
            cipher.config().max_body_len
        } else {
            env.ciphertext.len()
        };
        out_len.write(bound);
        Ok(())
    })
}

/// The optional outputs shared by the decrypt entry points.
struct DecryptOuts<'a> {
    properties: Option<Out<'a, *mut mqseal_attributes>>,
    info: Option<Out<'a, mqseal_decrypt_info>>,
}

impl DecryptOuts<'_> {
    /// # Safety
    ///
    /// `properties` and `info` must be NULL or writable.
    unsafe fn new(properties: *mut *mut mqseal_attributes, info: *mut mqseal_decrypt_info) -> Self {
        DecryptOuts {
            // SAFETY: forwarded from the caller.
            properties: unsafe { raw::opt_out(properties) },
            // SAFETY: forwarded from the caller.
            info: unsafe { raw::opt_out(info) },
        }
    }

    fn write(self, info: DecryptInfo) {
        if let Some(out) = self.info {
            let mut c = mqseal_decrypt_info {
                suite: suite_id(info.suite),
                key_version: info.key_version,
                compressed: info.compressed,
                has_properties: info.properties.is_some(),
                key_id_len: 0,
                key_id: [0; MQSEAL_KEY_ID_CAP],
            };
            c.key_id_len = raw::fill_chars(&mut c.key_id, &info.key_id);
            out.write(c);
        }
        if let Some(out) = self.properties {
            let map = info.properties.unwrap_or_default();
            out.write(raw::into_handle(mqseal_attributes::from_core(map)));
        }
    }
}

/// Decrypts `envelope` into the caller's buffer `out` of `out_cap` bytes and writes the
/// body length to `*out_len`.
///
/// `context` must equal the map given to encryption (NULL equals an empty map; when the
/// envelope stores its context, NULL or an empty map uses the stored one).
///
/// Optional outputs, written on success only: when `properties` is not NULL it receives
/// a new map with the sealed properties (empty when the envelope has none), to free with
/// `mqseal_attributes_free`; when `info` is not NULL it receives the suite, key id and
/// key version.
///
/// `MQSEAL_BUFFER_TOO_SMALL` is the one exception to "out-params are written only on
/// success": the required size is written to `*out_len`. On any failure `out` holds no
/// plaintext (its contents are unspecified).
///
/// Errors: `MQSEAL_NULL_ARGUMENT`; `MQSEAL_BUFFER_TOO_SMALL`; `MQSEAL_NOT_ENCRYPTED` (202)
/// for a body that is no envelope; `MQSEAL_AUTHENTICATION_FAILED` (400) for tampered
/// data, a wrong key or a wrong context; `MQSEAL_KEY_COMMITMENT_MISMATCH`; other envelope
/// errors; `MQSEAL_KEY_NOT_FOUND`, `MQSEAL_KEY_VERSION_NOT_FOUND` and provider errors;
/// `MQSEAL_USAGE_LIMIT_EXCEEDED` for a body over `max_body_len`; `MQSEAL_INVALID_ARGUMENT`
/// when `out` overlaps `envelope`.
///
/// # Safety
///
/// `cipher` must be a live cipher; `envelope` NULL with 0 or `envelope_len` readable
/// bytes; `context` NULL or a live map; `out` NULL with `out_cap` 0 or `out_cap` writable
/// bytes not overlapping `envelope`; `out_len` a writable `size_t`; `properties` NULL or
/// a writable `mqseal_attributes *`; `info` NULL or a writable `mqseal_decrypt_info`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_decrypt_into(
    cipher: *const mqseal_cipher,
    envelope: *const u8,
    envelope_len: usize,
    context: *const mqseal_attributes,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    properties: *mut *mut mqseal_attributes,
    info: *mut mqseal_decrypt_info,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a live cipher.
        let cipher = &unsafe { raw::handle(cipher, "cipher") }?.cipher;
        // SAFETY: the caller passes NULL with 0 or `envelope_len` readable bytes.
        let bytes = unsafe { raw::bytes(envelope, envelope_len, "envelope") }?;
        // SAFETY: the caller passes NULL or a live map.
        let context = unsafe { raw::opt_handle(context) }.map(mqseal_attributes::core);
        // SAFETY: the caller passes a writable `size_t`.
        let out_len = unsafe { raw::out(out_len, "out_len") }?;
        // SAFETY: the caller passes NULL or writable slots.
        let outs = unsafe { DecryptOuts::new(properties, info) };
        if raw::overlaps(envelope, envelope_len, out, out_cap) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "the output buffer overlaps the envelope; decrypt into a separate buffer",
            ));
        }
        // SAFETY: NULL with 0 or `out_cap` writable bytes, checked above not to overlap
        // the only other buffer of the call.
        let dst = unsafe { raw::bytes_mut(out, out_cap, "out") }?;
        match cipher.decrypt_into(bytes, context, dst) {
            Ok((n, info)) => {
                out_len.write(n);
                outs.write(info);
                Ok(())
            }
            Err(e) => Err(with_required_size(e, out_len)),
        }
    })
}

/// Decrypts `envelope` into a new buffer written to `*out`; free it with
/// `mqseal_buffer_free` (which wipes the plaintext). Other arguments and errors as for
/// `mqseal_cipher_decrypt_into`, without `MQSEAL_BUFFER_TOO_SMALL`.
///
/// # Safety
///
/// `cipher` must be a live cipher; `envelope` NULL with 0 or `envelope_len` readable
/// bytes; `context` NULL or a live map; `out` a writable `mqseal_buffer *`; `properties`
/// NULL or a writable `mqseal_attributes *`; `info` NULL or a writable
/// `mqseal_decrypt_info`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_decrypt(
    cipher: *const mqseal_cipher,
    envelope: *const u8,
    envelope_len: usize,
    context: *const mqseal_attributes,
    out: *mut *mut mqseal_buffer,
    properties: *mut *mut mqseal_attributes,
    info: *mut mqseal_decrypt_info,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a live cipher.
        let cipher = &unsafe { raw::handle(cipher, "cipher") }?.cipher;
        // SAFETY: the caller passes NULL with 0 or `envelope_len` readable bytes.
        let bytes = unsafe { raw::bytes(envelope, envelope_len, "envelope") }?;
        // SAFETY: the caller passes NULL or a live map.
        let context = unsafe { raw::opt_handle(context) }.map(mqseal_attributes::core);
        // SAFETY: the caller passes a writable pointer slot.
        let out = unsafe { raw::out(out, "out") }?;
        // SAFETY: the caller passes NULL or writable slots.
        let outs = unsafe { DecryptOuts::new(properties, info) };
        let decrypted = cipher.decrypt(bytes, context)?;
        out.write(raw::into_handle(mqseal_buffer::new(decrypted.body)));
        outs.write(decrypted.info);
        Ok(())
    })
}

/// Re-wraps the data key of `envelope` under the current primary version of every
/// configured key id, without touching the encrypted payload, and writes the new
/// envelope to `*out`; free it with `mqseal_buffer_free`. The result decrypts exactly as
/// the original did. Use it to move stored messages to a new key-encryption key version.
///
/// Errors: `MQSEAL_NULL_ARGUMENT`; `MQSEAL_INVALID_CONFIG` for a decrypt-only cipher;
/// envelope errors; `MQSEAL_KEY_COMMITMENT_MISMATCH`; `MQSEAL_KEY_NOT_FOUND` and provider
/// errors.
///
/// # Safety
///
/// `cipher` must be a live cipher; `envelope` NULL with 0 or `envelope_len` readable
/// bytes; `out` a writable `mqseal_buffer *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_rewrap(
    cipher: *const mqseal_cipher,
    envelope: *const u8,
    envelope_len: usize,
    out: *mut *mut mqseal_buffer,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a live cipher.
        let cipher = &unsafe { raw::handle(cipher, "cipher") }?.cipher;
        // SAFETY: the caller passes NULL with 0 or `envelope_len` readable bytes.
        let bytes = unsafe { raw::bytes(envelope, envelope_len, "envelope") }?;
        // SAFETY: the caller passes a writable pointer slot.
        let out = unsafe { raw::out(out, "out") }?;
        let rewrapped = cipher.rewrap(bytes)?;
        out.write(raw::into_handle(mqseal_buffer::new(rewrapped)));
        Ok(())
    })
}

/// Drops the producer's data key, so the next message gets a new data key wrapped under
/// the current primary key version. Cached consumer keys are kept.
///
/// # Safety
///
/// `cipher` must be a live cipher.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_rotate(cipher: *const mqseal_cipher) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a live cipher.
        unsafe { raw::handle(cipher, "cipher") }?.cipher.rotate();
        Ok(())
    })
}

/// Drops every cached data key, producer and consumer.
///
/// # Safety
///
/// `cipher` must be a live cipher.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_clear_caches(cipher: *const mqseal_cipher) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a live cipher.
        unsafe { raw::handle(cipher, "cipher") }?
            .cipher
            .clear_caches();
        Ok(())
    })
}

/// Writes a snapshot of the cipher's counters to `*out`.
///
/// # Safety
///
/// `cipher` must be a live cipher; `out` a writable `mqseal_counters`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mqseal_cipher_counters(
    cipher: *const mqseal_cipher,
    out: *mut mqseal_counters,
) -> i32 {
    boundary::status(|| {
        // SAFETY: the caller passes a live cipher.
        let cipher = &unsafe { raw::handle(cipher, "cipher") }?.cipher;
        // SAFETY: the caller passes a writable counters struct.
        let out = unsafe { raw::out(out, "out") }?;
        let s = cipher.counters();
        out.write(mqseal_counters {
            encrypted: s.encrypted,
            decrypted: s.decrypted,
            decrypt_failures: s.decrypt_failures,
            cache_hits: s.cache_hits,
            cache_misses: s.cache_misses,
            provider_calls: s.provider_calls,
            provider_failures: s.provider_failures,
            data_keys_created: s.data_keys_created,
            cached_keys: u64::try_from(cipher.cached_keys()).unwrap_or(u64::MAX),
            provider_attempts: s.provider_attempts,
            provider_retries: s.provider_retries,
            provider_transient_failures: s.provider_transient_failures,
            provider_permanent_failures: s.provider_permanent_failures,
            provider_latency_us_total: s.provider_latency_us_total,
            provider_latency_us_max: s.provider_latency_us_max,
            breaker_opens: s.breaker_opens,
            breaker_rejections: s.breaker_rejections,
            negative_cache_hits: s.negative_cache_hits,
            rotations: s.rotations,
        });
        Ok(())
    })
}
