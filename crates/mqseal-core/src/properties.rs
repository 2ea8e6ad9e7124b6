//! Names of the message properties that integrations set, in one table for every binding.
//!
//! The envelope is self-describing: decryption never reads these properties. They are
//! copies for operators and broker-side filters, and diagnostics on dead-lettered
//! messages. Every value is printable ASCII, because the RocketMQ proxy rejects control
//! characters and the remoting protocol uses 0x01 and 0x02 as separators.

/// Prefix of every property mqseal sets. RocketMQ reserves upper-case names, names
/// starting with `__` and a fixed list; this prefix collides with none of them.
pub const PREFIX: &str = "mqseal-";

/// Envelope format version, e.g. `1`.
pub const VERSION: &str = "mqseal-v";
/// Cipher suite name, e.g. `aes-256-gcm`.
pub const SUITE: &str = "mqseal-suite";
/// Key id of the first wrapped key.
pub const KEY_ID: &str = "mqseal-kid";
/// Key version of the first wrapped key.
pub const KEY_VERSION: &str = "mqseal-kver";
/// Logical topic the producer bound into the context.
pub const TOPIC: &str = "mqseal-topic";
/// Comma-separated names of properties sealed inside the envelope.
pub const SEALED: &str = "mqseal-sealed";
/// On a dead-lettered message: the numeric error code.
pub const ERROR_CODE: &str = "mqseal-error-code";
/// On a dead-lettered message: the error code name, e.g. `authentication_failed`.
pub const ERROR_NAME: &str = "mqseal-error";
/// On a dead-lettered message: `true` when a retry could help.
pub const ERROR_RETRYABLE: &str = "mqseal-error-retryable";

/// Context key under which integrations bind the logical topic.
pub const CONTEXT_TOPIC: &str = "topic";

/// Every property name above, with a one-line description, for documentation and for
/// bindings that check their own tables against this one.
pub const ALL: &[(&str, &str)] = &[
    (VERSION, "envelope format version"),
    (SUITE, "cipher suite name"),
    (KEY_ID, "key id of the first wrapped key"),
    (KEY_VERSION, "key version of the first wrapped key"),
    (TOPIC, "logical topic bound into the context"),
    (SEALED, "names of the properties sealed inside the envelope"),
    (ERROR_CODE, "numeric error code of a dead-lettered message"),
    (ERROR_NAME, "error code name of a dead-lettered message"),
    (
        ERROR_RETRYABLE,
        "whether a retry could help a dead-lettered message",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn names_share_the_prefix_and_are_printable() {
        for (name, _) in super::ALL {
            assert!(name.starts_with(super::PREFIX), "{name}");
            assert!(name.bytes().all(|b| b.is_ascii_graphic()), "{name}");
        }
    }
}
