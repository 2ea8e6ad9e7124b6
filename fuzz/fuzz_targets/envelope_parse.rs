//! Checks that `Envelope::parse` and `Envelope::info` do not panic on arbitrary bytes, and
//! that every envelope that parses covers its input exactly and re-parses to the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqseal_core::{Attributes, Envelope, TAG_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(envelope) = Envelope::parse(data) else {
        return;
    };
    let info = envelope.info();

    // The parsed parts cover the input exactly: header, ciphertext, tag.
    let mut rebuilt = envelope.header.to_vec();
    rebuilt.extend_from_slice(envelope.ciphertext);
    rebuilt.extend_from_slice(envelope.tag);
    assert_eq!(
        rebuilt, data,
        "header + ciphertext + tag differ from the input"
    );
    assert_eq!(
        envelope.header.len() + envelope.ciphertext.len() + TAG_LEN,
        data.len()
    );
    assert!(
        !envelope.keys.is_empty(),
        "an envelope that parses has a wrapped key"
    );
    assert!(envelope.keys_end <= envelope.header.len());

    // A stored context that the parser accepted is canonical.
    if let Some(stored) = envelope.stored_context {
        let context = Attributes::decode(stored).expect("the parser accepted this context");
        assert_eq!(context.encode(), stored, "stored context is not canonical");
    }

    // Parsing the rebuilt bytes gives the same fields.
    let again = Envelope::parse(&rebuilt).expect("rebuilt bytes of a parsed envelope parse");
    assert_eq!(format!("{envelope:?}"), format!("{again:?}"));
    match (info, again.info()) {
        (Ok(first), Ok(second)) => {
            assert_eq!(first, second);
            assert_eq!(first.header_len, envelope.header.len());
            assert_eq!(first.ciphertext_len, envelope.ciphertext.len());
            assert_eq!(first.keys.len(), envelope.keys.len());
        }
        (Err(first), Err(second)) => assert_eq!(first.code(), second.code()),
        (first, second) => panic!("info() differs between parses: {first:?} vs {second:?}"),
    }
});
