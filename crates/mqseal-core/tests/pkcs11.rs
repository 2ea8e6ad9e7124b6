//! The PKCS#11 provider against a real SoftHSM2 token store (tests/hsm/softhsm.sh).
//!
//! With the variables of `softhsm.sh env` set (as `make test-pkcs11` does), the tests
//! use that store; otherwise they create one of their own under cargo's target
//! directory. Each test uses KEK labels of its own, so the tests can share the token.
#![cfg(feature = "pkcs11")]

mod common;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard};
use std::thread;
use std::time::Duration;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use mqseal_core::config::{PinSource, Pkcs11Settings, Settings};
use mqseal_core::provider::{KeyringFile, Pkcs11Provider};
use mqseal_core::{
    Cipher, CipherConfig, DataKey, EncryptOptions, ErrorCode, KeyProvider, LocalKeyring,
    UsageLimits, WrappedKey,
};

/// The token store: paths and names from `softhsm.sh env`.
struct Hsm {
    module: PathBuf,
    token: String,
    pin_file: PathBuf,
    pin_token: String,
    pin_token_pin_file: PathBuf,
    scratch: PathBuf,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hsm() -> &'static Hsm {
    static HSM: OnceLock<Hsm> = OnceLock::new();
    HSM.get_or_init(|| {
        let script = repo_root().join("tests/hsm/softhsm.sh");
        let mut vars: HashMap<String, String> = HashMap::new();
        if std::env::var_os("SOFTHSM2_CONF").is_some()
            && std::env::var_os("MQSEAL_PKCS11_PIN_TOKEN").is_some()
        {
            for key in [
                "SOFTHSM2_CONF",
                "MQSEAL_PKCS11_MODULE",
                "MQSEAL_PKCS11_TOKEN",
                "MQSEAL_PKCS11_PIN",
                "MQSEAL_PKCS11_PIN_FILE",
                "MQSEAL_PKCS11_PIN_TOKEN",
                "MQSEAL_PKCS11_PIN_TOKEN_PIN_FILE",
            ] {
                let value = std::env::var(key)
                    .unwrap_or_else(|_| panic!("{key} is not set; run `softhsm.sh env`"));
                vars.insert(key.to_owned(), value);
            }
        } else {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("softhsm");
            let init = Command::new(&script)
                .arg("init")
                .env("MQSEAL_HSM_DIR", &dir)
                .status()
                .expect("run tests/hsm/softhsm.sh init");
            assert!(
                init.success(),
                "softhsm.sh init failed; is SoftHSM2 installed?"
            );
            let out = Command::new(&script)
                .arg("env")
                .env("MQSEAL_HSM_DIR", &dir)
                .output()
                .expect("run tests/hsm/softhsm.sh env");
            assert!(out.status.success(), "softhsm.sh env failed");
            for line in String::from_utf8(out.stdout).expect("UTF-8").lines() {
                let (key, value) = line
                    .strip_prefix("export ")
                    .and_then(|l| l.split_once('='))
                    .expect("export KEY='VALUE'");
                vars.insert(key.to_owned(), value.trim_matches('\'').to_owned());
            }
            // SAFETY: this runs once, inside the OnceLock, before any test loads the
            // module; SoftHSM2 reads SOFTHSM2_CONF when it initializes, and no other
            // thread of this test binary reads the environment through C meanwhile.
            unsafe {
                std::env::set_var("SOFTHSM2_CONF", &vars["SOFTHSM2_CONF"]);
                std::env::set_var("MQSEAL_PKCS11_PIN", &vars["MQSEAL_PKCS11_PIN"]);
            }
        }
        let scratch = PathBuf::from(&vars["SOFTHSM2_CONF"])
            .parent()
            .expect("state directory")
            .join(format!("scratch-{}", std::process::id()));
        fs::create_dir_all(&scratch).expect("scratch directory");
        Hsm {
            module: vars["MQSEAL_PKCS11_MODULE"].clone().into(),
            token: vars["MQSEAL_PKCS11_TOKEN"].clone(),
            pin_file: vars["MQSEAL_PKCS11_PIN_FILE"].clone().into(),
            pin_token: vars["MQSEAL_PKCS11_PIN_TOKEN"].clone(),
            pin_token_pin_file: vars["MQSEAL_PKCS11_PIN_TOKEN_PIN_FILE"].clone().into(),
            scratch,
        }
    })
}

/// Serializes the tests' own writes of token objects. SoftHSM2 2.6.1 sometimes fails
/// to store a token object with CKR_GENERAL_ERROR while other threads use the token;
/// the provider retries its own writes, these direct calls do not.
fn token_write() -> MutexGuard<'static, ()> {
    static TOKEN_WRITES: Mutex<()> = Mutex::new(());
    TOKEN_WRITES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Serializes the test that logs the whole process out against the others.
fn shared() -> RwLockReadGuard<'static, ()> {
    LOGIN_LOCK.read().unwrap_or_else(|e| e.into_inner())
}
static LOGIN_LOCK: RwLock<()> = RwLock::new(());

fn settings() -> Pkcs11Settings {
    let h = hsm();
    Pkcs11Settings {
        module: h.module.clone(),
        token_label: h.token.clone(),
        pin: PinSource::File(h.pin_file.clone()),
    }
}

fn provider() -> Arc<Pkcs11Provider> {
    Arc::new(Pkcs11Provider::open(&settings()).expect("open the test token"))
}

/// Creates version 1 of a KEK with a label unique to this process and `name`.
fn new_kek(p: &Pkcs11Provider, name: &str) -> String {
    let key_id = format!("pkcs11:{name}-{}", std::process::id());
    assert_eq!(p.generate_key(&key_id).expect("generate KEK"), 1);
    key_id
}

fn cipher(providers: Vec<Arc<dyn KeyProvider>>, key_ids: &[&str]) -> Cipher {
    let config = CipherConfig {
        key_ids: key_ids.iter().map(|s| (*s).to_owned()).collect(),
        cache_capacity: 0,
        ..CipherConfig::default()
    };
    Cipher::new(config, providers).expect("cipher")
}

fn encrypt(c: &Cipher, body: &[u8]) -> Vec<u8> {
    let ctx = common::topic("orders");
    c.encrypt(
        body,
        &EncryptOptions {
            context: Some(&ctx),
            ..EncryptOptions::default()
        },
    )
    .expect("encrypt")
}

fn decrypt(c: &Cipher, envelope: &[u8]) -> mqseal_core::Result<mqseal_core::Decrypted> {
    c.decrypt(envelope, Some(&common::topic("orders")))
}

/// Opens a logged-in session of the test's own on the token, for inspecting objects.
fn inspector(token: &str, pin_file: &Path) -> Session {
    let ctx = Pkcs11::new(&hsm().module).expect("load module");
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => panic!("C_Initialize: {e}"),
    }
    let slot = ctx
        .get_slots_with_initialized_token()
        .expect("slots")
        .into_iter()
        .find(|s| ctx.get_token_info(*s).expect("token info").label() == token)
        .expect("token present");
    let session = ctx.open_rw_session(slot).expect("session");
    let pin = fs::read_to_string(pin_file).expect("PIN file");
    match session.login(UserType::User, Some(&AuthPin::from(pin.trim()))) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
        Err(e) => panic!("C_Login: {e}"),
    }
    session
}

/// Returns the attributes of version 1 of a sensitive, non-extractable AES KEK, without
/// its value or length.
fn version_1_kek(label: &[u8]) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Wrap(true),
        Attribute::Unwrap(true),
        Attribute::Label(label.to_vec()),
        Attribute::Id(vec![0, 0, 0, 1]),
    ]
}

fn write_private(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let _ = fs::remove_file(path);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .expect("create file");
    std::io::Write::write_all(&mut f, text.as_bytes()).expect("write file");
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn round_trip_through_a_cipher_configured_by_text() {
    let _g = shared();
    let h = hsm();
    let key_id = new_kek(&provider(), "config");
    let text = format!(
        "provider = pkcs11\npkcs11.module = {}\npkcs11.token_label = {}\npkcs11.pin_file = {}\n\
         key_id = {key_id}\n",
        h.module.display(),
        h.token,
        h.pin_file.display()
    );
    let c = Settings::parse(&text)
        .expect("config parses")
        .build(None)
        .expect("cipher from config");
    let body = b"{\"order\":42,\"card\":\"4111-1111-1111-1111\"}";
    let envelope = encrypt(&c, body);
    assert!(
        !envelope.windows(body.len()).any(|w| w == body),
        "the envelope must not hold the plaintext"
    );
    // A second cipher from the same text, with its own provider and an empty cache.
    let consumer = Settings::parse(&text)
        .expect("config parses")
        .build(None)
        .expect("consumer cipher");
    let out = decrypt(&consumer, &envelope).expect("decrypt");
    assert_eq!(out.body, body);
    assert_eq!(out.info.key_id, key_id);
    assert_eq!(out.info.key_version, 1);

    // The PIN can come from an environment variable too: MQSEAL_PKCS11_PIN, which
    // `softhsm.sh env` exports and hsm() sets when it made the store itself.
    let env_text = text.replace(
        &format!("pkcs11.pin_file = {}", h.pin_file.display()),
        "pkcs11.pin_env = MQSEAL_PKCS11_PIN",
    );
    assert_ne!(env_text, text);
    let from_env = Settings::parse(&env_text)
        .expect("config parses")
        .build(None)
        .expect("cipher with the PIN from the environment");
    assert_eq!(decrypt(&from_env, &envelope).expect("decrypt").body, body);
    let unset = env_text.replace("MQSEAL_PKCS11_PIN", "MQSEAL_TEST_PIN_THAT_IS_NOT_SET");
    let e = Settings::parse(&unset)
        .expect("config parses")
        .build(None)
        .expect_err("unset PIN variable");
    assert_eq!(e.code(), ErrorCode::InvalidConfig);
    assert!(
        e.message().contains("MQSEAL_TEST_PIN_THAT_IS_NOT_SET"),
        "{}",
        e.message()
    );
}

#[test]
fn configuration_never_holds_a_pin() {
    let e = Settings::parse(
        "provider = pkcs11\npkcs11.module = /x.so\npkcs11.token_label = t\npkcs11.pin = 1234\n",
    )
    .expect_err("PIN in the text");
    assert_eq!(e.code(), ErrorCode::InvalidConfig);
    assert!(!e.message().contains("1234"), "{}", e.message());
    let e = Settings::parse("provider = pkcs11\npkcs11.module = /x.so\npkcs11.token_label = t\n")
        .expect_err("no PIN source");
    assert!(e.message().contains("pkcs11.pin_env"), "{}", e.message());
}

#[test]
fn kek_value_cannot_leave_the_token() {
    let _g = shared();
    let h = hsm();
    let key_id = new_kek(&provider(), "sealed");
    let label = key_id.trim_start_matches("pkcs11:");
    let s = inspector(&h.token, &h.pin_file);
    let objects = s
        .find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .expect("find the KEK");
    assert_eq!(objects.len(), 1);
    let kek = objects[0];
    // C_GetAttributeValue on CKA_VALUE returns CKR_ATTRIBUTE_SENSITIVE.
    let info = s
        .get_attribute_info(kek, &[AttributeType::Value])
        .expect("attribute info");
    assert!(
        matches!(info.as_slice(), [AttributeInfo::Sensitive]),
        "{info:?}"
    );
    let attrs = s
        .get_attributes(
            kek,
            &[
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::Token,
                AttributeType::Encrypt,
                AttributeType::Id,
            ],
        )
        .expect("attributes");
    for expected in [
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Token(true),
        Attribute::Encrypt(false),
        Attribute::Id(vec![0, 0, 0, 1]),
    ] {
        assert!(
            attrs.contains(&expected),
            "{expected:?} missing from {attrs:?}"
        );
    }
    // Nor can it be wrapped out under a key the caller has.
    let outer = s
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::ValueLen(32.into()),
                Attribute::Token(false),
                Attribute::Wrap(true),
            ],
        )
        .expect("session key");
    match s.wrap_key(&Mechanism::AesKeyWrap, outer, kek) {
        Err(CkError::Pkcs11(RvError::KeyUnextractable, _)) => {}
        other => panic!("wrapping the KEK out must fail with CKR_KEY_UNEXTRACTABLE: {other:?}"),
    }
}

#[test]
fn token_wraps_with_rfc3394_like_the_keyring() {
    let _g = shared();
    let h = hsm();
    let label = format!("kw-vector-{}", std::process::id());
    // Import the clearly named test-vector KEK of tests/common.rs as a sensitive,
    // non-extractable version 1.
    let s = inspector(&h.token, &h.pin_file);
    let w = token_write();
    let mut template = version_1_kek(label.as_bytes());
    template.push(Attribute::Value(common::test_kek().to_vec()));
    s.create_object(&template)
        .expect("import the test-vector KEK");
    drop(w);
    let p = provider();
    let key_id = format!("pkcs11:{label}");
    let dek = DataKey::from_slice(&common::test_dek()).expect("32 bytes");
    let wrapped = p.wrap(&key_id, &dek).expect("wrap");
    assert_eq!(wrapped.key_version, 1);
    assert_eq!(wrapped.ciphertext, common::wrapped_dek());
    let back = p.unwrap(&wrapped).expect("unwrap");
    assert_eq!(back.as_bytes(), &common::test_dek());
}

#[test]
fn rotation_adds_a_version_and_old_envelopes_still_decrypt() {
    let _g = shared();
    let p = provider();
    let key_id = new_kek(&p, "rotate");
    let c = cipher(vec![p.clone()], &[&key_id]);
    let old = encrypt(&c, b"before rotation");
    assert_eq!(p.primary_version(&key_id).expect("primary"), Some(1));
    // A producer that checks the primary version before every message.
    let checking = Cipher::new(
        CipherConfig {
            key_ids: vec![key_id.clone()],
            rotation_check: Duration::from_millis(1),
            ..CipherConfig::default()
        },
        vec![p.clone()],
    )
    .expect("cipher");
    encrypt(&checking, b"before rotation");

    // Another process (here: another provider) adds version 2.
    let operator = provider();
    assert_eq!(operator.rotate_key(&key_id).expect("rotate"), 2);
    assert_eq!(p.primary_version(&key_id).expect("primary"), Some(2));
    assert_eq!(p.versions(&key_id).expect("versions"), vec![1, 2]);
    let listed = p.list().expect("list");
    assert!(
        listed.contains(&(key_id.clone(), vec![1, 2], 2)),
        "{key_id} missing from {listed:?}"
    );
    c.rotate();
    let new = encrypt(&c, b"after rotation");
    thread::sleep(Duration::from_millis(20));
    let checked = encrypt(&checking, b"after rotation");
    assert_eq!(checking.counters().rotations, 1);

    let consumer = cipher(vec![provider()], &[]);
    let a = decrypt(&consumer, &old).expect("old envelope");
    assert_eq!(
        (a.body.as_slice(), a.info.key_version),
        (&b"before rotation"[..], 1)
    );
    let b = decrypt(&consumer, &new).expect("new envelope");
    assert_eq!(
        (b.body.as_slice(), b.info.key_version),
        (&b"after rotation"[..], 2)
    );
    let checked = decrypt(&consumer, &checked).expect("envelope after the check");
    assert_eq!(checked.info.key_version, 2);

    let e = p
        .generate_key(&key_id)
        .expect_err("keygen on an existing key");
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
}

#[test]
fn wrong_pin_is_denied_and_never_echoed() {
    // Only this test logs in to the PIN token, so a wrong PIN meets no existing login.
    let _g = shared();
    let h = hsm();
    let wrong_pin = "0000-wrong-test-pin";
    let wrong = h.scratch.join("wrong.pin");
    write_private(&wrong, &format!("{wrong_pin}\n"), 0o600);
    let mut s = Pkcs11Settings {
        module: h.module.clone(),
        token_label: h.pin_token.clone(),
        pin: PinSource::File(wrong.clone()),
    };
    let e = Pkcs11Provider::open(&s).expect_err("wrong PIN");
    assert_eq!(e.code(), ErrorCode::ProviderDenied, "{e}");
    assert!(e.message().contains("CKR_PIN_INCORRECT"), "{}", e.message());
    assert!(!e.message().contains(wrong_pin), "{}", e.message());

    let readable = h.scratch.join("readable.pin");
    write_private(
        &readable,
        &fs::read_to_string(&h.pin_token_pin_file).expect("PIN"),
        0o644,
    );
    s.pin = PinSource::File(readable);
    let e = Pkcs11Provider::open(&s).expect_err("PIN file readable by others");
    assert_eq!(e.code(), ErrorCode::InvalidConfig);
    assert!(e.message().contains("chmod 600"), "{}", e.message());

    s.pin = PinSource::File(h.pin_token_pin_file.clone());
    let p = Pkcs11Provider::open(&s).expect("right PIN");
    assert_eq!(p.token_label(), h.pin_token);
    assert_eq!(p.list().expect("list"), vec![]);

    // The PIN changes on the token and every session is logged out: the provider's
    // next login fails, and after that it tries no login at all.
    let right = AuthPin::from(
        fs::read_to_string(&h.pin_token_pin_file)
            .expect("PIN")
            .trim(),
    );
    let changed = AuthPin::from("changed-test-pin-1234");
    let admin = inspector(&h.pin_token, &h.pin_token_pin_file);
    admin.set_pin(&right, &changed).expect("C_SetPIN");
    admin.logout().expect("C_Logout");
    let e = p.list().expect_err("stale PIN");
    assert_eq!(e.code(), ErrorCode::ProviderDenied, "{e}");
    assert!(e.message().contains("CKR_PIN_INCORRECT"), "{}", e.message());

    admin
        .login(UserType::User, Some(&changed))
        .expect("log in with the changed PIN");
    admin.set_pin(&changed, &right).expect("restore the PIN");
    admin.logout().expect("C_Logout");
    let e = p.list().expect_err("no login after a rejected PIN");
    assert_eq!(e.code(), ErrorCode::ProviderDenied, "{e}");
    assert!(e.message().contains("restart"), "{}", e.message());
}

#[test]
fn missing_keys_and_tokens_are_reported() {
    let _g = shared();
    let p = provider();
    let absent = format!("pkcs11:absent-{}", std::process::id());
    let e = p
        .wrap(&absent, &DataKey::generate().expect("random"))
        .expect_err("no such label");
    assert_eq!(e.code(), ErrorCode::KeyNotFound, "{e}");
    assert!(e.message().contains(&absent), "{}", e.message());
    let c = cipher(vec![p.clone()], &[&absent]);
    let e = c
        .encrypt(b"x", &EncryptOptions::default())
        .expect_err("encrypt under a missing KEK");
    assert_eq!(e.code(), ErrorCode::KeyNotFound);

    let key_id = new_kek(&p, "missing-version");
    let mut wrapped = p
        .wrap(&key_id, &DataKey::generate().expect("random"))
        .expect("wrap");
    wrapped.key_version = 9;
    let e = p.unwrap(&wrapped).expect_err("no version 9");
    assert_eq!(e.code(), ErrorCode::KeyVersionNotFound, "{e}");

    let e = Pkcs11Provider::open(&Pkcs11Settings {
        token_label: "no-such-token".into(),
        ..settings()
    })
    .expect_err("no such token");
    assert_eq!(e.code(), ErrorCode::InvalidConfig);
    assert!(e.message().contains(&hsm().token), "{}", e.message());
}

#[test]
fn modified_wrapped_keys_fail_authentication() {
    let _g = shared();
    let p = provider();
    let key_id = new_kek(&p, "tamper");
    let dek = DataKey::generate().expect("random");
    let wrapped = p.wrap(&key_id, &dek).expect("wrap");
    assert_eq!(wrapped.ciphertext.len(), 40);
    assert_eq!(
        p.unwrap(&wrapped).expect("unwrap").as_bytes(),
        dek.as_bytes()
    );
    for i in [0, 17, 39] {
        let mut bad = wrapped.clone();
        bad.ciphertext[i] ^= 0x01;
        let e = p.unwrap(&bad).expect_err("modified wrapped key");
        assert_eq!(e.code(), ErrorCode::AuthenticationFailed, "byte {i}: {e}");
    }
    let short = WrappedKey {
        ciphertext: wrapped.ciphertext[..32].to_vec(),
        ..wrapped.clone()
    };
    assert_eq!(
        p.unwrap(&short).expect_err("short").code(),
        ErrorCode::MalformedEnvelope
    );
    // The failures left the provider usable.
    assert_eq!(
        p.unwrap(&wrapped).expect("unwrap").as_bytes(),
        dek.as_bytes()
    );
}

#[test]
fn envelope_under_keyring_and_pkcs11_decrypts_with_either_alone() {
    let _g = shared();
    let p = provider();
    let hsm_key = new_kek(&p, "multi");
    let mut ring = KeyringFile::default();
    ring.generate("ring-orders").expect("keyring key");
    let keyring: Arc<dyn KeyProvider> = Arc::new(LocalKeyring::from_file(ring));
    for ids in [
        [hsm_key.as_str(), "ring-orders"],
        ["ring-orders", hsm_key.as_str()],
    ] {
        let both = cipher(vec![p.clone(), keyring.clone()], &ids);
        let envelope = encrypt(&both, b"two KEKs");
        let hsm_only = cipher(vec![provider()], &[]);
        let out = decrypt(&hsm_only, &envelope).expect("PKCS#11 alone");
        assert_eq!(out.body, b"two KEKs");
        assert_eq!(out.info.key_id, hsm_key);
        let ring_only = cipher(vec![keyring.clone()], &[]);
        let out = decrypt(&ring_only, &envelope).expect("keyring alone");
        assert_eq!(out.body, b"two KEKs");
        assert_eq!(out.info.key_id, "ring-orders");
    }
}

#[test]
fn many_threads_share_one_provider() {
    let _g = shared();
    let p = provider();
    let key_id = new_kek(&p, "threads");
    let config = CipherConfig {
        key_ids: vec![key_id.clone()],
        cache_capacity: 0,
        limits: UsageLimits {
            max_messages: 3,
            ..UsageLimits::default()
        },
        ..CipherConfig::default()
    };
    let c = Cipher::new(config, vec![p.clone()]).expect("cipher");
    let workers: Vec<_> = (0..8)
        .map(|t| {
            let c = c.clone();
            let p = p.clone();
            let key_id = key_id.clone();
            thread::spawn(move || {
                for i in 0..25 {
                    let body = format!("thread {t} message {i}");
                    let envelope = encrypt(&c, body.as_bytes());
                    assert_eq!(
                        decrypt(&c, &envelope).expect("decrypt").body,
                        body.as_bytes()
                    );
                    let dek = DataKey::generate().expect("random");
                    let wrapped = p.wrap(&key_id, &dek).expect("wrap");
                    assert_eq!(
                        p.unwrap(&wrapped).expect("unwrap").as_bytes(),
                        dek.as_bytes()
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let counters = c.counters();
    // Every decryption unwrapped in the token (no cache); 200 messages at 3 per data key
    // need at least 67 data keys.
    assert!(counters.provider_calls >= 200 + 67, "{counters:?}");
    assert_eq!(counters.provider_failures, 0, "{counters:?}");
}

#[test]
fn provider_logs_in_again_after_a_logout() {
    let _g = LOGIN_LOCK.write().unwrap_or_else(|e| e.into_inner());
    let h = hsm();
    let p = provider();
    let key_id = new_kek(&p, "relogin");
    let dek = DataKey::generate().expect("random");
    let wrapped = p.wrap(&key_id, &dek).expect("wrap");
    // C_Logout on any session logs the whole application out of the token, including
    // every session the provider holds.
    let s = inspector(&h.token, &h.pin_file);
    s.logout().expect("C_Logout");
    assert_eq!(
        p.unwrap(&wrapped).expect("unwrap after logout").as_bytes(),
        dek.as_bytes()
    );
    s.logout().expect("C_Logout");
    assert_eq!(
        p.primary_version(&key_id).expect("primary after logout"),
        Some(1)
    );
    s.logout().expect("C_Logout");
    let again = p.wrap(&key_id, &dek).expect("wrap after logout");
    assert_eq!(again.ciphertext, wrapped.ciphertext);
}

#[test]
fn deleted_kek_is_not_used_through_a_stale_handle() {
    let _g = shared();
    let h = hsm();
    let p = provider();
    let key_id = new_kek(&p, "deleted");
    let label = key_id.trim_start_matches("pkcs11:").as_bytes().to_vec();
    let dek = DataKey::generate().expect("random");
    let wrapped = p.wrap(&key_id, &dek).expect("wrap");
    // The unwrap caches the object handle of version 1.
    assert_eq!(
        p.unwrap(&wrapped).expect("unwrap").as_bytes(),
        dek.as_bytes()
    );

    let s = inspector(&h.token, &h.pin_file);
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::Label(label.clone()),
    ];
    let w = token_write();
    for object in s.find_objects(&template).expect("find the KEK") {
        s.destroy_object(object).expect("delete the KEK");
    }
    drop(w);
    let e = p.unwrap(&wrapped).expect_err("deleted KEK");
    assert_eq!(e.code(), ErrorCode::KeyNotFound, "{e}");

    // A different key under the same label and version must not unwrap the old key.
    let w = token_write();
    let mut template = version_1_kek(&label);
    template.push(Attribute::ValueLen(32.into()));
    s.generate_key(&Mechanism::AesKeyGen, &template)
        .expect("replacement KEK");
    drop(w);
    let e = p.unwrap(&wrapped).expect_err("replaced KEK");
    assert_eq!(e.code(), ErrorCode::AuthenticationFailed, "{e}");
    let again = p.wrap(&key_id, &dek).expect("wrap under the replacement");
    assert_eq!(p.unwrap(&again).expect("unwrap").as_bytes(), dek.as_bytes());
}

#[test]
fn forked_child_opens_its_own_sessions() {
    // No other test uses the module while this one forks.
    let _g = LOGIN_LOCK.write().unwrap_or_else(|e| e.into_inner());
    let p = provider();
    let key_id = new_kek(&p, "fork");
    let dek = DataKey::generate().expect("random");
    let wrapped = p.wrap(&key_id, &dek).expect("wrap");

    // SAFETY: the child only uses the provider, whose locks no other thread holds
    // (the write lock above keeps the other tests out), and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let status = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let ok = p
                .unwrap(&wrapped)
                .is_ok_and(|k| k.as_bytes() == dek.as_bytes());
            let rewrapped = p.wrap(&key_id, &dek).is_ok();
            match (ok, rewrapped) {
                (true, true) => 0,
                (false, _) => 3,
                (true, false) => 4,
            }
        }))
        .unwrap_or(5);
        // SAFETY: _exit ends the child without running the parent's exit handlers.
        unsafe { libc::_exit(status) };
    }
    let mut status = 0;
    // SAFETY: pid is this process's child, and status is a valid pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(
        libc::WIFEXITED(status),
        "child did not exit normally: {status}"
    );
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "child: 3 = unwrap failed, 4 = wrap failed, 5 = panic"
    );
    // The parent's sessions survived the child.
    assert_eq!(
        p.unwrap(&wrapped).expect("unwrap in the parent").as_bytes(),
        dek.as_bytes()
    );
}
