"""Failing operations on a sentinel key-encryption key and a sentinel body: no exception
text, ``repr``/``str``, log record or native output contains either sentinel, raw, in hex
or in base64."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Callable, List

import pytest

import mqseal
from mqseal import _native
from test_error_paths import write_keyring
from test_provider import HookedProvider, cipher_with

#: Test vector: a 32-byte KEK of printable text, so a leak of it is easy to spot.
SENTINEL_KEK = b"mqseal-sentinel-KEK-0123456789AB"
SENTINEL_BODY = b"SENTINEL-PLAINTEXT-4f1c9a7e-card-4111111111111111"
TOPIC = {"topic": "orders"}


def leak_forms(secret: bytes) -> List[str]:
    """Return the forms in which ``secret`` could leak into text."""
    forms = [secret.decode("latin-1"), secret.hex(), secret.hex().upper(), repr(secret)[2:-1]]
    forms.append(str(list(secret)))
    # Base64 at each of the three alignments a longer encoded text can have, without the
    # edge characters that depend on neighbouring bytes.
    for shift in range(3):
        shifted = bytes(shift) + secret
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(shifted).decode().rstrip("=")
            skip = (shift * 8 + 5) // 6
            forms.append(encoded[skip:-2])
    return forms


def assert_no_sentinel(text: str, where: str) -> None:
    for secret in (SENTINEL_KEK, SENTINEL_BODY):
        for form in leak_forms(secret):
            assert form not in text, f"{where} contains a sentinel form {form!r}"


def describe(error: BaseException) -> str:
    return f"{error!s}\n{error!r}\n{error.args!r}"


def test_leak_forms_find_encoded_sentinels() -> None:
    embedded = "x" + base64.b64encode(b"ab" + SENTINEL_KEK + b"cd").decode()
    with pytest.raises(AssertionError):
        assert_no_sentinel(embedded, "base64 at shift 2")
    with pytest.raises(AssertionError):
        assert_no_sentinel("key=" + SENTINEL_BODY.hex().upper(), "upper-case hex")


def test_failures_leak_no_sentinel(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keyring = write_keyring(
        tmp_path / "sentinel-keyring",
        f"mqseal-keyring 1\nkey k 1 {SENTINEL_KEK.hex()}\nprimary k 1\n",
    )
    other = tmp_path / "other-keyring"
    mqseal.keyring_generate(other, "k")
    texts: List[str] = []
    with mqseal.Cipher(keyring_path=keyring, key_ids="k", max_body_length=4096) as cipher, \
            mqseal.Cipher(keyring_path=other) as stranger:
        envelope = cipher.encrypt(SENTINEL_BODY, TOPIC, {"trace": "t-1"})
        decrypted = cipher.decrypt(envelope, TOPIC)
        assert decrypted.body == SENTINEL_BODY
        texts += [repr(decrypted), str(decrypted), repr(cipher), str(cipher)]
        texts += [str(cipher.counters()), repr(mqseal.inspect(envelope))]

        failures: List[Callable[[], object]] = []
        for i in range(0, len(envelope), 3):
            tampered = bytearray(envelope)
            tampered[i] ^= 0x40
            failures.append(lambda t=bytes(tampered): cipher.decrypt(t, TOPIC))
        for length in range(0, len(envelope), 5):
            failures.append(lambda n=length: cipher.decrypt_body(envelope[:n], TOPIC))
        failures += [
            lambda: cipher.decrypt(envelope, {"topic": "other"}),
            lambda: stranger.decrypt_body(envelope, TOPIC),
            lambda: cipher.decrypt(SENTINEL_BODY),
            lambda: mqseal.inspect(SENTINEL_BODY),
            lambda: cipher.encrypt(SENTINEL_BODY * 100),
            lambda: cipher.encrypt(SENTINEL_BODY, {"": "x"}),
            lambda: mqseal.Cipher.from_config(
                f"keyring.path = {keyring}\nkey_id = k\nlimits.max_messages = not-a-number"
            ),
            _native._debug_panic,
        ]
        for index, failure in enumerate(failures):
            with pytest.raises(mqseal.MqsealError) as info:
                failure()
            texts.append(describe(info.value))
    texts.append(repr(cipher))
    texts += [record.getMessage() for record in caplog.records]
    captured = capfd.readouterr()
    texts += [captured.out, captured.err]
    assert len(texts) > 30
    for index, text in enumerate(texts):
        assert_no_sentinel(text, f"text {index}")


def test_provider_message_stays_in_cause() -> None:
    provider = HookedProvider()
    with cipher_with(provider) as producer:
        envelope = producer.encrypt(SENTINEL_BODY)

    def leaky(key: bytes) -> bytes:
        raise RuntimeError(f"client dumped key {SENTINEL_KEK.hex()}")

    provider.hook = leaky
    with cipher_with(provider) as consumer:
        with pytest.raises(mqseal.ProviderDeniedError) as info:
            consumer.decrypt_body(envelope)
    assert_no_sentinel(describe(info.value), "mqseal error")
    assert SENTINEL_KEK.hex() in str(info.value.__cause__)
