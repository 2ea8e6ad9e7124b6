#!/usr/bin/env python3
"""Write the seed corpus of every fuzz target into fuzz/corpus/<target>/.

Envelope seeds are the positive and negative vectors of tests/vectors/v1.json,
hex-decoded, one file per vector named after it. The other targets get small
hand-made seeds. Run from anywhere: python3 fuzz/write-seeds.py
"""

import json
import struct
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
VECTORS = json.loads((FUZZ.parent / "tests/vectors/v1.json").read_text())
CORPUS = FUZZ / "corpus"


def write(target, name, data):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def encode_attributes(pairs):
    """Canonical map encoding: u16 count, then u16-length-prefixed keys and values."""
    out = struct.pack(">H", len(pairs))
    for key, value in sorted(pairs.items(), key=lambda kv: kv[0].encode()):
        out += struct.pack(">H", len(key.encode())) + key.encode()
        out += struct.pack(">H", len(value.encode())) + value.encode()
    return out


def blob(data):
    """Return `data` length-prefixed, as the ffi_entry harness reads a byte string."""
    data = data if isinstance(data, bytes) else data.encode()
    if len(data) < 0xFF:
        return bytes([len(data)]) + data
    return b"\xff" + struct.pack("<H", len(data)) + data


def envelope_seeds():
    for kind in ("vectors", "negative"):
        for vector in VECTORS[kind]:
            envelope = bytes.fromhex(vector["envelope"])
            for target in ("decrypt", "envelope_parse", "inspect"):
                write(target, f"{kind}-{vector['name']}", envelope)


def attribute_seeds():
    write("attributes_decode", "empty", encode_attributes({}))
    for vector in VECTORS["vectors"]:
        write("attributes_decode", f"context-{vector['name']}", encode_attributes(vector["context"]))
        if vector.get("properties"):
            write(
                "attributes_decode",
                f"properties-{vector['name']}",
                encode_attributes(vector["properties"]),
            )


def keyring_seeds():
    keyring = VECTORS["keyring"]
    write("keyring_parse", "test-vector-keyring", keyring)
    write(
        "keyring_parse",
        "two-versions-primary",
        keyring
        + "# rotated\nkey test-kek 2 " + "ab" * 32 + "\nprimary test-kek 1\n"
        + "key other.kek/a:b_c 7 " + "0F" * 32 + "\n",
    )
    write("keyring_parse", "header-only", "mqseal-keyring 1\n")


def config_seeds():
    write(
        "config_parse",
        "every-setting",
        "# every setting\nmqseal.provider = keyring\nkeyring.path = /tmp/ring\nkey_id = a, b\n"
        "suite = chacha20-poly1305\nbackend = rustcrypto\nlimits.max_messages = 100\n"
        "limits.max_bytes = 1_000_000\nlimits.max_age_seconds = 60\ncache.capacity = 5\n"
        "cache.ttl_seconds = 10\ncompression = lz4\ncompression.min_size = 10\n"
        "max_body_len = 4096\ncontext.store = true\n",
    )
    write("config_parse", "callback", "provider: callback\nkey_ids = kms-a\n! comment\n")


def ffi_seeds():
    # Byte programs for fuzz_targets/ffi_entry.rs: an operation byte, its arguments, then
    # one byte that runs a miscellaneous operation when its low nibble is 0xF.
    config_cipher = b"\x01" + blob("") + b"\x02\x07" + b"\x00"
    new_attributes = b"\x03\x00" + b"\x00"
    set_topic = b"\x03\x01\x00" + blob("topic") + blob("orders") + b"\x00" + b"\x00"
    encrypt = b"\x04\x00\x00\x07" + blob("hello") + b"\x02\x02" + b"\x00"
    decrypt = b"\x05\x00\x00\x00\xff\x02\x08" + b"\x00"
    decrypt_into = b"\x05\x00\x00\x00\xff\x02\x04\x03" + b"\x0f\x01\x00\x00"
    inspect = b"\x07\x00\xff\x02\x00" + b"\x00"
    write(
        "ffi_entry",
        "config-encrypt-decrypt",
        config_cipher + new_attributes + set_topic + encrypt + decrypt + decrypt_into + inspect,
    )

    options_cipher = b"\x00" + blob("") + blob("") + b"\x03\x07\x00" + b"\x00"
    encrypt_into = b"\x04\x00\x07\x07" + blob("abc") + b"\x02\x01\x03\x00" + b"\x00"
    write("ffi_entry", "options-encrypt-into", options_cipher + encrypt_into + encrypt + inspect)

    provider = b"\x02" + blob("fuzz") + blob("fuzz-kek") + b"\x00" + b"\x00"
    provider_cipher = b"\x00" + blob("fuzz-kek") + blob("") + b"\x06\x00\x00" + b"\x00"
    write("ffi_entry", "callback-provider", provider + provider_cipher + encrypt + decrypt)

    vector = VECTORS["vectors"][1]
    envelope = bytes.fromhex(vector["envelope"])
    decrypt_vector = b"\x05\x00\x00\x07" + blob(envelope) + b"\x02\x08" + b"\x00"
    write(
        "ffi_entry",
        "decrypt-vector",
        config_cipher + new_attributes + set_topic + decrypt_vector,
    )
    write("ffi_entry", "null-arguments", b"\x04\x07\x07\x07\x00\x00\x02\x02\x0f\x02\x00\x00")


def main():
    envelope_seeds()
    attribute_seeds()
    keyring_seeds()
    config_seeds()
    ffi_seeds()


if __name__ == "__main__":
    main()
