//! Drives the C ABI of `mqseal-ffi` (the contract in `include/mqseal.h`) with operations,
//! lengths, NULL pointers, flags and buffer capacities taken from the input. Each call must
//! return a known status code other than `MQSEAL_PANIC` and `MQSEAL_INTERNAL`, and a crash
//! or sanitizer report fails the run.
//!
//! The harness passes only valid pointers or NULL. A non-NULL pointer points to at least
//! as many bytes as the length or capacity passed with it, because a dangling pointer
//! would break the contract on the caller's side and prove nothing about mqseal.
//! NULL pointers come with arbitrary lengths.
#![no_main]

use std::cell::Cell;
use std::ffi::{CStr, CString, c_char, c_void};
use std::io::Write;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::ptr;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mqseal::attributes::*;
use mqseal::buffer::*;
use mqseal::cipher::*;
use mqseal::envelope::*;
use mqseal::error::*;
use mqseal::provider::*;

/// The published test-vector keyring of `tests/vectors/v1.json` (never a real key).
const VECTORS: &str = include_str!("../../tests/vectors/v1.json");

/// Length of a data key, as every callback receives it.
const DEK_LEN: usize = 32;

/// Status codes that `include/mqseal.h` defines, without `MQSEAL_PANIC`.
const KNOWN_STATUS: &[i32] = &[
    MQSEAL_OK,
    MQSEAL_INVALID_ARGUMENT,
    MQSEAL_NULL_ARGUMENT,
    MQSEAL_BUFFER_TOO_SMALL,
    MQSEAL_INVALID_CONFIG,
    MQSEAL_HANDLE_CLOSED,
    MQSEAL_MALFORMED_ENVELOPE,
    MQSEAL_TRUNCATED_ENVELOPE,
    MQSEAL_NOT_ENCRYPTED,
    MQSEAL_UNSUPPORTED_VERSION,
    MQSEAL_UNSUPPORTED_SUITE,
    MQSEAL_UNSUPPORTED_FEATURE,
    MQSEAL_AUTHENTICATION_FAILED,
    MQSEAL_KEY_COMMITMENT_MISMATCH,
    MQSEAL_KEY_NOT_FOUND,
    MQSEAL_KEY_VERSION_NOT_FOUND,
    MQSEAL_PROVIDER_UNAVAILABLE,
    MQSEAL_PROVIDER_THROTTLED,
    MQSEAL_PROVIDER_TIMEOUT,
    MQSEAL_PROVIDER_DENIED,
    MQSEAL_KEY_DISABLED,
    MQSEAL_PROVIDER_INVALID_RESPONSE,
    MQSEAL_USAGE_LIMIT_EXCEEDED,
    MQSEAL_INTERNAL,
];

/// Checks a returned status: known, not a caught panic, and recorded as the last error
/// when it is a failure.
fn check(function: &str, status: i32) -> i32 {
    assert_ne!(
        status,
        MQSEAL_PANIC,
        "{function} caught a panic: {}",
        last_message()
    );
    assert_ne!(
        status,
        MQSEAL_INTERNAL,
        "{function} failed an invariant: {}",
        last_message()
    );
    assert!(
        KNOWN_STATUS.contains(&status),
        "{function} returned unknown status {status}"
    );
    if status != MQSEAL_OK {
        assert_eq!(
            mqseal_last_error_code(),
            status,
            "{function}: last error code differs"
        );
    }
    status
}

fn last_message() -> String {
    let mut buf = [0u8; 1024];
    let mut len = 0usize;
    // SAFETY: `buf` has `buf.len()` writable bytes and `len` is a writable local.
    unsafe { mqseal_last_error_message(buf.as_mut_ptr().cast(), buf.len(), &mut len) };
    CStr::from_bytes_until_nul(&buf)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A reader over the fuzz input; reads past the end return zeros.
struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn u8(&mut self) -> u8 {
        let Some((&first, rest)) = self.data.split_first() else {
            return 0;
        };
        self.data = rest;
        first
    }

    fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        head
    }

    /// Reads a byte string whose length is the next byte (the next two when that byte is 0xFF).
    fn blob(&mut self) -> &'a [u8] {
        let n = match self.u8() {
            0xFF => usize::from(u16::from_le_bytes([self.u8(), self.u8()])),
            n => usize::from(n),
        };
        self.bytes(n)
    }

    /// Reads a NUL-terminated string, possibly not UTF-8. An interior NUL byte ends it.
    fn c_string(&mut self) -> CString {
        let blob = self.blob();
        let end = blob.iter().position(|&b| b == 0).unwrap_or(blob.len());
        CString::new(&blob[..end]).expect("bytes before the first NUL contain no NUL")
    }

    /// Reads a length to pass with a NULL pointer: zero, small, near `usize::MAX` or arbitrary.
    fn length(&mut self) -> usize {
        match self.u8() % 4 {
            0 => 0,
            1 => usize::from(self.u8()),
            2 => usize::MAX - usize::from(self.u8()),
            _ => self.u64() as usize,
        }
    }
}

/// Returns a (pointer, length) pair for `bytes`: the bytes themselves, their first half,
/// or NULL with a length from the input.
fn byte_arg(input: &mut Input<'_>, bytes: &[u8]) -> (*const u8, usize) {
    match input.u8() % 4 {
        0 => (ptr::null(), input.length()),
        1 => (bytes.as_ptr(), bytes.len() / 2),
        _ => (bytes.as_ptr(), bytes.len()),
    }
}

/// Returns an output buffer and the capacity to pass with it: NULL with an arbitrary
/// capacity, or `storage` resized to the capacity (at most 1 MiB).
fn out_arg(input: &mut Input<'_>, storage: &mut Vec<u8>, hint: usize) -> (*mut u8, usize) {
    let capacity = match input.u8() % 5 {
        0 => return (ptr::null_mut(), input.length()),
        1 => 0,
        2 => hint.saturating_sub(1),
        3 => hint,
        _ => hint.saturating_add(usize::from(input.u8())),
    }
    .min(1 << 20);
    storage.clear();
    storage.resize(capacity, 0xA5);
    (storage.as_mut_ptr(), capacity)
}

/// Status and length overrides of the callback provider for the current input.
#[derive(Clone, Copy, Default)]
struct Script {
    wrap_status: i32,
    unwrap_status: i32,
    wrapped_len: Option<usize>,
    key_version: u32,
}

thread_local! {
    static SCRIPT: Cell<Script> = Cell::new(Script::default());
}

/// Wraps by XOR with 0x5A: reversible, so ciphers built on it can decrypt.
unsafe extern "C" fn wrap(
    _user_data: *mut c_void,
    key_id: *const c_char,
    dek: *const u8,
    dek_len: usize,
    key_version: *mut u32,
    wrapped: *mut u8,
    wrapped_cap: usize,
    wrapped_len: *mut usize,
) -> i32 {
    let script = SCRIPT.get();
    assert!(!key_id.is_null());
    assert!(!dek.is_null());
    assert!(!wrapped.is_null());
    assert_eq!(
        dek_len, DEK_LEN,
        "wrap receives a data key of the documented length"
    );
    assert!(wrapped_cap >= DEK_LEN);
    if script.wrap_status != 0 {
        return script.wrap_status;
    }
    // SAFETY: mqseal passes `dek_len` readable bytes at `dek` and `wrapped_cap` writable
    // bytes at `wrapped`; both lengths were checked above.
    unsafe {
        for i in 0..DEK_LEN {
            *wrapped.add(i) = *dek.add(i) ^ 0x5A;
        }
        *key_version = script.key_version;
        *wrapped_len = script.wrapped_len.unwrap_or(DEK_LEN);
    }
    MQSEAL_OK
}

unsafe extern "C" fn unwrap(
    _user_data: *mut c_void,
    key_id: *const c_char,
    _key_version: u32,
    wrapped: *const u8,
    wrapped_len: usize,
    dek: *mut u8,
    dek_len: usize,
) -> i32 {
    let script = SCRIPT.get();
    assert!(!key_id.is_null());
    assert!(!wrapped.is_null());
    assert!(!dek.is_null());
    assert_eq!(
        dek_len, DEK_LEN,
        "unwrap receives a data-key buffer of the documented length"
    );
    if script.unwrap_status != 0 {
        return script.unwrap_status;
    }
    if wrapped_len < DEK_LEN {
        return MQSEAL_AUTHENTICATION_FAILED;
    }
    // SAFETY: mqseal passes `wrapped_len` readable bytes at `wrapped` and `dek_len`
    // writable bytes at `dek`; both are at least `DEK_LEN`.
    unsafe {
        for i in 0..DEK_LEN {
            *dek.add(i) = *wrapped.add(i) ^ 0x5A;
        }
    }
    MQSEAL_OK
}

/// The keyring of the test vectors, written once per process to a private temporary file.
/// NOTE: the file and its directory are left behind in the temporary directory.
static KEYRING_PATH: LazyLock<CString> = LazyLock::new(|| {
    let vectors: serde_json::Value =
        serde_json::from_str(VECTORS).expect("tests/vectors/v1.json is valid JSON");
    let keyring = vectors["keyring"]
        .as_str()
        .expect("tests/vectors/v1.json has a string field \"keyring\"");
    let dir = std::env::temp_dir().join(format!("mqseal-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the temporary keyring directory");
    let path = dir.join("keyring");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .expect("create the temporary keyring file");
    file.write_all(keyring.as_bytes())
        .expect("write the temporary keyring file");
    CString::new(path.into_os_string().into_encoded_bytes()).expect("a temp path has no NUL")
});

/// Handles created while running one input; everything is freed at the end.
struct State {
    ciphers: Vec<*mut mqseal_cipher>,
    attributes: Vec<*mut mqseal_attributes>,
    buffers: Vec<*mut mqseal_buffer>,
    providers: Vec<*mut mqseal_callback_provider>,
}

impl State {
    fn cipher(&self, input: &mut Input<'_>) -> *const mqseal_cipher {
        pick(input, &self.ciphers).cast_const()
    }

    fn attributes(&self, input: &mut Input<'_>) -> *const mqseal_attributes {
        pick(input, &self.attributes).cast_const()
    }

    /// Bytes to decrypt: an envelope made earlier in this run or bytes from the input.
    fn envelope<'a>(&self, input: &mut Input<'a>) -> Vec<u8> {
        let buffer = pick(input, &self.buffers);
        if buffer.is_null() {
            return input.blob().to_vec();
        }
        // SAFETY: `buffer` is a live buffer handle of this run.
        let (data, len) = unsafe { (mqseal_buffer_data(buffer), mqseal_buffer_len(buffer)) };
        assert!(!data.is_null() || len == 0);
        // An empty buffer returns NULL data, which `from_raw_parts` does not accept.
        let mut bytes = if len == 0 {
            Vec::new()
        } else {
            // SAFETY: a live, non-empty buffer exposes `len` readable bytes at `data`.
            unsafe { std::slice::from_raw_parts(data, len) }.to_vec()
        };
        // Flip one input-chosen byte, or none.
        let index = usize::from(input.u8());
        if let Some(b) = bytes.get_mut(index) {
            *b ^= input.u8();
        }
        bytes
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // SAFETY: every pointer in these lists is a live handle made in this run, freed
        // exactly once here.
        unsafe {
            self.buffers.iter().for_each(|&b| mqseal_buffer_free(b));
            self.attributes
                .iter()
                .for_each(|&a| mqseal_attributes_free(a));
            self.ciphers.iter().for_each(|&c| mqseal_cipher_free(c));
            self.providers
                .iter()
                .for_each(|&p| mqseal_callback_provider_free(p));
        }
    }
}

/// Returns a handle from `handles`, or NULL when the input picks an index past the end.
fn pick<T>(input: &mut Input<'_>, handles: &[*mut T]) -> *mut T {
    let index = usize::from(input.u8() % 8);
    handles.get(index).copied().unwrap_or(ptr::null_mut())
}

fn zeroed<T>() -> T {
    // SAFETY: only used for the plain C structs of the header (integers, bools, char
    // arrays), for which all-zero bytes are a valid value.
    unsafe { MaybeUninit::<T>::zeroed().assume_init() }
}

fn new_cipher(input: &mut Input<'_>, state: &mut State) {
    let mut options: mqseal_cipher_options = zeroed();
    // SAFETY: `options` is a writable struct of the header's layout.
    check("mqseal_cipher_options_init", unsafe {
        mqseal_cipher_options_init(&mut options)
    });
    let key_ids = input.c_string();
    let backend = input.c_string();
    let flags = input.u8();
    if flags & 0x01 != 0 {
        options.keyring_path = KEYRING_PATH.as_ptr();
    }
    let provider = pick(input, &state.providers);
    options.provider = provider.cast_const();
    options.key_ids = match flags & 0x06 {
        0 => ptr::null(),
        2 => c"test-kek".as_ptr(),
        4 => c"fuzz-kek,test-kek".as_ptr(),
        _ => key_ids.as_ptr(),
    };
    if flags & 0x08 != 0 {
        options.backend = backend.as_ptr();
    }
    if flags & 0x10 != 0 {
        options.suite = input.u32() % 4;
        options.max_messages = input.u64() % 8;
        options.max_bytes = input.u64();
        options.max_age_seconds = input.u64() % 8;
        options.cache_capacity = usize::from(input.u8() % 4);
        options.cache_ttl_seconds = input.u64() % 8;
        options.compression_min_size = usize::from(input.u8());
        options.max_body_len = input.u32() as usize;
    }
    options.compression = flags & 0x20 != 0;
    options.store_context = flags & 0x40 != 0;
    if flags & 0x80 != 0 {
        options.struct_size = input.length();
    }
    let mut cipher = ptr::null_mut();
    let options_ptr: *const mqseal_cipher_options = if input.u8() == 0xFF {
        ptr::null()
    } else {
        &options
    };
    // SAFETY: `options_ptr` is NULL or points to an options struct whose strings live
    // until the end of this function; `cipher` is a writable local.
    let status = check("mqseal_cipher_new", unsafe {
        mqseal_cipher_new(options_ptr, &mut cipher)
    });
    if status == MQSEAL_OK {
        state.ciphers.push(cipher);
    } else {
        assert!(cipher.is_null(), "mqseal_cipher_new wrote *out on failure");
    }
}

fn new_cipher_from_config(input: &mut Input<'_>, state: &mut State) {
    let text = input.c_string();
    let config = match input.u8() % 4 {
        0 => None,
        1 => Some(text),
        _ => {
            // A valid configuration over the keyring file, with input-chosen extra lines.
            let mut lines = b"keyring.path = ".to_vec();
            lines.extend_from_slice(KEYRING_PATH.as_bytes());
            lines.extend_from_slice(b"\nkey_id = test-kek\n");
            lines.extend_from_slice(text.as_bytes());
            Some(CString::new(lines).expect("both parts contain no NUL"))
        }
    };
    let provider = pick(input, &state.providers);
    let mut cipher = ptr::null_mut();
    let config_ptr = config.as_ref().map_or(ptr::null(), |c| c.as_ptr());
    // SAFETY: `config_ptr` is NULL or a NUL-terminated string, `provider` NULL or live.
    let status = check("mqseal_cipher_new_from_config", unsafe {
        mqseal_cipher_new_from_config(config_ptr, provider, &mut cipher)
    });
    if status == MQSEAL_OK {
        state.ciphers.push(cipher);
    }
}

fn new_provider(input: &mut Input<'_>, state: &mut State) {
    let name = input.c_string();
    let key_ids = input.c_string();
    let flags = input.u8();
    let callbacks = mqseal_provider_callbacks {
        wrap: if flags & 1 != 0 { None } else { Some(wrap) },
        unwrap: if flags & 2 != 0 { None } else { Some(unwrap) },
        generate: None,
        destroy: None,
        user_data: ptr::null_mut(),
    };
    let name_ptr = if flags & 4 != 0 {
        ptr::null()
    } else {
        name.as_ptr()
    };
    let key_ids_ptr = if flags & 8 != 0 {
        ptr::null()
    } else {
        key_ids.as_ptr()
    };
    let callbacks_ptr: *const mqseal_provider_callbacks = if flags & 16 != 0 {
        ptr::null()
    } else {
        &callbacks
    };
    let mut provider = ptr::null_mut();
    // SAFETY: the strings are NULL or NUL-terminated, `callbacks_ptr` NULL or valid,
    // and `provider` is a writable local.
    let status = check("mqseal_callback_provider_new", unsafe {
        mqseal_callback_provider_new(name_ptr, key_ids_ptr, callbacks_ptr, &mut provider)
    });
    if status == MQSEAL_OK {
        state.providers.push(provider);
    }
}

fn attributes_ops(input: &mut Input<'_>, state: &mut State) {
    match input.u8() % 4 {
        0 => {
            let mut attrs = ptr::null_mut();
            // SAFETY: `attrs` is a writable local.
            check("mqseal_attributes_new", unsafe {
                mqseal_attributes_new(&mut attrs)
            });
            state.attributes.push(attrs);
        }
        1 => {
            let attrs = pick(input, &state.attributes);
            let key = input.c_string();
            let value = input.c_string();
            let flags = input.u8();
            let key_ptr = if flags & 1 != 0 {
                ptr::null()
            } else {
                key.as_ptr()
            };
            let value_ptr = if flags & 2 != 0 {
                ptr::null()
            } else {
                value.as_ptr()
            };
            // SAFETY: `attrs` is NULL or live and no other reference to it exists; the
            // strings are NULL or NUL-terminated.
            check("mqseal_attributes_set", unsafe {
                mqseal_attributes_set(attrs, key_ptr, value_ptr)
            });
        }
        2 => {
            let attrs = state.attributes(input);
            let key = input.c_string();
            let mut value: *const c_char = ptr::null();
            let mut value_len = 0usize;
            let len_ptr: *mut usize = if input.bool() {
                ptr::null_mut()
            } else {
                &mut value_len
            };
            // SAFETY: `attrs` is NULL or live, `key` NUL-terminated, out-params writable.
            check("mqseal_attributes_get", unsafe {
                mqseal_attributes_get(attrs, key.as_ptr(), &mut value, len_ptr)
            });
        }
        _ => {
            let attrs = state.attributes(input);
            let mut count = 0usize;
            // SAFETY: `attrs` is NULL or live; `count` is writable.
            check("mqseal_attributes_count", unsafe {
                mqseal_attributes_count(attrs, &mut count)
            });
            let index = input.length();
            let (mut key, mut value) = (ptr::null(), ptr::null());
            let (mut key_len, mut value_len) = (0usize, 0usize);
            // SAFETY: `attrs` is NULL or live; every out-param is a writable local.
            check("mqseal_attributes_entry", unsafe {
                mqseal_attributes_entry(
                    attrs,
                    index,
                    &mut key,
                    &mut key_len,
                    &mut value,
                    &mut value_len,
                )
            });
        }
    }
}

fn encrypt_ops(input: &mut Input<'_>, state: &mut State) {
    let cipher = state.cipher(input);
    let context = state.attributes(input);
    let properties = state.attributes(input);
    let body = input.blob();
    let (body_ptr, body_len) = byte_arg(input, body);
    match input.u8() % 3 {
        0 => {
            let mut len = 0usize;
            // SAFETY: handles are NULL or live; `len` is writable.
            check("mqseal_cipher_encrypted_len", unsafe {
                mqseal_cipher_encrypted_len(cipher, input.length(), context, properties, &mut len)
            });
        }
        1 => {
            let mut storage = Vec::new();
            let (out, cap) = out_arg(input, &mut storage, body.len() + 128);
            let mut out_len = 0usize;
            let out_len_ptr: *mut usize = if input.u8() == 0xFF {
                ptr::null_mut()
            } else {
                &mut out_len
            };
            // SAFETY: `body_ptr` is NULL or has `body_len` readable bytes, `out` is NULL
            // or has `cap` writable bytes, and they do not overlap.
            let status = check("mqseal_cipher_encrypt_into", unsafe {
                mqseal_cipher_encrypt_into(
                    cipher,
                    body_ptr,
                    body_len,
                    context,
                    properties,
                    out,
                    cap,
                    out_len_ptr,
                )
            });
            if status == MQSEAL_OK {
                assert!(out_len <= cap, "encrypt_into reports more bytes than fit");
            }
        }
        _ => {
            let mut buffer = ptr::null_mut();
            // SAFETY: `body_ptr` is NULL or has `body_len` readable bytes.
            let status = check("mqseal_cipher_encrypt", unsafe {
                mqseal_cipher_encrypt(cipher, body_ptr, body_len, context, properties, &mut buffer)
            });
            if status == MQSEAL_OK {
                state.buffers.push(buffer);
            }
        }
    }
}

fn decrypt_ops(input: &mut Input<'_>, state: &mut State) {
    let cipher = state.cipher(input);
    let context = state.attributes(input);
    let envelope = state.envelope(input);
    let (env_ptr, env_len) = byte_arg(input, &envelope);
    let flags = input.u8();
    let mut properties = ptr::null_mut();
    let properties_ptr: *mut *mut mqseal_attributes = if flags & 1 != 0 {
        ptr::null_mut()
    } else {
        &mut properties
    };
    let mut info: mqseal_decrypt_info = zeroed();
    let info_ptr: *mut mqseal_decrypt_info = if flags & 2 != 0 {
        ptr::null_mut()
    } else {
        &mut info
    };
    let status = match flags >> 2 & 3 {
        0 => {
            let mut len = 0usize;
            // SAFETY: `env_ptr` is NULL or has `env_len` readable bytes; `len` writable.
            check("mqseal_cipher_decrypted_len", unsafe {
                mqseal_cipher_decrypted_len(cipher, env_ptr, env_len, &mut len)
            })
        }
        1 => {
            let mut storage = Vec::new();
            let (out, cap) = out_arg(input, &mut storage, envelope.len());
            let mut out_len = 0usize;
            // SAFETY: `env_ptr` is NULL or has `env_len` readable bytes, `out` NULL or
            // `cap` writable bytes, not overlapping; out-params NULL or writable.
            let status = check("mqseal_cipher_decrypt_into", unsafe {
                mqseal_cipher_decrypt_into(
                    cipher,
                    env_ptr,
                    env_len,
                    context,
                    out,
                    cap,
                    &mut out_len,
                    properties_ptr,
                    info_ptr,
                )
            });
            if status == MQSEAL_OK {
                assert!(out_len <= cap, "decrypt_into reports more bytes than fit");
            }
            status
        }
        2 => {
            let mut buffer = ptr::null_mut();
            // SAFETY: as above; `buffer` is a writable local.
            let status = check("mqseal_cipher_decrypt", unsafe {
                mqseal_cipher_decrypt(
                    cipher,
                    env_ptr,
                    env_len,
                    context,
                    &mut buffer,
                    properties_ptr,
                    info_ptr,
                )
            });
            if status == MQSEAL_OK {
                state.buffers.push(buffer);
            }
            status
        }
        _ => {
            let mut buffer = ptr::null_mut();
            // SAFETY: `env_ptr` is NULL or has `env_len` readable bytes.
            let status = check("mqseal_cipher_rewrap", unsafe {
                mqseal_cipher_rewrap(cipher, env_ptr, env_len, &mut buffer)
            });
            if status == MQSEAL_OK {
                state.buffers.push(buffer);
            }
            status
        }
    };
    if status == MQSEAL_OK && !info_ptr.is_null() && flags >> 2 & 3 != 0 {
        assert!(info.key_id_len < MQSEAL_KEY_ID_CAP);
        assert_eq!(
            info.key_id[info.key_id_len], 0,
            "key_id is NUL-terminated at key_id_len"
        );
    }
    if !properties.is_null() {
        state.attributes.push(properties);
    }
}

fn inspect_ops(input: &mut Input<'_>, state: &mut State) {
    let envelope = state.envelope(input);
    let (env_ptr, env_len) = byte_arg(input, &envelope);
    let flags = input.u8();
    let mut info: mqseal_envelope_info = zeroed();
    let info_ptr: *mut mqseal_envelope_info = if flags & 1 != 0 {
        ptr::null_mut()
    } else {
        &mut info
    };
    let mut stored = ptr::null_mut();
    let stored_ptr: *mut *mut mqseal_attributes = if flags & 2 != 0 {
        ptr::null_mut()
    } else {
        &mut stored
    };
    // SAFETY: `env_ptr` is NULL or has `env_len` readable bytes; out-params NULL or writable.
    let status = check("mqseal_envelope_inspect", unsafe {
        mqseal_envelope_inspect(env_ptr, env_len, info_ptr, stored_ptr)
    });
    if status == MQSEAL_OK && !info_ptr.is_null() {
        assert!(info.key_count >= 1 && info.key_count <= MQSEAL_MAX_WRAPPED_KEYS);
    }
    if !stored.is_null() {
        state.attributes.push(stored);
    }
    let mut looks = false;
    let looks_ptr: *mut bool = if flags & 4 != 0 {
        ptr::null_mut()
    } else {
        &mut looks
    };
    // SAFETY: as above.
    check("mqseal_looks_encrypted", unsafe {
        mqseal_looks_encrypted(env_ptr, env_len, looks_ptr)
    });
}

/// Returns a path in the directory of the keyring file, for files this harness writes.
fn scratch_path(name: &str) -> CString {
    let dir = std::path::Path::new(std::ffi::OsStr::from_bytes(KEYRING_PATH.as_bytes()))
        .parent()
        .expect("the keyring file has a directory");
    CString::new(dir.join(name).into_os_string().into_encoded_bytes())
        .expect("a temp path has no NUL")
}

/// Drives the functions that take file paths: keyring generation and rotation on a fresh
/// file, and a cipher from a configuration file whose text comes from the input. Paths
/// are NULL or files in the harness's own temporary directory.
fn file_ops(input: &mut Input<'_>, state: &mut State) {
    let flags = input.u8();
    let name = input.c_string();
    if flags & 1 == 0 {
        let path = scratch_path("generated-keyring");
        let _ = std::fs::remove_file(std::path::Path::new(std::ffi::OsStr::from_bytes(
            path.as_bytes(),
        )));
        let path_ptr = if flags & 2 != 0 {
            ptr::null()
        } else {
            path.as_ptr()
        };
        let name_ptr = if flags & 4 != 0 {
            ptr::null()
        } else {
            name.as_ptr()
        };
        let mut version = 0u32;
        let version_ptr: *mut u32 = if flags & 8 != 0 {
            ptr::null_mut()
        } else {
            &mut version
        };
        // SAFETY: the strings are NULL or NUL-terminated; `version_ptr` NULL or writable.
        check("mqseal_keyring_generate", unsafe {
            mqseal_keyring_generate(path_ptr, name_ptr, version_ptr)
        });
        // SAFETY: as above.
        check("mqseal_keyring_rotate", unsafe {
            mqseal_keyring_rotate(path_ptr, name_ptr, version_ptr)
        });
    } else {
        let path = scratch_path("config");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(std::path::Path::new(std::ffi::OsStr::from_bytes(
                path.as_bytes(),
            )))
            .expect("create the configuration file");
        if flags & 2 != 0 {
            file.write_all(b"keyring.path = ")
                .and_then(|()| file.write_all(KEYRING_PATH.as_bytes()))
                .and_then(|()| file.write_all(b"\n"))
                .expect("write the configuration file");
        }
        file.write_all(name.as_bytes())
            .expect("write the configuration file");
        drop(file);
        let path_ptr = if flags & 4 != 0 {
            ptr::null()
        } else {
            path.as_ptr()
        };
        let provider = pick(input, &state.providers);
        let mut cipher = ptr::null_mut();
        // SAFETY: `path_ptr` is NULL or NUL-terminated, `provider` NULL or live.
        let status = check("mqseal_cipher_new_from_file", unsafe {
            mqseal_cipher_new_from_file(path_ptr, provider, &mut cipher)
        });
        if status == MQSEAL_OK {
            state.ciphers.push(cipher);
        }
    }
}

fn misc_ops(input: &mut Input<'_>, state: &mut State) {
    match input.u8() % 7 {
        6 => file_ops(input, state),
        0 => {
            let cipher = state.cipher(input);
            // SAFETY: `cipher` is NULL or live.
            check("mqseal_cipher_rotate", unsafe {
                mqseal_cipher_rotate(cipher)
            });
            // SAFETY: as above.
            check("mqseal_cipher_clear_caches", unsafe {
                mqseal_cipher_clear_caches(cipher)
            });
        }
        1 => {
            let cipher = state.cipher(input);
            let mut counters: mqseal_counters = zeroed();
            let out: *mut mqseal_counters = if input.bool() {
                ptr::null_mut()
            } else {
                &mut counters
            };
            // SAFETY: `cipher` is NULL or live; `out` NULL or writable.
            check("mqseal_cipher_counters", unsafe {
                mqseal_cipher_counters(cipher, out)
            });
        }
        2 => {
            let mut storage = Vec::new();
            let (buf, cap) = out_arg(input, &mut storage, 64);
            let mut len = 0usize;
            let len_ptr: *mut usize = if input.bool() {
                ptr::null_mut()
            } else {
                &mut len
            };
            // SAFETY: `buf` is NULL or has `cap` writable bytes; `len_ptr` NULL or writable.
            let status = unsafe { mqseal_last_error_message(buf.cast(), cap, len_ptr) };
            assert!(status == MQSEAL_OK || status == MQSEAL_NULL_ARGUMENT);
            if status == MQSEAL_OK && cap > 0 {
                assert!(
                    storage[..cap].contains(&0),
                    "the message is not NUL-terminated"
                );
            }
        }
        3 => {
            let status = input.u32() as i32;
            // SAFETY: these return static NUL-terminated strings.
            let name = unsafe { CStr::from_ptr(mqseal_error_name(status)) };
            assert!(!name.to_bytes().is_empty());
            let _ = mqseal_error_is_retryable(status);
            // SAFETY: as above.
            let _ = unsafe { CStr::from_ptr(mqseal_suite_name(input.u32())) };
        }
        4 => {
            let buffer = pick(input, &state.buffers);
            // SAFETY: `buffer` is NULL or live.
            unsafe {
                let data = mqseal_buffer_data(buffer);
                let len = mqseal_buffer_len(buffer);
                assert!(!data.is_null() || len == 0);
            }
        }
        _ => {
            SCRIPT.set(Script {
                wrap_status: i32::from(input.u8() as i8) * 7,
                // 900 passes through as MQSEAL_INTERNAL, which `check` treats as a bug.
                unwrap_status: match input.u32() as i32 {
                    MQSEAL_INTERNAL => 0,
                    status if input.bool() => status,
                    _ => 0,
                },
                wrapped_len: if input.bool() {
                    None
                } else {
                    Some(input.length())
                },
                key_version: input.u32(),
            });
        }
    }
}

fuzz_target!(|data: &[u8]| {
    SCRIPT.set(Script::default());
    let mut input = Input { data };
    let mut state = State {
        ciphers: Vec::new(),
        attributes: Vec::new(),
        buffers: Vec::new(),
        providers: Vec::new(),
    };
    let mut steps = 0;
    while !input.is_empty() && steps < 64 {
        steps += 1;
        match input.u8() % 8 {
            0 => new_cipher(&mut input, &mut state),
            1 => new_cipher_from_config(&mut input, &mut state),
            2 => new_provider(&mut input, &mut state),
            3 => attributes_ops(&mut input, &mut state),
            4 => encrypt_ops(&mut input, &mut state),
            5 | 6 => decrypt_ops(&mut input, &mut state),
            _ => inspect_ops(&mut input, &mut state),
        }
        if input.u8() & 0x0F == 0x0F {
            misc_ops(&mut input, &mut state);
        }
    }
});
