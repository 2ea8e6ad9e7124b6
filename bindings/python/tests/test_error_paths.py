"""Every error code produced for real from Python where a real trigger exists, and
through the test-only ``_debug_raise`` for the rest; no leaked native objects."""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Callable, Dict

import pytest

import mqseal
from mqseal import _native, errors
from test_provider import HookedProvider, cipher_with

CODES = {name: (code, retryable) for code, name, retryable in _native.error_codes()}


def write_keyring(path: Path, text: str) -> Path:
    """Write keyring text with mode 0600, as the keyring requires."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)
    return path


def patched(envelope: bytes, offset: int, value: int) -> bytes:
    copy = bytearray(envelope)
    copy[offset] = value
    return bytes(copy)


def provider_unwrap_failure(hook: Callable[[bytes], object]) -> None:
    """Encrypt with a healthy provider, then decrypt with a fresh cipher whose unwrap uses hook."""
    provider = HookedProvider()
    with cipher_with(provider) as producer:
        envelope = producer.encrypt(b"body")
    provider.hook = hook
    with cipher_with(provider) as consumer:
        consumer.decrypt_body(envelope)


def raising(code: int) -> Callable[[bytes], object]:
    name = next(n for n, (c, _) in CODES.items() if c == code)

    def hook(key: bytes) -> object:
        raise errors.error_class(code)(code, name, CODES[name][1], "provider test failure")

    return hook


def real_failures(tmp_path: Path) -> Dict[str, Callable[[], object]]:
    keyring = tmp_path / "keyring"
    mqseal.keyring_generate(keyring, "k")
    cipher = mqseal.Cipher(keyring_path=keyring, key_ids="k", max_body_length=64)
    envelope = cipher.encrypt(b"body", {"topic": "orders"})
    version_two = write_keyring(
        tmp_path / "version-two", f"mqseal-keyring 1\nkey k 2 {'cd' * 32}\nprimary k 2\n"
    )
    closed = mqseal.Cipher(keyring_path=keyring)
    closed.close()

    def flipped_key(key: bytes) -> bytes:
        return key[:-1] + bytes([key[-1] ^ 1])

    return {
        "invalid_argument": lambda: cipher.encrypted_length(-1),
        "invalid_config": lambda: mqseal.Cipher(keyring_path=keyring, max_messages_per_key=0),
        "handle_closed": lambda: closed.decrypt_body(envelope),
        "malformed_envelope": lambda: cipher.decrypt(patched(envelope, 4, 0)),
        "truncated_envelope": lambda: cipher.decrypt(envelope[:8]),
        "not_encrypted": lambda: cipher.decrypt(b'{"order": 1}'),
        "unsupported_version": lambda: cipher.decrypt(patched(envelope, 1, 2)),
        "unsupported_suite": lambda: cipher.decrypt(patched(envelope, 2, 9)),
        "unsupported_feature": lambda: cipher.decrypt(patched(envelope, 3, 8)),
        "authentication_failed": lambda: cipher.decrypt(envelope, {"topic": "other"}),
        "key_commitment_mismatch": lambda: provider_unwrap_failure(flipped_key),
        "key_not_found": lambda: mqseal.Cipher(keyring_path=keyring, key_ids="missing").encrypt(
            b"x"
        ),
        "key_version_not_found": lambda: mqseal.Cipher(keyring_path=version_two).decrypt(
            envelope, {"topic": "orders"}
        ),
        "provider_unavailable": lambda: provider_unwrap_failure(raising(600)),
        "provider_throttled": lambda: provider_unwrap_failure(raising(601)),
        "provider_timeout": lambda: provider_unwrap_failure(raising(602)),
        "provider_denied": lambda: provider_unwrap_failure(raising(700)),
        "key_disabled": lambda: provider_unwrap_failure(raising(701)),
        "provider_invalid_response": lambda: provider_unwrap_failure(lambda key: key[:31]),
        "usage_limit_exceeded": lambda: cipher.encrypt(bytes(65)),
        "panic": _native._debug_panic,
    }


def check_error(error: mqseal.MqsealError, name: str) -> None:
    code, retryable = CODES[name]
    assert type(error) is errors.error_class(code), name
    assert error.code == code, name
    assert error.name == name
    assert error.retryable is retryable, name
    assert error.message, name


def test_every_code_reaches_python_for_real(tmp_path: Path) -> None:
    gc.collect()
    before = _native._debug_live_objects()
    cases = real_failures(tmp_path)
    for name, call in cases.items():
        with pytest.raises(mqseal.MqsealError) as info:
            call()
        check_error(info.value, name)
    # Only these lack a real trigger from Python: Python reports a None argument as
    # TypeError, it has no caller-supplied output buffer, and `internal` is a bug.
    missing = set(CODES) - set(cases)
    assert missing == {"null_argument", "buffer_too_small", "internal"}
    for name in sorted(missing):
        with pytest.raises(mqseal.MqsealError) as info:
            _native._debug_raise(CODES[name][0], 128)
        check_error(info.value, name)
        if name == "buffer_too_small":
            assert info.value.required_size == 128
    del cases
    gc.collect()
    after = _native._debug_live_objects()
    assert after[0] <= before[0], "Cipher objects leaked"
    assert after[1] <= before[1], "key providers leaked"


@pytest.mark.parametrize(("code", "name", "retryable"), _native.error_codes())
def test_debug_raise_maps_every_code(code: int, name: str, retryable: bool) -> None:
    with pytest.raises(mqseal.MqsealError) as info:
        _native._debug_raise(code)
    check_error(info.value, name)
    assert info.value.__cause__ is None


def test_debug_raise_rejects_unknown_code() -> None:
    with pytest.raises(mqseal.InvalidArgumentError, match="12345"):
        _native._debug_raise(12345)


def test_cipher_is_freed_after_close(tmp_path: Path) -> None:
    import weakref

    keyring = tmp_path / "keyring"
    mqseal.keyring_generate(keyring, "k")
    gc.collect()
    before = _native._debug_live_objects()
    cipher = mqseal.Cipher(keyring_path=keyring, key_ids="k")
    assert _native._debug_live_objects()[0] == before[0] + 1
    with pytest.raises(mqseal.AuthenticationFailedError):
        cipher.decrypt(cipher.encrypt(b"x"), {"topic": "other"})
    ref = weakref.ref(cipher)
    cipher.close()
    del cipher
    gc.collect()
    assert ref() is None
    assert _native._debug_live_objects() == before
