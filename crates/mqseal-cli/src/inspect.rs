//! The `inspect` subcommand: prints an envelope's header fields without any key.

use mqseal_core::envelope::{FLAG_COMPRESSED, FLAG_CONTEXT_STORED, FLAG_SEALED_PROPERTIES};
use mqseal_core::{Envelope, TAG_LEN};
use serde_json::{Map, Value, json};

use crate::cli::InspectArgs;
use crate::error::CliError;
use crate::io::{escape_control, read_input};

/// Parses the envelope from the input and prints its header as text or JSON.
pub fn inspect(args: &InspectArgs) -> Result<(), CliError> {
    let input = read_input(args.input.as_deref())?;
    print!("{}", render(&input, args.json)?);
    Ok(())
}

/// Returns what `inspect` prints for `input`: the text report, or the JSON report and a
/// newline. The fuzz target `inspect` calls this with arbitrary bytes.
pub(crate) fn render(input: &[u8], json: bool) -> Result<String, CliError> {
    let envelope = Envelope::parse(input)?;
    let report = Report::new(&envelope)?;
    Ok(if json {
        format!("{}\n", report.to_json())
    } else {
        report.to_text()
    })
}

/// One wrapped data key, without its bytes.
struct KeyReport {
    key_id: String,
    key_version: u32,
    wrapped_len: usize,
}

/// The header fields that `inspect` prints. Holds no key material.
struct Report {
    version: u8,
    suite_name: &'static str,
    suite_id: u8,
    flags: u8,
    keys: Vec<KeyReport>,
    sequence: u32,
    stored_context: Option<Vec<(String, String)>>,
    header_len: usize,
    payload_len: usize,
}

impl Report {
    fn new(envelope: &Envelope<'_>) -> Result<Report, CliError> {
        let info = envelope.info()?;
        Ok(Report {
            version: info.version,
            suite_name: info.suite.name(),
            suite_id: info.suite.id(),
            flags: envelope.flags,
            keys: info
                .keys
                .iter()
                .map(|k| KeyReport {
                    key_id: k.key_id.clone(),
                    key_version: k.key_version,
                    wrapped_len: k.ciphertext.len(),
                })
                .collect(),
            sequence: info.sequence,
            stored_context: info.stored_context.map(|c| {
                c.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            }),
            header_len: info.header_len,
            payload_len: info.ciphertext_len,
        })
    }

    /// Bytes the envelope adds to the sealed plaintext: the header and the tag.
    fn overhead(&self) -> usize {
        self.header_len + TAG_LEN
    }

    fn total_len(&self) -> usize {
        self.header_len + self.payload_len + TAG_LEN
    }

    fn flag_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.flags & FLAG_COMPRESSED != 0 {
            names.push("compressed");
        }
        if self.flags & FLAG_SEALED_PROPERTIES != 0 {
            names.push("sealed-properties");
        }
        if self.flags & FLAG_CONTEXT_STORED != 0 {
            names.push("context-stored");
        }
        names
    }

    fn to_text(&self) -> String {
        let mut lines = vec![
            ("version".to_owned(), self.version.to_string()),
            (
                "suite".to_owned(),
                format!("{} (id {})", self.suite_name, self.suite_id),
            ),
        ];
        let flag_names = self.flag_names();
        let flag_list = if flag_names.is_empty() {
            "none".to_owned()
        } else {
            flag_names.join(", ")
        };
        lines.push((
            "flags".to_owned(),
            format!("0x{:02x} ({flag_list})", self.flags),
        ));
        for (index, key) in self.keys.iter().enumerate() {
            lines.push((
                format!("key {}", index + 1),
                format!(
                    "{} version {}, wrapped key {} bytes",
                    escape_control(&key.key_id),
                    key.key_version,
                    key.wrapped_len
                ),
            ));
        }
        lines.push(("sequence".to_owned(), self.sequence.to_string()));
        let context = match &self.stored_context {
            None => "not stored".to_owned(),
            Some(entries) if entries.is_empty() => "stored, empty".to_owned(),
            Some(entries) => entries
                .iter()
                .map(|(k, v)| format!("{}={}", escape_control(k), escape_control(v)))
                .collect::<Vec<_>>()
                .join(", "),
        };
        lines.push(("context".to_owned(), context));
        lines.push(("header".to_owned(), format!("{} bytes", self.header_len)));
        lines.push(("payload".to_owned(), format!("{} bytes", self.payload_len)));
        lines.push(("tag".to_owned(), format!("{TAG_LEN} bytes")));
        lines.push(("total".to_owned(), format!("{} bytes", self.total_len())));
        lines.push((
            "overhead".to_owned(),
            format!("{} bytes (header and tag)", self.overhead()),
        ));

        let mut out = String::new();
        let width = lines
            .iter()
            .map(|(label, _)| label.len() + 1)
            .max()
            .unwrap_or(0);
        for (label, value) in lines {
            let label = format!("{label}:");
            out.push_str(&format!("{label:<width$}  {value}\n"));
        }
        out
    }

    fn to_json(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| {
                json!({
                    "key_id": k.key_id,
                    "key_version": k.key_version,
                    "wrapped_key_len": k.wrapped_len,
                })
            })
            .collect();
        let stored_context = self.stored_context.as_ref().map(|entries| {
            entries
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<Map<String, Value>>()
        });
        json!({
            "version": self.version,
            "suite": self.suite_name,
            "suite_id": self.suite_id,
            "flags": self.flags,
            "compressed": self.flags & FLAG_COMPRESSED != 0,
            "sealed_properties": self.flags & FLAG_SEALED_PROPERTIES != 0,
            "context_stored": self.flags & FLAG_CONTEXT_STORED != 0,
            "keys": keys,
            "sequence": self.sequence,
            "stored_context": stored_context,
            "header_len": self.header_len,
            "payload_len": self.payload_len,
            "tag_len": TAG_LEN,
            "total_len": self.total_len(),
            "overhead": self.overhead(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use mqseal_core::provider::KeyringFile;
    use mqseal_core::{
        Cipher, CipherConfig, Context, EncryptOptions, KeyProvider, LocalKeyring, Suite,
    };

    use super::*;

    fn sample_envelope(store_context: bool) -> Vec<u8> {
        let mut ring = KeyringFile::default();
        ring.generate("orders").expect("generate key");
        let provider: Arc<dyn KeyProvider> = Arc::new(LocalKeyring::from_file(ring));
        let config = CipherConfig {
            suite: Suite::ChaCha20Poly1305,
            key_ids: vec!["orders".to_owned()],
            store_context,
            ..CipherConfig::default()
        };
        let cipher = Cipher::new(config, vec![provider]).expect("cipher");
        let context = Context::from_pairs([("topic", "orders")]).expect("context");
        let options = EncryptOptions {
            context: Some(&context),
            properties: None,
        };
        cipher.encrypt(b"0123456789", &options).expect("encrypt")
    }

    #[test]
    fn text_report_lists_header_fields() {
        let bytes = sample_envelope(true);
        let report = Report::new(&Envelope::parse(&bytes).expect("parse")).expect("report");
        let text = report.to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "version:   1");
        assert_eq!(lines[1], "suite:     chacha20-poly1305 (id 2)");
        assert_eq!(lines[2], "flags:     0x04 (context-stored)");
        assert_eq!(
            lines[3],
            "key 1:     orders version 1, wrapped key 40 bytes"
        );
        assert_eq!(lines[4], "sequence:  0");
        assert_eq!(lines[5], "context:   topic=orders");
        assert_eq!(lines[7], "payload:   10 bytes");
        assert_eq!(lines[8], "tag:       16 bytes");
        assert_eq!(lines[9], format!("total:     {} bytes", bytes.len()));
        assert_eq!(
            lines[10],
            format!("overhead:  {} bytes (header and tag)", bytes.len() - 10)
        );
    }

    #[test]
    fn json_report_lengths_add_up() {
        let bytes = sample_envelope(false);
        let report = Report::new(&Envelope::parse(&bytes).expect("parse")).expect("report");
        let json = report.to_json();
        assert_eq!(json["suite"], "chacha20-poly1305");
        assert_eq!(json["stored_context"], Value::Null);
        assert_eq!(json["context_stored"], false);
        assert_eq!(json["keys"][0]["key_id"], "orders");
        assert_eq!(json["keys"][0]["wrapped_key_len"], 40);
        assert_eq!(json["payload_len"], 10);
        assert_eq!(json["total_len"], bytes.len());
        let header = json["header_len"].as_u64().expect("header_len is a number");
        assert_eq!(json["overhead"], header + TAG_LEN as u64);
    }
}
