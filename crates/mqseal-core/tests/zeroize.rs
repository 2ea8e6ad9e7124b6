//! Key material is wiped before its memory is freed.
//!
//! This test binary installs a global allocator that scans every block it frees for
//! sentinel key patterns. The old block of every reallocation is scanned too, so copies
//! left behind by `Vec` growth count. The patterns are the keyring's key-encryption key
//! in raw and hex form, the data keys, and the keys derived from them. Keys reach mqseal
//! only through a keyring file and a key provider, as in production. A pattern found in
//! a freed block fails the test.
//!
//! Memory that aws-lc allocates itself (its AEAD key schedules, behind the `aws-lc`
//! backend) does not pass through the Rust allocator; aws-lc cleanses every block it
//! frees (`OPENSSL_free`). With the `rustcrypto` backend the key schedules are Rust
//! allocations and are scanned here. Stack copies are not scanned.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use hkdf::Hkdf;
use mqseal_core::provider::KeyringFile;
use mqseal_core::{
    Backend, CallbackProvider, Cipher, CipherConfig, DataKey, EncryptOptions, KeyProvider,
    LocalKeyring, Properties, Suite, UsageLimits, WrappedKey,
};
use sha2::Sha256;
use zeroize::Zeroizing;

use common::topic;

/// Sentinel key material, drawn at random once per run so that no copy of it exists
/// anywhere (not even in this binary) except where the test or mqseal put one.
struct Sentinels {
    /// The KEK of the keyring file.
    kek: [u8; 32],
    /// The data keys that the generate callback returns.
    deks: [[u8; 32]; 2],
}

fn sentinels() -> &'static Sentinels {
    static SENTINELS: OnceLock<Sentinels> = OnceLock::new();
    SENTINELS.get_or_init(|| {
        let mut s = Sentinels {
            kek: [0; 32],
            deks: [[0; 32]; 2],
        };
        getrandom::fill(&mut s.kek).expect("random");
        for dek in &mut s.deks {
            getrandom::fill(dek).expect("random");
        }
        s
    })
}

const KEY_ID: &str = "zeroize-kek";

/// Width of the windows searched for: half a key, so partial copies count too.
const WINDOW: usize = 16;
const MAX_PATTERNS: usize = 24;

struct Scanning;

static ARMED: AtomicBool = AtomicBool::new(false);
static PATTERN_COUNT: AtomicUsize = AtomicUsize::new(0);
static PATTERNS: [[AtomicU8; WINDOW]; MAX_PATTERNS] =
    [const { [const { AtomicU8::new(0) }; WINDOW] }; MAX_PATTERNS];
static FOUND: AtomicUsize = AtomicUsize::new(0);
/// Pattern index + 1 and block size of the first finding, 0 when none.
static FIRST_PATTERN: AtomicUsize = AtomicUsize::new(0);
static FIRST_SIZE: AtomicUsize = AtomicUsize::new(0);

fn scan(block: &[u8]) {
    let count = PATTERN_COUNT.load(Ordering::Acquire);
    if block.len() < WINDOW {
        return;
    }
    for (index, pattern) in PATTERNS.iter().enumerate().take(count) {
        let first = pattern[0].load(Ordering::Relaxed);
        let hit = (0..=block.len() - WINDOW).any(|start| {
            block[start] == first
                && pattern
                    .iter()
                    .zip(&block[start..start + WINDOW])
                    .all(|(p, b)| p.load(Ordering::Relaxed) == *b)
        });
        if hit {
            if FOUND.fetch_add(1, Ordering::SeqCst) == 0 {
                FIRST_PATTERN.store(index + 1, Ordering::SeqCst);
                FIRST_SIZE.store(block.len(), Ordering::SeqCst);
            }
            return;
        }
    }
}

// SAFETY: every call is forwarded to the system allocator with the same arguments; the
// scan only reads the block being freed, which is still allocated at that point.
unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::Acquire) {
            // SAFETY: `ptr` is a live block of `layout.size()` bytes until the call below.
            scan(unsafe { std::slice::from_raw_parts(ptr, layout.size()) });
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    // `realloc` is not overridden: the default allocates, copies and calls `dealloc` on
    // the old block, so the copy a growing `Vec` leaves behind is scanned too.
}

#[global_allocator]
static ALLOCATOR: Scanning = Scanning;

/// Serializes the tests of this binary, which share the detector.
static SERIAL: Mutex<()> = Mutex::new(());

/// The detector armed with the sentinel patterns for one test.
struct Armed {
    names: Vec<String>,
    _serial: MutexGuard<'static, ()>,
}

impl Armed {
    fn new() -> Armed {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let mut names = Vec::new();
        // Sized up front: a growing Vec would leave copies of the patterns in freed
        // memory, which a later allocation could carry into a scanned block.
        let mut patterns: Vec<Zeroizing<[u8; WINDOW]>> = Vec::with_capacity(MAX_PATTERNS);
        let mut add = |name: String, key: &[u8]| {
            for (half, chunk) in key.chunks(WINDOW).enumerate() {
                let mut window = Zeroizing::new([0u8; WINDOW]);
                window.copy_from_slice(chunk);
                patterns.push(window);
                names.push(format!("{name}, half {}", half + 1));
            }
        };
        add("keyring KEK".into(), &sentinels().kek);
        let hex = hex_of(&sentinels().kek);
        add("keyring KEK in hex".into(), hex.as_bytes());
        for (i, dek) in sentinels().deks.iter().enumerate() {
            add(format!("data key {i}"), dek);
            for suite in [Suite::Aes256Gcm, Suite::ChaCha20Poly1305] {
                let derived = derived_key(dek, suite);
                add(
                    format!("{} key derived from data key {i}", suite.name()),
                    &*derived,
                );
            }
        }
        assert!(patterns.len() <= MAX_PATTERNS);
        ARMED.store(false, Ordering::SeqCst);
        for (slot, pattern) in PATTERNS.iter().zip(&patterns) {
            for (cell, byte) in slot.iter().zip(pattern.iter()) {
                cell.store(*byte, Ordering::Relaxed);
            }
        }
        PATTERN_COUNT.store(patterns.len(), Ordering::Release);
        drop(patterns);
        FOUND.store(0, Ordering::SeqCst);
        FIRST_PATTERN.store(0, Ordering::SeqCst);
        ARMED.store(true, Ordering::SeqCst);
        Armed {
            names,
            _serial: serial,
        }
    }

    /// Fails when a freed block held a pattern since the last check.
    fn check(&self, what: &str) {
        let found = FOUND.swap(0, Ordering::SeqCst);
        let first = FIRST_PATTERN.swap(0, Ordering::SeqCst);
        assert_eq!(
            found,
            0,
            "{what}: {found} freed blocks held key material; the first held the {} (block of {} bytes)",
            first
                .checked_sub(1)
                .and_then(|i| self.names.get(i))
                .map_or("?", |s| s.as_str()),
            FIRST_SIZE.load(Ordering::SeqCst)
        );
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        ARMED.store(false, Ordering::SeqCst);
    }
}

/// The AEAD key mqseal derives from `dek` (docs/FORMAT.md), computed here independently.
fn derived_key(dek: &[u8; 32], suite: Suite) -> Zeroizing<[u8; 32]> {
    let hk = Hkdf::<Sha256>::new(Some(b"mqseal-v1"), dek);
    let mut out = Zeroizing::new([0u8; 32]);
    hk.expand_multi_info(&[b"mqseal-v1 encryption key", &[suite.id()]], out.as_mut())
        .expect("32 bytes is a valid HKDF length");
    out
}

/// Lowercase hex of `key`, written into a string of its final size (no reallocation).
fn hex_of(key: &[u8; 32]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(64));
    for b in key {
        for digit in [b >> 4, b & 0x0f] {
            out.push(char::from(b"0123456789abcdef"[usize::from(digit)]));
        }
    }
    out
}

fn sentinel_keyring_text() -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::with_capacity(128));
    text.push_str("mqseal-keyring 1\nkey ");
    text.push_str(KEY_ID);
    text.push_str(" 1 ");
    let hex = hex_of(&sentinels().kek);
    text.push_str(&hex);
    text.push_str("\nprimary ");
    text.push_str(KEY_ID);
    text.push_str(" 1\n");
    text
}

/// A test directory, removed when dropped, also when the test fails.
struct TestDir(std::path::PathBuf);

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A keyring file holding the sentinel KEK, mode 0600, in a fresh directory.
fn sentinel_keyring_file() -> (TestDir, std::path::PathBuf) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = std::env::temp_dir().join(format!(
        "mqseal-zeroize-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test directory");
    let path = dir.join("keyring");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .expect("create the keyring file");
    file.write_all(sentinel_keyring_text().as_bytes())
        .expect("write the keyring file");
    (TestDir(dir), path)
}

fn backends() -> Vec<Backend> {
    Backend::AVAILABLE.to_vec()
}

fn roundtrips(cipher: &Cipher, count: usize) {
    let props = Properties::from_pairs([("p", "v")]).expect("props");
    for i in 0..count {
        let body = vec![b'x'; 100 + i * 300];
        let env = cipher
            .encrypt(
                &body,
                &EncryptOptions {
                    context: Some(&topic("t")),
                    properties: i.is_multiple_of(2).then_some(&props),
                },
            )
            .expect("encrypt");
        assert_eq!(
            cipher
                .decrypt(&env, Some(&topic("t")))
                .expect("decrypt")
                .body,
            body
        );
    }
}

#[test]
fn the_detector_finds_freed_and_reallocated_copies() {
    let armed = Armed::new();
    let leaked = sentinels().deks[0].to_vec();
    drop(leaked);
    assert_eq!(FOUND.swap(0, Ordering::SeqCst), 1, "a freed copy is found");

    let mut growing = Zeroizing::new(Vec::with_capacity(32));
    growing.extend_from_slice(&sentinels().kek);
    growing.extend_from_slice(&[0u8; 4096]);
    drop(growing);
    assert_eq!(
        FOUND.swap(0, Ordering::SeqCst),
        1,
        "the block a growing Vec left behind is found, the zeroized final block is not"
    );
    armed.check("after the self-test");
}

#[test]
fn data_keys_and_wrapped_keys_are_wiped() {
    let armed = Armed::new();
    let key = Box::new(DataKey::from_slice(&sentinels().deks[0]).expect("32 bytes"));
    let copy = key.clone();
    drop(key);
    drop(copy);
    let keys: Vec<DataKey> = sentinels()
        .deks
        .iter()
        .map(|k| DataKey::from_slice(k).expect("32 bytes"))
        .collect();
    drop(keys);
    armed.check("DataKey on the heap");

    let ring = LocalKeyring::from_file(
        KeyringFile::parse(&sentinel_keyring_text()).expect("keyring parses"),
    );
    let dek = DataKey::from_slice(&sentinels().deks[1]).expect("32 bytes");
    let wrapped: WrappedKey = ring.wrap(KEY_ID, &dek).expect("wrap");
    let unwrapped = ring.unwrap(&wrapped).expect("unwrap");
    assert_eq!(unwrapped.as_bytes(), &sentinels().deks[1]);
    drop((unwrapped, wrapped, dek, ring));
    armed.check("keyring wrap and unwrap");
}

#[test]
fn keyring_files_leave_no_kek_behind() {
    let armed = Armed::new();
    let (dir, path) = sentinel_keyring_file();
    armed.check("writing the test keyring");
    for backend in backends() {
        let ring = LocalKeyring::open(&path).expect("open");
        ring.reload().expect("reload");
        let config = CipherConfig {
            backend,
            key_ids: vec![KEY_ID.to_owned()],
            ..CipherConfig::default()
        };
        let provider: Arc<dyn KeyProvider> = Arc::new(ring);
        let cipher = Cipher::new(config, vec![provider]).expect("cipher");
        roundtrips(&cipher, 4);
        cipher.clear_caches();
        roundtrips(&cipher, 2);
        drop(cipher);
        armed.check(&format!("keyring file, {} backend", backend.name()));
    }
    // Rotation rewrites the file from the parsed keyring, with the KEK in hex.
    LocalKeyring::rotate_in_file(&path, KEY_ID).expect("rotate");
    LocalKeyring::generate_in_file(&path, "another-kek").expect("generate");
    let parsed = KeyringFile::parse(
        &std::fs::read_to_string(&path)
            .map(Zeroizing::new)
            .expect("read"),
    )
    .expect("parse");
    assert_eq!(parsed.list().len(), 2);
    drop(parsed);
    armed.check("keyring rotate and generate");
    drop(dir);
}

/// A provider whose generate callback returns the sentinel data keys in turn, wrapped by
/// the sentinel keyring.
fn sentinel_provider() -> Arc<dyn KeyProvider> {
    Arc::new(sentinel_callback_provider())
}

fn sentinel_callback_provider() -> CallbackProvider {
    let ring = Arc::new(LocalKeyring::from_file(
        KeyringFile::parse(&sentinel_keyring_text()).expect("keyring parses"),
    ));
    let (wrap_ring, unwrap_ring, generate_ring) = (ring.clone(), ring.clone(), ring);
    let turn = AtomicUsize::new(0);
    CallbackProvider::new(
        "sentinel",
        Some(vec![KEY_ID.to_owned()]),
        Box::new(move |id, dek| {
            let dek = DataKey::from_slice(dek)?;
            let w = wrap_ring.wrap(id, &dek)?;
            Ok((w.key_version, w.ciphertext))
        }),
        Box::new(move |id, version, bytes| {
            unwrap_ring.unwrap(&WrappedKey {
                key_id: id.to_owned(),
                key_version: version,
                ciphertext: bytes.to_vec(),
            })
        }),
    )
    .with_generate(Box::new(move |id| {
        let i = turn.fetch_add(1, Ordering::Relaxed) % sentinels().deks.len();
        let dek = DataKey::from_slice(&sentinels().deks[i])?;
        let w = generate_ring.wrap(id, &dek)?;
        Ok((w.key_version, dek, w.ciphertext))
    }))
}

#[test]
fn producer_keys_and_consumer_cache_are_wiped_on_rotation_eviction_and_clear() {
    let armed = Armed::new();
    let setups = backends().into_iter().flat_map(|backend| {
        [
            (backend, Suite::Aes256Gcm),
            (backend, Suite::ChaCha20Poly1305),
        ]
    });
    for (backend, suite) in setups {
        let label = format!("{} backend, {}", backend.name(), suite.name());
        let producer = Cipher::new(
            CipherConfig {
                backend,
                suite,
                key_ids: vec![KEY_ID.to_owned()],
                limits: UsageLimits {
                    max_messages: 2,
                    ..UsageLimits::default()
                },
                cache_capacity: 1,
                ..CipherConfig::default()
            },
            vec![sentinel_provider()],
        )
        .expect("producer");
        let consumer = Cipher::new(
            CipherConfig {
                backend,
                cache_capacity: 1,
                cache_ttl: Duration::from_secs(60),
                ..CipherConfig::default()
            },
            vec![sentinel_provider()],
        )
        .expect("consumer");
        // Two messages per data key, alternating between the two sentinel data keys; the
        // one-entry consumer cache evicts on every new data key.
        let mut envelopes = Vec::new();
        for i in 0..8 {
            let body = vec![b'a' + i as u8; 1000];
            let env = producer
                .encrypt(&body, &EncryptOptions::default())
                .expect("encrypt");
            assert_eq!(consumer.decrypt(&env, None).expect("decrypt").body, body);
            envelopes.push(env);
        }
        // Decrypting old envelopes again reloads and evicts keys.
        for env in envelopes.iter().rev() {
            consumer.decrypt(env, None).expect("decrypt again");
        }
        armed.check(&format!("rotation and eviction, {label}"));
        let rewrapped = producer.rewrap(&envelopes[0]).expect("rewrap");
        consumer
            .decrypt(&rewrapped, None)
            .expect("decrypt rewrapped");
        armed.check(&format!("rewrap, {label}"));
        consumer.clear_caches();
        producer.clear_caches();
        armed.check(&format!("clear_caches, {label}"));
        drop((producer, consumer));
        armed.check(&format!("dropping the ciphers, {label}"));
    }
}

/// Standard base64 of `bytes`, with padding.
fn base64_of(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Fails when `text` holds `secret` (or its first half) raw, in hex of either case, in
/// base64, or as a Rust byte-array `Debug` list.
fn assert_hides(text: &str, secret: &[u8], what: &str) {
    let half = &secret[..secret.len() / 2];
    let lossy = String::from_utf8_lossy(half);
    let hex = hex::encode(half);
    let decimal = format!("{:?}", &half[..8]);
    let decimal = decimal.trim_end_matches(']');
    let forms = [
        lossy.to_string(),
        hex.clone(),
        hex.to_uppercase(),
        base64_of(&secret[..15]),
        decimal.to_owned(),
    ];
    for form in forms {
        assert!(
            !text.contains(&form),
            "{what} shows key or body bytes: {text}"
        );
    }
}

#[test]
fn debug_output_hides_keys_and_bodies() {
    // The base64 encoder matches RFC 4648's test vector, so the check above is real.
    assert_eq!(base64_of(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64_of(b"fo"), "Zm8=");

    // Not armed: the strings built here hold key bytes on purpose. The lock keeps them
    // from being freed while another test's detector is armed.
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let s = sentinels();
    let body = b"mqseal sentinel body: this plaintext must never appear in Debug output";
    let (dir, path) = sentinel_keyring_file();
    let ring = LocalKeyring::open(&path).expect("open");
    let file = KeyringFile::parse(&sentinel_keyring_text()).expect("parse");
    let dek = DataKey::from_slice(&s.deks[0]).expect("32 bytes");
    let wrapped = ring.wrap(KEY_ID, &dek).expect("wrap");
    let provider = sentinel_callback_provider();
    let shown_provider = format!("{provider:?}");
    let cipher = Cipher::new(
        CipherConfig {
            key_ids: vec![KEY_ID.to_owned()],
            ..CipherConfig::default()
        },
        vec![Arc::new(provider)],
    )
    .expect("cipher");
    let props = Properties::from_pairs([("secret", "sealed property value")]).expect("props");
    let env = cipher
        .encrypt(
            body,
            &EncryptOptions {
                context: None,
                properties: Some(&props),
            },
        )
        .expect("encrypt");
    let decrypted = cipher.decrypt(&env, None).expect("decrypt");
    let settings = mqseal_core::config::Settings::parse(&format!(
        "keyring.path = {}\nkey_id = {KEY_ID}\n",
        path.display()
    ))
    .expect("settings");
    let mut tampered = env.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let error = cipher.decrypt(&tampered, None).expect_err("tampered");
    let mut bad_keyring = Zeroizing::new(String::with_capacity(256));
    bad_keyring.push_str("mqseal-keyring 1\nkey k ");
    bad_keyring.push_str(&hex_of(&s.kek));
    bad_keyring.push(' ');
    bad_keyring.push_str(&hex_of(&s.kek));
    bad_keyring.push('\n');
    let parse_error = KeyringFile::parse(&bad_keyring).expect_err("key in the version column");

    let shown = [
        ("DataKey", format!("{dek:?}")),
        ("WrappedKey", format!("{wrapped:?}")),
        ("KeyringFile", format!("{file:?}")),
        ("LocalKeyring", format!("{ring:?}")),
        ("CallbackProvider", shown_provider),
        ("Cipher", format!("{cipher:?}")),
        ("CipherConfig", format!("{:?}", cipher.config())),
        ("Settings", format!("{settings:?}")),
        ("Decrypted", format!("{decrypted:?}")),
        ("Error", format!("{error:?} {error}")),
        (
            "keyring parse Error",
            format!("{parse_error:?} {parse_error}"),
        ),
    ];
    for (what, text) in &shown {
        assert_hides(text, &s.kek, what);
        for dek in &s.deks {
            assert_hides(text, dek, what);
            assert_hides(text, &*derived_key(dek, Suite::Aes256Gcm), what);
        }
        assert_hides(text, body, what);
    }
    // `Debug` shows the body by length and sealed properties by key only.
    assert!(shown[8].1.contains("body_len"));
    assert!(shown[8].1.contains("secret"));
    for (what, text) in &shown {
        assert!(
            !text.contains("sealed property value"),
            "{what} shows a property value"
        );
    }
    drop(dir);
}
