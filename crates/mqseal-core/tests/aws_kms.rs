//! The AWS KMS provider against local-kms, the KMS test server, which each test starts on
//! a free port through tests/kms/local-kms.sh and stops when it ends.
#![cfg(feature = "aws-kms")]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;
use std::time::Duration;

use mqseal_core::config::Settings;
use mqseal_core::{Cipher, EncryptOptions, Envelope, ErrorCode};

/// One local-kms server with its own state directory.
struct LocalKms {
    dir: PathBuf,
    env: HashMap<String, String>,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/kms/local-kms.sh")
}

static SDK_ENV: Once = Once::new();

impl LocalKms {
    fn start(name: &str) -> LocalKms {
        let dir = std::env::temp_dir().join(format!("mqseal-kms-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut kms = LocalKms {
            dir,
            env: HashMap::new(),
        };
        kms.script(&["start"]);
        let text = std::fs::read_to_string(kms.dir.join("env")).expect("local-kms env file");
        let env = text
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<HashMap<_, _>>();
        SDK_ENV.call_once(|| {
            for key in [
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_EC2_METADATA_DISABLED",
            ] {
                // SAFETY: every test of this binary calls LocalKms::start before it starts
                // a thread or an SDK client, and the Once makes the others wait here, so
                // no thread reads the environment while it changes.
                unsafe { std::env::set_var(key, &env[key]) };
            }
            for key in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
                let missing = std::env::temp_dir().join("mqseal-kms-test-no-aws-file");
                // SAFETY: as above.
                unsafe { std::env::set_var(key, missing) };
            }
        });
        kms.env = env;
        kms
    }

    fn script(&self, args: &[&str]) -> String {
        let out = Command::new("bash")
            .arg(script())
            .args(args)
            .env("MQSEAL_KMS_DIR", &self.dir)
            .output()
            .expect("run tests/kms/local-kms.sh");
        assert!(
            out.status.success(),
            "local-kms.sh {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn var(&self, key: &str) -> &str {
        &self.env[key]
    }

    fn config(&self, extra: &str) -> String {
        format!(
            "provider = aws-kms\naws_kms.region = {}\naws_kms.endpoint = {}\n\
             retry.max_attempts = 2\nretry.initial_backoff_ms = 10\nretry.deadline_ms = 3000\n{extra}",
            self.var("MQSEAL_KMS_REGION"),
            self.var("MQSEAL_KMS_ENDPOINT")
        )
    }

    fn cipher(&self, extra: &str) -> Cipher {
        Settings::parse(&self.config(extra))
            .expect("valid config")
            .build(None)
            .expect("cipher")
    }
}

impl Drop for LocalKms {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .env("MQSEAL_KMS_DIR", &self.dir)
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn encrypt(cipher: &Cipher, body: &[u8]) -> Vec<u8> {
    cipher
        .encrypt(body, &EncryptOptions::default())
        .expect("encrypt")
}

#[test]
fn alias_round_trip_records_the_key_arn() {
    let kms = LocalKms::start("roundtrip");
    let producer = kms.cipher(&format!("key_id = {}\n", kms.var("MQSEAL_KMS_ALIAS")));
    let env = encrypt(&producer, b"order 42");

    let parsed = Envelope::parse(&env).expect("envelope");
    assert_eq!(parsed.keys.len(), 1);
    assert_eq!(parsed.keys[0].key_id, kms.var("MQSEAL_KMS_ARN_A"));
    assert_eq!(parsed.keys[0].key_version, 0);

    let consumer = kms.cipher("");
    let plain = consumer.decrypt(&env, None).expect("decrypt");
    assert_eq!(plain.body, b"order 42");
    assert_eq!(plain.info.key_id, kms.var("MQSEAL_KMS_ARN_A"));
    assert_eq!(consumer.counters().provider_calls, 1);

    let second = encrypt(&producer, b"order 43");
    assert_eq!(
        consumer.decrypt(&second, None).expect("decrypt").body,
        b"order 43"
    );
    assert_eq!(
        consumer.counters().provider_calls,
        1,
        "the data key was cached"
    );
}

#[test]
fn disabled_key_is_a_permanent_error() {
    let kms = LocalKms::start("disabled");
    let producer = kms.cipher(&format!("key_id = {}\n", kms.var("MQSEAL_KMS_KEY_A")));
    let env = encrypt(&producer, b"body");
    kms.script(&["disable", kms.var("MQSEAL_KMS_KEY_A")]);

    let consumer = kms.cipher("");
    let e = consumer.decrypt(&env, None).expect_err("key disabled");
    assert_eq!(e.code(), ErrorCode::KeyDisabled, "{}", e.message());
    assert!(!e.is_retryable());
    assert!(e.message().contains("enable"), "{}", e.message());
    assert_eq!(consumer.counters().provider_attempts, 1, "no retry");

    let fresh = kms.cipher(&format!("key_id = {}\n", kms.var("MQSEAL_KMS_KEY_A")));
    let e = fresh
        .encrypt(b"x", &EncryptOptions::default())
        .expect_err("disabled key makes no data key");
    assert_eq!(e.code(), ErrorCode::KeyDisabled, "{}", e.message());

    kms.script(&["enable", kms.var("MQSEAL_KMS_KEY_A")]);
    assert_eq!(consumer.decrypt(&env, None).expect("enabled").body, b"body");
}

#[test]
fn unknown_key_is_not_found() {
    let kms = LocalKms::start("unknown");
    for id in [
        "alias/mqseal-no-such-alias",
        "11111111-2222-3333-4444-555555555555",
    ] {
        let cipher = kms.cipher(&format!("key_id = {id}\n"));
        let e = cipher
            .encrypt(b"x", &EncryptOptions::default())
            .expect_err("unknown key");
        assert_eq!(e.code(), ErrorCode::KeyNotFound, "{id}: {}", e.message());
        assert!(!e.is_retryable());
        assert!(e.message().contains(id), "{}", e.message());
    }
}

#[test]
fn stopped_server_is_a_retryable_error() {
    let kms = LocalKms::start("stopped");
    let producer = kms.cipher(&format!("key_id = {}\n", kms.var("MQSEAL_KMS_ALIAS")));
    let env = encrypt(&producer, b"body");
    kms.script(&["stop"]);

    assert_eq!(
        producer.decrypt(&env, None).expect("cached data key").body,
        b"body"
    );
    encrypt(&producer, b"the producer's data key still seals");

    let consumer = kms.cipher("");
    let e = consumer.decrypt(&env, None).expect_err("server stopped");
    assert!(e.is_retryable(), "{:?}", e);
    assert_eq!(e.code(), ErrorCode::ProviderUnavailable, "{}", e.message());
    assert!(e.message().contains("2 attempts"), "{}", e.message());
    assert!(
        !e.message().contains("mqseal-local-kms-test"),
        "no credentials"
    );

    kms.script(&["start"]);
    let consumer = kms.cipher("");
    let e = consumer.decrypt(&env, None);
    assert_eq!(e.expect("server back").body, b"body");
}

#[test]
fn alias_retarget_applies_within_the_check_interval() {
    let kms = LocalKms::start("retarget");
    let alias = kms.var("MQSEAL_KMS_ALIAS").to_owned();
    let producer = kms.cipher(&format!("key_id = {alias}\nrotation.check_seconds = 1\n"));
    let manual = kms.cipher(&format!("key_id = {alias}\nrotation.check_seconds = 0\n"));
    let old = encrypt(&producer, b"under A");
    let old_manual = encrypt(&manual, b"under A too");

    kms.script(&["point", &alias, kms.var("MQSEAL_KMS_KEY_B")]);
    std::thread::sleep(Duration::from_millis(1100));
    let new = encrypt(&producer, b"under B");
    let key_of = |env: &[u8]| {
        Envelope::parse(env).expect("envelope").keys[0]
            .key_id
            .to_owned()
    };
    assert_eq!(key_of(&new), kms.var("MQSEAL_KMS_ARN_B"));
    assert_eq!(producer.counters().rotations, 1);

    assert_eq!(
        key_of(&encrypt(&manual, b"still A")),
        kms.var("MQSEAL_KMS_ARN_A")
    );
    manual.rotate();
    assert_eq!(
        key_of(&encrypt(&manual, b"now B")),
        kms.var("MQSEAL_KMS_ARN_B")
    );

    let consumer = kms.cipher("");
    assert_eq!(consumer.decrypt(&old, None).expect("A").body, b"under A");
    assert_eq!(
        consumer.decrypt(&old_manual, None).expect("A").body,
        b"under A too"
    );
    assert_eq!(consumer.decrypt(&new, None).expect("B").body, b"under B");

    let rewrapped = manual.rewrap(&old).expect("rewrap");
    assert_eq!(key_of(&rewrapped), kms.var("MQSEAL_KMS_ARN_B"));
    let payload = |env: &[u8]| {
        let parsed = Envelope::parse(env).expect("envelope");
        (parsed.ciphertext.to_vec(), parsed.tag.to_vec())
    };
    assert_eq!(payload(&rewrapped), payload(&old), "payload untouched");
    kms.script(&["disable", kms.var("MQSEAL_KMS_KEY_A")]);
    let fresh = kms.cipher("");
    assert_eq!(
        fresh.decrypt(&rewrapped, None).expect("B only").body,
        b"under A"
    );
}

#[test]
fn kms_and_keyring_each_decrypt_alone() {
    let kms = LocalKms::start("multi");
    let ring = kms.dir.join("multi.keyring");
    mqseal_core::LocalKeyring::generate_in_file(&ring, "local").expect("keyring");
    let both = kms.cipher(&format!(
        "provider = aws-kms, keyring\nkeyring.path = {}\nkey_id = {}, local\n",
        ring.display(),
        kms.var("MQSEAL_KMS_ALIAS")
    ));
    let env = encrypt(&both, b"two holders");
    let ids: Vec<String> = Envelope::parse(&env)
        .expect("envelope")
        .keys
        .iter()
        .map(|k| k.key_id.to_owned())
        .collect();
    assert_eq!(
        ids,
        vec![kms.var("MQSEAL_KMS_ARN_A").to_owned(), "local".to_owned()]
    );

    let keyring_only = Settings::parse(&format!("keyring.path = {}\n", ring.display()))
        .expect("config")
        .build(None)
        .expect("cipher");
    let plain = keyring_only.decrypt(&env, None).expect("keyring decrypts");
    assert_eq!(plain.info.key_id, "local");

    let kms_only = kms.cipher("");
    let plain = kms_only.decrypt(&env, None).expect("KMS decrypts");
    assert_eq!(plain.info.key_id, kms.var("MQSEAL_KMS_ARN_A"));
}
