//! Checks that `Attributes::decode` does not panic on arbitrary bytes, and that whatever
//! decodes re-encodes to the input bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqseal_core::Attributes;

fuzz_target!(|data: &[u8]| {
    let Ok(map) = Attributes::decode(data) else {
        return;
    };
    assert_eq!(map.encode(), data, "decode then encode changed the bytes");
    assert_eq!(map.encoded_len(), data.len());

    let mut appended = vec![0xAA];
    map.encode_into(&mut appended);
    assert_eq!(&appended[1..], data, "encode_into differs from encode");

    // Rebuilding the map entry by entry gives the same map.
    let rebuilt = Attributes::from_pairs(map.iter()).expect("entries of a decoded map are valid");
    assert_eq!(rebuilt, map);
});
