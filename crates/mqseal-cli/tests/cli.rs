//! End-to-end tests of the `mqseal` binary, run in a temporary directory.
//!
//! Every test ends with `Session::finish`, which checks that no key of the keyring, as
//! hex text or raw bytes, appears in any output of the session.

use std::cell::RefCell;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::thread;

use serde_json::Value;
use tempfile::TempDir;

const RING: &str = "ring";

/// A temporary directory and every output of the commands run in it.
struct Session {
    dir: TempDir,
    outputs: RefCell<Vec<Vec<u8>>>,
}

impl Session {
    fn new() -> Session {
        Session {
            dir: tempfile::tempdir().expect("create temporary directory"),
            outputs: RefCell::new(Vec::new()),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        fs::write(self.path(name), bytes).expect("write test file");
    }

    fn read(&self, name: &str) -> Vec<u8> {
        let bytes = fs::read(self.path(name)).expect("read test file");
        self.outputs.borrow_mut().push(bytes.clone());
        bytes
    }

    /// Runs mqseal with an empty standard input.
    fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, b"")
    }

    /// Runs mqseal with `stdin` as standard input and records its outputs.
    fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mqseal"))
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mqseal");
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let input = stdin.to_vec();
        // A writer thread keeps a large input from blocking on a full output pipe.
        let writer = thread::spawn(move || {
            // mqseal may exit without reading its input, which closes the pipe early.
            let _ = pipe.write_all(&input);
        });
        let output = child.wait_with_output().expect("wait for mqseal");
        writer.join().expect("stdin writer thread");
        self.outputs.borrow_mut().push(output.stdout.clone());
        self.outputs.borrow_mut().push(output.stderr.clone());
        output
    }

    /// Runs mqseal and asserts that it succeeded.
    fn ok(&self, args: &[&str]) -> Output {
        let output = self.run(args);
        assert_exit(&output, 0);
        output
    }

    fn keygen(&self, name: &str) {
        self.ok(&["keygen", "--keyring", RING, "--name", name]);
    }

    fn inspect_json(&self, file: &str) -> Value {
        let output = self.ok(&["inspect", "--json", "-i", file]);
        serde_json::from_slice(&output.stdout).expect("inspect --json prints JSON")
    }

    /// Asserts that no key of the keyring appears in any recorded output.
    fn finish(self) {
        let text = fs::read_to_string(self.path(RING)).expect("read keyring");
        let hex_keys: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with("key "))
            .filter_map(|line| line.split_whitespace().nth(3))
            .collect();
        assert!(!hex_keys.is_empty(), "the keyring has no keys");
        for hex in hex_keys {
            assert_eq!(hex.len(), 64, "a key is 64 hex digits");
            let raw = decode_hex(hex);
            for output in self.outputs.borrow().iter() {
                let printed = String::from_utf8_lossy(output).to_ascii_lowercase();
                assert!(!printed.contains(hex), "a key appears as hex in an output");
                assert!(
                    !output.windows(raw.len()).any(|w| w == raw.as_slice()),
                    "a key appears as raw bytes in an output"
                );
            }
        }
    }
}

fn decode_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stderr: {}",
        stderr_of(output)
    );
}

/// Asserts a failure with `code` and a one-sentence `mqseal:` message on stderr.
fn assert_failure(output: &Output, code: i32) {
    assert_exit(output, code);
    let stderr = stderr_of(output);
    assert!(stderr.starts_with("mqseal: "), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "a failed run wrote to stdout");
}

/// Generates a body at test time, so no test relies on fixed plaintext.
fn generated_body(len: usize) -> Vec<u8> {
    let seed = std::process::id() as usize;
    (0..len)
        .map(|i| b"abcdefghij"[(i * 7 + seed) % 10])
        .collect()
}

#[test]
fn key_check_detects_leaked_key() {
    let s = Session::new();
    s.keygen("orders");
    // Record the keyring itself as if a command had printed it.
    s.read(RING);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.finish()));
    assert!(result.is_err(), "the check missed a printed keyring");
}

#[test]
fn round_trip_through_files() {
    let s = Session::new();
    let keygen = s.ok(&["keygen", "--keyring", RING, "--name", "orders"]);
    assert_eq!(stdout_of(&keygen), "created key orders version 1\n");
    let mode = fs::metadata(s.path(RING))
        .expect("stat")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);

    let body = generated_body(300);
    s.write("body.txt", &body);
    let encrypt = s.ok(&[
        "encrypt",
        "--keyring",
        RING,
        "--key-id",
        "orders",
        "--context",
        "topic=orders",
        "--property",
        "trace=t-42",
        "-i",
        "body.txt",
        "-o",
        "msg.bin",
    ]);
    assert!(encrypt.stdout.is_empty());
    let envelope = s.read("msg.bin");
    assert_eq!(envelope[0], 0x8E, "an envelope starts with the magic byte");

    let info = s.inspect_json("msg.bin");
    assert_eq!(info["version"], 1);
    assert_eq!(info["suite"], "aes-256-gcm");
    assert_eq!(info["keys"][0]["key_id"], "orders");
    assert_eq!(info["keys"][0]["key_version"], 1);
    assert_eq!(info["sealed_properties"], true);
    assert_eq!(info["stored_context"], Value::Null);
    assert_eq!(info["total_len"], envelope.len());

    let decrypt = s.ok(&[
        "decrypt",
        "--keyring",
        RING,
        "--context",
        "topic=orders",
        "--show-properties",
        "-i",
        "msg.bin",
        "-o",
        "out.txt",
    ]);
    assert_eq!(s.read("out.txt"), body);
    assert_eq!(stderr_of(&decrypt), "trace=t-42\n");
    s.finish();
}

#[test]
fn round_trip_through_stdin_and_stdout() {
    let s = Session::new();
    s.keygen("orders");
    let body = generated_body(10_000);
    let encrypt = s.run_with_stdin(
        &[
            "encrypt",
            "--keyring",
            RING,
            "--key-id",
            "orders",
            "--suite",
            "chacha20-poly1305",
            "--compress",
            "--store-context",
            "--context",
            "topic=orders",
        ],
        &body,
    );
    assert_exit(&encrypt, 0);
    let envelope = encrypt.stdout;
    assert!(
        envelope.len() < body.len(),
        "a repetitive body compresses: {} bytes",
        envelope.len()
    );

    let inspect = s.run_with_stdin(&["inspect", "--json"], &envelope);
    assert_exit(&inspect, 0);
    let info: Value = serde_json::from_slice(&inspect.stdout).expect("JSON");
    assert_eq!(info["suite"], "chacha20-poly1305");
    assert_eq!(info["compressed"], true);
    assert_eq!(info["stored_context"]["topic"], "orders");

    let text = s.run_with_stdin(&["inspect"], &envelope);
    assert_exit(&text, 0);
    assert!(stdout_of(&text).contains("context:   topic=orders"));

    // The stored context replaces --context.
    let decrypt = s.run_with_stdin(
        &["decrypt", "--keyring", RING, "-i", "-", "-o", "-"],
        &envelope,
    );
    assert_exit(&decrypt, 0);
    assert_eq!(decrypt.stdout, body);
    s.finish();
}

#[test]
fn wrong_context_exits_13() {
    let s = Session::new();
    s.keygen("orders");
    s.write("body.txt", &generated_body(64));
    s.ok(&[
        "encrypt",
        "--keyring",
        RING,
        "--key-id",
        "orders",
        "--context",
        "topic=orders",
        "-i",
        "body.txt",
        "-o",
        "msg.bin",
    ]);
    let wrong = s.run(&[
        "decrypt",
        "--keyring",
        RING,
        "--context",
        "topic=payments",
        "-i",
        "msg.bin",
        "-o",
        "out.txt",
    ]);
    assert_failure(&wrong, 13);
    assert!(stderr_of(&wrong).contains("authentication failed"));
    assert!(
        !s.path("out.txt").exists(),
        "a failed decryption wrote a file"
    );

    let missing = s.run(&["decrypt", "--keyring", RING, "-i", "msg.bin"]);
    assert_failure(&missing, 13);
    s.finish();
}

#[test]
fn tampered_envelope_exits_13() {
    let s = Session::new();
    s.keygen("orders");
    s.write("body.txt", &generated_body(64));
    s.ok(&[
        "encrypt",
        "--keyring",
        RING,
        "--key-id",
        "orders",
        "-i",
        "body.txt",
        "-o",
        "msg.bin",
    ]);
    let envelope = s.read("msg.bin");

    let last = envelope.len() - 1;
    let payload = envelope.len() - 16 - 10;
    for (what, index) in [("tag", last), ("payload", payload)] {
        let mut tampered = envelope.clone();
        tampered[index] ^= 0x01;
        s.write("tampered.bin", &tampered);
        let output = s.run(&[
            "decrypt",
            "--keyring",
            RING,
            "-i",
            "tampered.bin",
            "-o",
            "out.txt",
        ]);
        assert_failure(&output, 13);
        assert!(!s.path("out.txt").exists(), "{what}: a file was written");
    }

    s.write("truncated.bin", &envelope[..40]);
    let truncated = s.run(&["decrypt", "--keyring", RING, "-i", "truncated.bin"]);
    assert_failure(&truncated, 11);
    s.finish();
}

#[test]
fn rotate_rewrap_then_decrypt() {
    let s = Session::new();
    s.keygen("orders");
    let body = generated_body(500);
    s.write("body.txt", &body);
    s.ok(&[
        "encrypt",
        "--keyring",
        RING,
        "--key-id",
        "orders",
        "-i",
        "body.txt",
        "-o",
        "msg.bin",
    ]);
    let original = s.read("msg.bin");

    let rotate = s.ok(&["rotate", "--keyring", RING, "--name", "orders"]);
    assert_eq!(
        stdout_of(&rotate),
        "added key orders version 2, now primary\n"
    );
    let list = s.ok(&["list", "--keyring", RING]);
    assert_eq!(
        stdout_of(&list),
        "NAME    PRIMARY  VERSIONS\norders  2        1,2\n"
    );

    // -o may name the input file: the output replaces it only after success.
    let rewrap = s.ok(&[
        "rewrap",
        "--keyring",
        RING,
        "--key-id",
        "orders",
        "-i",
        "msg.bin",
        "-o",
        "msg.bin",
    ]);
    assert!(rewrap.stdout.is_empty());
    let stderr = stderr_of(&rewrap);
    assert!(stderr.contains("orders version 1"), "stderr: {stderr}");
    assert!(stderr.contains("orders version 2"), "stderr: {stderr}");

    let rewrapped = s.read("msg.bin");
    let info = s.inspect_json("msg.bin");
    assert_eq!(info["keys"][0]["key_version"], 2);
    // The payload and tag are copied unchanged.
    let sealed_len = info["payload_len"].as_u64().expect("number") as usize + 16;
    assert_eq!(
        rewrapped[rewrapped.len() - sealed_len..],
        original[original.len() - sealed_len..]
    );
    assert_ne!(rewrapped, original);

    let decrypt = s.ok(&["decrypt", "--keyring", RING, "-i", "msg.bin"]);
    assert_eq!(decrypt.stdout, body);
    s.finish();
}

#[test]
fn keyring_mode_0644_rejected() {
    let s = Session::new();
    s.keygen("orders");
    s.write("body.txt", &generated_body(16));
    fs::set_permissions(s.path(RING), fs::Permissions::from_mode(0o644)).expect("chmod");

    let commands: [&[&str]; 4] = [
        &[
            "encrypt",
            "--keyring",
            RING,
            "--key-id",
            "orders",
            "-i",
            "body.txt",
            "-o",
            "msg.bin",
        ],
        &["decrypt", "--keyring", RING, "-i", "body.txt"],
        &["list", "--keyring", RING],
        &["rotate", "--keyring", RING, "--name", "orders"],
    ];
    for args in commands {
        let output = s.run(args);
        assert_failure(&output, 10);
        let stderr = stderr_of(&output);
        assert!(stderr.contains("mode 0644"), "{args:?}: {stderr}");
        assert!(stderr.contains("chmod 600"), "{args:?}: {stderr}");
    }
    assert!(!s.path("msg.bin").exists());
    s.finish();
}

#[test]
fn plaintext_input_exits_11() {
    let s = Session::new();
    s.keygen("orders");
    s.write("plain.json", br#"{"order": 1}"#);
    let decrypt = s.run(&["decrypt", "--keyring", RING, "-i", "plain.json"]);
    assert_failure(&decrypt, 11);
    assert!(stderr_of(&decrypt).contains("not an mqseal envelope"));

    let inspect = s.run(&["inspect", "-i", "plain.json"]);
    assert_failure(&inspect, 11);

    let empty = s.run(&["inspect"]);
    assert_failure(&empty, 11);
    s.finish();
}

#[test]
fn config_file_selects_keyring_and_suite() {
    let s = Session::new();
    s.keygen("orders");
    s.keygen("audit");
    s.write(
        "mqseal.conf",
        b"# test configuration\nmqseal.keyring.path = ring\nkey_id = orders\nsuite = chacha20-poly1305\n",
    );
    let body = generated_body(100);
    let encrypt = s.run_with_stdin(&["encrypt", "--config", "mqseal.conf"], &body);
    assert_exit(&encrypt, 0);
    s.write("msg.bin", &encrypt.stdout);
    let info = s.inspect_json("msg.bin");
    assert_eq!(info["suite"], "chacha20-poly1305");
    assert_eq!(info["keys"][0]["key_id"], "orders");

    let decrypt = s.ok(&["decrypt", "--config", "mqseal.conf", "-i", "msg.bin"]);
    assert_eq!(decrypt.stdout, body);

    // --key-id and --suite override the file.
    let both = s.run_with_stdin(
        &[
            "encrypt",
            "--config",
            "mqseal.conf",
            "--key-id",
            "audit",
            "--key-id",
            "orders",
            "--suite",
            "aes-256-gcm",
        ],
        &body,
    );
    assert_exit(&both, 0);
    s.write("both.bin", &both.stdout);
    let info = s.inspect_json("both.bin");
    assert_eq!(info["suite"], "aes-256-gcm");
    assert_eq!(info["keys"][0]["key_id"], "audit");
    assert_eq!(info["keys"][1]["key_id"], "orders");

    s.write("bad.conf", b"keyring.path = ring\nkey_idd = orders\n");
    let bad = s.run(&["encrypt", "--config", "bad.conf"]);
    assert_failure(&bad, 10);
    assert!(stderr_of(&bad).contains("line 2"));

    s.write("nokey.conf", b"keyring.path = ring\n");
    let no_key = s.run(&["encrypt", "--config", "nokey.conf"]);
    assert_failure(&no_key, 1);
    assert!(stderr_of(&no_key).contains("--key-id"));

    let missing = s.run(&["encrypt", "--config", "absent.conf"]);
    assert_failure(&missing, 2);
    s.finish();
}

#[test]
fn usage_errors_exit_1() {
    let s = Session::new();
    s.keygen("orders");
    s.write("body.txt", b"x");
    let cases: [&[&str]; 6] = [
        &[],
        &[
            "encrypt",
            "--keyring",
            RING,
            "--config",
            "c.conf",
            "--key-id",
            "orders",
        ],
        &["encrypt", "--keyring", RING, "-i", "body.txt"],
        &[
            "encrypt",
            "--keyring",
            RING,
            "--key-id",
            "orders",
            "--context",
            "topic",
            "-i",
            "body.txt",
        ],
        &[
            "encrypt",
            "--keyring",
            RING,
            "--key-id",
            "orders",
            "--suite",
            "rot13",
            "-i",
            "body.txt",
        ],
        &["frobnicate"],
    ];
    for args in cases {
        let output = s.run(args);
        assert_exit(&output, 1);
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(!output.stderr.is_empty(), "{args:?}");
    }
    s.finish();
}

#[test]
fn io_and_key_errors_have_codes() {
    let s = Session::new();
    s.keygen("orders");
    s.write("body.txt", &generated_body(10));

    let missing_input = s.run(&[
        "encrypt",
        "--keyring",
        RING,
        "--key-id",
        "orders",
        "-i",
        "absent.txt",
    ]);
    assert_failure(&missing_input, 2);
    assert!(stderr_of(&missing_input).contains("absent.txt"));

    let missing_dir = s.run(&[
        "encrypt",
        "--keyring",
        RING,
        "--key-id",
        "orders",
        "-i",
        "body.txt",
        "-o",
        "no/such/dir/msg.bin",
    ]);
    assert_failure(&missing_dir, 2);

    let unknown_key = s.run(&[
        "encrypt",
        "--keyring",
        RING,
        "--key-id",
        "payments",
        "-i",
        "body.txt",
    ]);
    assert_failure(&unknown_key, 14);
    assert!(stderr_of(&unknown_key).contains("payments"));

    let again = s.run(&["keygen", "--keyring", RING, "--name", "orders"]);
    assert_failure(&again, 10);
    assert!(stderr_of(&again).contains("already exists"));

    let bad_name = s.run(&["keygen", "--keyring", RING, "--name", "bad name"]);
    assert_failure(&bad_name, 10);

    let no_ring = s.run(&["decrypt", "--keyring", "absent-ring", "-i", "body.txt"]);
    assert_failure(&no_ring, 10);
    s.finish();
}

#[test]
fn key_commands_reject_kms_only_config() {
    let s = Session::new();
    s.keygen("orders");
    s.write(
        "kms.conf",
        b"provider = aws-kms\naws_kms.region = eu-west-1\nkey_id = alias/orders\n",
    );
    for command in ["keygen", "rotate"] {
        let output = s.run(&[command, "--config", "kms.conf", "--name", "orders"]);
        assert_failure(&output, 10);
        let stderr = stderr_of(&output);
        assert!(
            stderr.contains("keyring or pkcs11 provider"),
            "stderr: {stderr}"
        );
        assert!(
            stderr.contains("created and rotated in the KMS"),
            "stderr: {stderr}"
        );
        assert!(
            !stderr.contains("lacks the pkcs11 feature"),
            "stderr: {stderr}"
        );
    }
    let list = s.run(&["list", "--config", "kms.conf"]);
    assert_failure(&list, 10);

    s.write(
        "unknown.conf",
        b"keyring.path = dev.keyring\nkeyring.mode = 0600\n",
    );
    let unknown = s.run(&["list", "--config", "unknown.conf"]);
    assert_failure(&unknown, 10);
    let stderr = stderr_of(&unknown);
    assert!(stderr.contains("\"keyring.mode\""), "stderr: {stderr}");
    assert!(
        stderr.contains("crates/mqseal-core/src/config.rs"),
        "stderr: {stderr}"
    );
    s.finish();
}

#[test]
fn help_lists_exit_codes() {
    let s = Session::new();
    s.keygen("orders");
    let help = s.ok(&["--help"]);
    let text = stdout_of(&help);
    for line in [
        "Exit codes:",
        "   1  usage error",
        "   2  I/O error",
        "  13  authentication failed",
        "  15  key provider unavailable",
        "  70  internal error",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    let decrypt_help = s.ok(&["decrypt", "--help"]);
    assert!(stdout_of(&decrypt_help).contains("  11  malformed envelope"));
    s.finish();
}

/// Runs `command` in a pseudo-terminal with util-linux `script`, so mqseal's standard
/// output is a terminal. Returns `None` when `script` is not installed.
#[cfg(target_os = "linux")]
fn run_in_terminal(s: &Session, command: &str) -> Option<Output> {
    let output = Command::new("script")
        .args(["-q", "-e", "-c", command, "/dev/null"])
        .current_dir(s.dir.path())
        .stdin(Stdio::null())
        .output()
        .ok()?;
    s.outputs.borrow_mut().push(output.stdout.clone());
    s.outputs.borrow_mut().push(output.stderr.clone());
    Some(output)
}

#[cfg(target_os = "linux")]
#[test]
fn envelope_to_terminal_rejected() {
    let s = Session::new();
    s.keygen("orders");
    s.write("body.txt", &generated_body(32));
    let binary = env!("CARGO_BIN_EXE_mqseal");
    let encrypt = format!("{binary} encrypt --keyring {RING} --key-id orders -i body.txt");
    let Some(implicit) = run_in_terminal(&s, &encrypt) else {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    };
    assert_eq!(implicit.status.code(), Some(1));
    // `script` merges the terminal's output streams into its standard output.
    let shown = stdout_of(&implicit);
    assert!(shown.contains("pass -o FILE"), "output: {shown}");

    let explicit =
        run_in_terminal(&s, &format!("{encrypt} -o - > msg.bin")).expect("script ran before");
    assert_eq!(explicit.status.code(), Some(0));
    assert_eq!(s.read("msg.bin")[0], 0x8E);
    s.finish();
}
