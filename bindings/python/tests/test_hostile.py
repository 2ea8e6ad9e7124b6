"""Hostile envelopes and arguments: each ends in the documented exception, never a crash,
a hang or a silent success."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict

import pytest

import mqseal
from test_error_paths import patched, write_keyring

TOPIC = {"topic": "orders"}
ENVELOPE_ERRORS = (
    mqseal.AuthenticationFailedError,
    mqseal.MalformedEnvelopeError,
    mqseal.UnsupportedEnvelopeError,
    mqseal.KeyNotFoundError,
)
CONFIGURATIONS = [
    ("aes-256-gcm", False),
    ("aes-256-gcm", True),
    ("chacha20-poly1305", False),
    ("chacha20-poly1305", True),
]


def make_cipher(tmp_path: Path, suite: str = "aes-256-gcm", compression: bool = False):
    keyring = tmp_path / "keyring"
    if not keyring.exists():
        mqseal.keyring_generate(keyring, "k")
    return mqseal.Cipher(
        keyring_path=keyring,
        key_ids="k",
        suite=suite,
        compression=compression,
        compression_min_size=16,
    )


def compressible_body() -> bytes:
    return b"order=42;item=book;qty=1;" * 20


@pytest.mark.parametrize(("suite", "compression"), CONFIGURATIONS)
def test_every_bit_flip_raises(tmp_path: Path, suite: str, compression: bool) -> None:
    body = compressible_body()
    with make_cipher(tmp_path, suite, compression) as cipher:
        envelope = cipher.encrypt(body, TOPIC, {"trace": "t-1"})
        assert mqseal.inspect(envelope)["compressed"] is compression
        seen: Dict[str, int] = {}
        for bit in range(len(envelope) * 8):
            tampered = bytearray(envelope)
            tampered[bit // 8] ^= 1 << (bit % 8)
            # Alternate the input types, so both the in-place and the copied path run.
            data = bytes(tampered) if bit % 2 else tampered
            with pytest.raises(ENVELOPE_ERRORS) as info:
                cipher.decrypt(data, TOPIC)
            seen[info.value.name] = seen.get(info.value.name, 0) + 1
        assert seen["authentication_failed"] > 0
        assert sum(seen.values()) == len(envelope) * 8
        assert cipher.decrypt_body(envelope, TOPIC) == body
        assert cipher.counters()["decrypt_failures"] == len(envelope) * 8


@pytest.mark.parametrize(("suite", "compression"), CONFIGURATIONS)
def test_every_truncation_raises(tmp_path: Path, suite: str, compression: bool) -> None:
    with make_cipher(tmp_path, suite, compression) as cipher:
        envelope = cipher.encrypt(compressible_body(), TOPIC)
        for length in range(len(envelope)):
            with pytest.raises((mqseal.MalformedEnvelopeError, mqseal.AuthenticationFailedError)):
                cipher.decrypt_body(envelope[:length], TOPIC)


@pytest.mark.parametrize(
    ("offset", "value", "error", "code"),
    [
        (0, 0x7B, mqseal.NotEncryptedError, 202),
        (1, 0x02, mqseal.UnsupportedEnvelopeError, 300),
        (1, 0xFF, mqseal.UnsupportedEnvelopeError, 300),
        (2, 0x09, mqseal.UnsupportedEnvelopeError, 301),
        (3, 0x08, mqseal.UnsupportedEnvelopeError, 302),
        (4, 0x00, mqseal.MalformedEnvelopeError, 200),
    ],
)
def test_header_fields_map_to_codes(
    tmp_path: Path, offset: int, value: int, error: type, code: int
) -> None:
    with make_cipher(tmp_path) as cipher:
        envelope = cipher.encrypt(b"body", TOPIC)
        with pytest.raises(error) as info:
            cipher.decrypt(patched(envelope, offset, value), TOPIC)
        assert info.value.code == code


def test_wrong_context_key_and_version(tmp_path: Path) -> None:
    with make_cipher(tmp_path) as cipher:
        envelope = cipher.encrypt(b"body", TOPIC)
        with pytest.raises(mqseal.AuthenticationFailedError):
            cipher.decrypt(envelope, {"topic": "payments"})
        with pytest.raises(mqseal.AuthenticationFailedError):
            cipher.decrypt(envelope)
    other = tmp_path / "other"
    mqseal.keyring_generate(other, "k")
    with mqseal.Cipher(keyring_path=other) as stranger:
        with pytest.raises(mqseal.AuthenticationFailedError):
            stranger.decrypt(envelope, TOPIC)
    version_two = write_keyring(
        tmp_path / "version-two", f"mqseal-keyring 1\nkey k 2 {'ab' * 32}\nprimary k 2\n"
    )
    with mqseal.Cipher(keyring_path=version_two) as rotated:
        with pytest.raises(mqseal.KeyNotFoundError) as info:
            rotated.decrypt(envelope, TOPIC)
        assert info.value.code == 501


def test_plaintext_is_not_encrypted(tmp_path: Path) -> None:
    with make_cipher(tmp_path) as cipher:
        for body in [b"", b'{"order": 1}', b"<xml/>", bytearray(b"\x00\x01"), memoryview(b"ab")]:
            with pytest.raises(mqseal.NotEncryptedError):
                cipher.decrypt(body)
        with pytest.raises(mqseal.MalformedEnvelopeError):
            cipher.decrypt(b"\x8e")


def test_empty_and_maximum_bodies(tmp_path: Path) -> None:
    maximum = 64 * 1024
    keyring = tmp_path / "keyring"
    mqseal.keyring_generate(keyring, "k")
    with mqseal.Cipher(keyring_path=keyring, key_ids="k", max_body_length=maximum) as cipher:
        assert cipher.decrypt_body(cipher.encrypt(b"")) == b""
        largest = bytes([7]) * maximum
        envelope = cipher.encrypt(largest)
        assert cipher.decrypt_body(envelope) == largest
        with pytest.raises(mqseal.UsageLimitExceededError) as info:
            cipher.encrypt(largest + b"x")
        assert info.value.code == 800
    with mqseal.Cipher(keyring_path=keyring, max_body_length=maximum - 1) as small:
        with pytest.raises(mqseal.UsageLimitExceededError):
            small.decrypt_body(envelope)


def test_invalid_arguments(tmp_path: Path) -> None:
    cipher = make_cipher(tmp_path)
    envelope = cipher.encrypt(b"x")
    for call in [
        lambda: cipher.encrypt(None),  # type: ignore[arg-type]
        lambda: cipher.decrypt(None),  # type: ignore[arg-type]
        lambda: cipher.decrypt_body(12),  # type: ignore[arg-type]
        lambda: cipher.encrypt("text"),  # type: ignore[arg-type]
        lambda: cipher.encrypted_length(None),  # type: ignore[arg-type]
        lambda: mqseal.inspect(None),  # type: ignore[arg-type]
    ]:
        with pytest.raises(TypeError):
            call()
    for length in (-1, -(2**31), -(2**63)):
        with pytest.raises(mqseal.InvalidArgumentError) as info:
            cipher.encrypted_length(length)
        assert info.value.code == 100
    with pytest.raises(OverflowError):
        cipher.encrypted_length(2**64)
    cipher.close()
    cipher.close()
    with pytest.raises(mqseal.HandleClosedError):
        cipher.decrypt(envelope)


def test_sustained_threads_with_tiny_cache(tmp_path: Path) -> None:
    keyring = tmp_path / "keyring"
    mqseal.keyring_generate(keyring, "k")
    threads = 8
    rounds = 300
    with mqseal.Cipher(
        keyring_path=keyring, key_ids="k", cache_capacity=2, max_messages_per_key=1
    ) as cipher:

        def work(index: int) -> int:
            checked = 0
            previous = None
            for i in range(rounds):
                # Some bodies exceed the GIL release threshold, so both paths run.
                body = f"t{index}-{i}-".encode() * (i % 50 + 1) + bytes(5000 if i % 4 == 0 else 0)
                envelope = cipher.encrypt(body, TOPIC)
                if i % 2:
                    assert cipher.decrypt_body(envelope, TOPIC) == body
                else:
                    assert cipher.decrypt(bytearray(envelope), TOPIC).body == body
                checked += 1
                if previous is not None:
                    # The previous data key was probably evicted from the two-entry cache.
                    assert cipher.decrypt_body(previous[1], TOPIC) == previous[0]
                    checked += 1
                previous = (body, envelope)
            return checked

        with ThreadPoolExecutor(threads) as pool:
            total = sum(pool.map(work, range(threads)))
        assert total == threads * (2 * rounds - 1)
        counters = cipher.counters()
        assert counters["encrypted"] == threads * rounds
        assert counters["decrypt_failures"] == 0
        assert counters["data_keys_created"] >= threads * rounds
