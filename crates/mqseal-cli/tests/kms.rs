//! The `mqseal` binary with `provider = aws-kms` against local-kms, which each test starts
//! on a free port through tests/kms/local-kms.sh and stops when it ends.
#![cfg(feature = "aws-kms")]

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// A temporary directory with a running local-kms and its AWS SDK environment.
struct Kms {
    dir: TempDir,
    env: HashMap<String, String>,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/kms/local-kms.sh")
}

impl Kms {
    fn start() -> Kms {
        let dir = tempfile::tempdir().expect("create temporary directory");
        let mut kms = Kms {
            dir,
            env: HashMap::new(),
        };
        kms.script(&["start"]);
        let text = fs::read_to_string(kms.state().join("env")).expect("local-kms env file");
        kms.env = text
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        kms
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("kms")
    }

    fn script(&self, args: &[&str]) {
        let out = Command::new("bash")
            .arg(script())
            .args(args)
            .env("MQSEAL_KMS_DIR", self.state())
            .output()
            .expect("run tests/kms/local-kms.sh");
        assert!(
            out.status.success(),
            "local-kms.sh {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn var(&self, key: &str) -> &str {
        &self.env[key]
    }

    /// Writes a configuration file for the AWS KMS provider and returns its path.
    fn config(&self, key_id: &str) -> PathBuf {
        let path = self.dir.path().join("kms.conf");
        fs::write(
            &path,
            format!(
                "provider = aws-kms\naws_kms.region = {}\naws_kms.endpoint = {}\nkey_id = {key_id}\n",
                self.var("MQSEAL_KMS_REGION"),
                self.var("MQSEAL_KMS_ENDPOINT")
            ),
        )
        .expect("write configuration");
        path
    }

    /// Runs mqseal in the temporary directory with the AWS SDK environment of local-kms,
    /// less the variables named in `unset`.
    fn mqseal(&self, args: &[&str], stdin: &[u8], unset: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mqseal"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .envs(
                self.env
                    .iter()
                    .filter(|(k, _)| !unset.contains(&k.as_str())),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for key in unset {
            command.env_remove(key);
        }
        let mut child = command.spawn().expect("start mqseal");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin)
            .expect("write stdin");
        child.wait_with_output().expect("wait for mqseal")
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

impl Drop for Kms {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .env("MQSEAL_KMS_DIR", self.state())
            .status();
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "mqseal failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn inspect_key(kms: &Kms, file: &str) -> String {
    let text = ok(&kms.mqseal(&["inspect", "-i", &kms.path(file)], b"", &[]));
    text.lines()
        .find(|l| l.starts_with("key 1:"))
        .unwrap_or_else(|| panic!("no key line in {text}"))
        .to_owned()
}

fn config_arg(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn rewrap_follows_a_moved_alias() {
    let kms = Kms::start();
    let config = config_arg(&kms.config(kms.var("MQSEAL_KMS_ALIAS")));
    let sealed = kms.path("order.env");
    ok(&kms.mqseal(
        &[
            "encrypt",
            "--config",
            &config,
            "--context",
            "topic=orders",
            "-o",
            &sealed,
        ],
        b"order 42",
        &[],
    ));
    assert!(inspect_key(&kms, "order.env").contains(kms.var("MQSEAL_KMS_ARN_A")));

    kms.script(&[
        "point",
        kms.var("MQSEAL_KMS_ALIAS"),
        kms.var("MQSEAL_KMS_KEY_B"),
    ]);
    let rewrapped = kms.path("order-b.env");
    let out = kms.mqseal(
        &[
            "rewrap", "--config", &config, "-i", &sealed, "-o", &rewrapped,
        ],
        b"",
        &[],
    );
    ok(&out);
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(report.contains(kms.var("MQSEAL_KMS_ARN_A")), "{report}");
    assert!(report.contains(kms.var("MQSEAL_KMS_ARN_B")), "{report}");
    assert!(inspect_key(&kms, "order-b.env").contains(kms.var("MQSEAL_KMS_ARN_B")));

    kms.script(&["disable", kms.var("MQSEAL_KMS_KEY_A")]);
    let decrypt = |file: &str, code: Option<i32>| {
        let out = kms.mqseal(
            &[
                "decrypt",
                "--config",
                &config,
                "--context",
                "topic=orders",
                "-i",
                file,
            ],
            b"",
            &[],
        );
        assert_eq!(
            out.status.code(),
            code.or(Some(0)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    assert_eq!(decrypt(&rewrapped, None).stdout, b"order 42");
    let refused = decrypt(&sealed, Some(16));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("DisabledException"), "{message}");
}

#[test]
fn missing_credentials_are_not_retryable() {
    let kms = Kms::start();
    let config = config_arg(&kms.config(kms.var("MQSEAL_KMS_ALIAS")));
    let out = kms.mqseal(
        &["encrypt", "--config", &config, "-o", &kms.path("x.env")],
        b"body",
        &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
    );
    let message = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(16), "{message}");
    assert!(message.contains("credential"), "{message}");
    assert!(!message.contains("mqseal-local-kms-test"), "{message}");
}
