//! Generates the known-answer vectors in `tests/vectors/v1.json`.
//!
//! Run `cargo run -p mqseal-core --example gen_vectors > tests/vectors/v1.json`. The keys
//! are fixed test-vector keys (bytes 0x00.. and 0x40..), never used outside tests.
//! Encryption is deterministic here because the data key is fixed and the first
//! message under a fresh data key has sequence number 0.

#[path = "../tests/common.rs"]
mod common;

use common::{KEK_ID, KEK_VERSION, fixed_cipher, test_dek, test_kek, wrapped_dek};
use mqseal_core::{Context, EncryptOptions, Properties, Suite};
use serde_json::{Map, Value, json};

fn map_json(m: &mqseal_core::Attributes) -> Value {
    let mut out = Map::new();
    for (k, v) in m.iter() {
        out.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    Value::Object(out)
}

struct Case {
    name: &'static str,
    suite: Suite,
    body: Vec<u8>,
    context: Vec<(&'static str, &'static str)>,
    properties: Vec<(&'static str, &'static str)>,
    compression: bool,
    store_context: bool,
}

fn main() {
    let repetitive: Vec<u8> = b"mqseal test vector body "
        .iter()
        .copied()
        .cycle()
        .take(600)
        .collect();
    let cases = vec![
        Case {
            name: "aes-256-gcm-empty-body",
            suite: Suite::Aes256Gcm,
            body: vec![],
            context: vec![],
            properties: vec![],
            compression: false,
            store_context: false,
        },
        Case {
            name: "aes-256-gcm-topic-context",
            suite: Suite::Aes256Gcm,
            body: b"hello, mqseal".to_vec(),
            context: vec![("topic", "orders")],
            properties: vec![],
            compression: false,
            store_context: false,
        },
        Case {
            name: "chacha20-poly1305-topic-context",
            suite: Suite::ChaCha20Poly1305,
            body: b"hello, mqseal".to_vec(),
            context: vec![("topic", "orders")],
            properties: vec![],
            compression: false,
            store_context: false,
        },
        Case {
            name: "aes-256-gcm-multi-key-context",
            suite: Suite::Aes256Gcm,
            body: (0u8..=255).collect(),
            context: vec![
                ("topic", "payments"),
                ("app", "billing"),
                ("region", "eu-1"),
            ],
            properties: vec![],
            compression: false,
            store_context: false,
        },
        Case {
            name: "aes-256-gcm-sealed-properties",
            suite: Suite::Aes256Gcm,
            body: b"{\"amount\":12.5}".to_vec(),
            context: vec![("topic", "payments")],
            properties: vec![("customer", "alice"), ("trace", "")],
            compression: false,
            store_context: false,
        },
        Case {
            name: "aes-256-gcm-compressed",
            suite: Suite::Aes256Gcm,
            body: repetitive.clone(),
            context: vec![("topic", "logs")],
            properties: vec![],
            compression: true,
            store_context: false,
        },
        Case {
            name: "chacha20-poly1305-compressed-sealed-stored",
            suite: Suite::ChaCha20Poly1305,
            body: repetitive,
            context: vec![("topic", "logs")],
            properties: vec![("source", "host-7")],
            compression: true,
            store_context: true,
        },
        Case {
            name: "aes-256-gcm-stored-context",
            suite: Suite::Aes256Gcm,
            body: b"stored".to_vec(),
            context: vec![("topic", "audit")],
            properties: vec![],
            compression: false,
            store_context: true,
        },
    ];

    let mut vectors = Vec::new();
    let mut base_envelope: Option<(Vec<u8>, Value)> = None;
    for case in &cases {
        let cipher = fixed_cipher(case.suite, case.compression, case.store_context);
        let ctx = Context::from_pairs(case.context.iter().copied()).expect("context");
        let props = Properties::from_pairs(case.properties.iter().copied()).expect("properties");
        let options = EncryptOptions {
            context: Some(&ctx),
            properties: Some(&props),
        };
        let envelope = cipher.encrypt(&case.body, &options).expect("encrypt");
        let properties = if props.is_empty() {
            Value::Null
        } else {
            map_json(&props)
        };
        if case.name == "aes-256-gcm-topic-context" {
            base_envelope = Some((envelope.clone(), map_json(&ctx)));
        }
        vectors.push(json!({
            "name": case.name,
            "suite": case.suite.name(),
            "key_id": KEK_ID,
            "key_version": KEK_VERSION,
            "kek": hex::encode(test_kek()),
            "dek": hex::encode(test_dek()),
            "wrapped_dek": hex::encode(wrapped_dek()),
            "context": map_json(&ctx),
            "properties": properties,
            "compression": case.compression,
            "compression_min_size": 16,
            "store_context": case.store_context,
            "body": hex::encode(&case.body),
            "envelope": hex::encode(&envelope),
        }));
    }

    let (base, base_ctx) = base_envelope.expect("base case present");
    let mut negative = Vec::new();
    let mut push = |name: &str, envelope: Vec<u8>, context: Value, error: &str| {
        negative.push(json!({ "name": name, "envelope": hex::encode(envelope), "context": context, "error": error }));
    };
    let mut flipped_tag = base.clone();
    let last = flipped_tag.len() - 1;
    flipped_tag[last] ^= 0x01;
    push(
        "tag-bit-flipped",
        flipped_tag,
        base_ctx.clone(),
        "authentication_failed",
    );
    let payload_at = base.len() - 16 - 1;
    let mut flipped_payload = base.clone();
    flipped_payload[payload_at] ^= 0x80;
    push(
        "payload-bit-flipped",
        flipped_payload,
        base_ctx.clone(),
        "authentication_failed",
    );
    push(
        "wrong-context",
        base.clone(),
        json!({ "topic": "refunds" }),
        "authentication_failed",
    );
    push(
        "missing-context",
        base.clone(),
        json!({}),
        "authentication_failed",
    );
    let mut commitment = base.clone();
    let commit_at = base.len() - 16 - 13 - 4 - 32;
    commitment[commit_at] ^= 0x01;
    push(
        "commitment-bit-flipped",
        commitment,
        base_ctx.clone(),
        "key_commitment_mismatch",
    );
    let mut wrapped = base.clone();
    wrapped[5 + 1 + KEK_ID.len() + 4 + 2] ^= 0x01;
    push(
        "wrapped-key-bit-flipped",
        wrapped,
        base_ctx.clone(),
        "authentication_failed",
    );
    let mut version = base.clone();
    version[5 + 1 + KEK_ID.len() + 3] = 2;
    push(
        "unknown-key-version",
        version,
        base_ctx.clone(),
        "key_version_not_found",
    );
    let mut newer = base.clone();
    newer[1] = 2;
    push(
        "newer-format-version",
        newer,
        base_ctx.clone(),
        "unsupported_version",
    );
    let mut suite = base.clone();
    suite[2] = 0x7f;
    push(
        "unknown-suite",
        suite,
        base_ctx.clone(),
        "unsupported_suite",
    );
    let mut flags = base.clone();
    flags[3] = 0x80;
    push(
        "unknown-flag",
        flags,
        base_ctx.clone(),
        "unsupported_feature",
    );
    push(
        "truncated-header",
        base[..20].to_vec(),
        base_ctx.clone(),
        "truncated_envelope",
    );
    push(
        "truncated-tag",
        base[..base.len() - 17 - 13].to_vec(),
        base_ctx.clone(),
        "truncated_envelope",
    );
    push(
        "plaintext-json",
        b"{\"amount\":12.5}".to_vec(),
        base_ctx.clone(),
        "not_encrypted",
    );
    push("empty", Vec::new(), base_ctx, "not_encrypted");

    let doc = json!({
        "format": "mqseal envelope known-answer vectors",
        "envelope_version": 1,
        "keyring_note": "kek and dek are fixed test-vector keys; never use them for real data",
        "keyring": format!("mqseal-keyring 1\nkey {KEK_ID} {KEK_VERSION} {}\n", hex::encode(test_kek())),
        "vectors": vectors,
        "negative": negative,
    });
    println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
}
