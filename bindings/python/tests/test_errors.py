"""Errors: the code-to-class mapping, failed decryptions, tampering, closing, panics."""

from __future__ import annotations

import pickle
import threading
from pathlib import Path

import pytest

import mqseal
from mqseal import errors
from conftest import KEY_ID, TOPIC

# The expected class of every code the core defines, by name. A new core code fails
# test_every_core_code_has_an_expected_class until it is added here.
EXPECTED_CLASS = {
    "invalid_argument": mqseal.InvalidArgumentError,
    "null_argument": mqseal.InvalidArgumentError,
    "buffer_too_small": mqseal.BufferTooSmallError,
    "invalid_config": mqseal.InvalidArgumentError,
    "handle_closed": mqseal.HandleClosedError,
    "malformed_envelope": mqseal.MalformedEnvelopeError,
    "truncated_envelope": mqseal.MalformedEnvelopeError,
    "not_encrypted": mqseal.NotEncryptedError,
    "unsupported_version": mqseal.UnsupportedEnvelopeError,
    "unsupported_suite": mqseal.UnsupportedEnvelopeError,
    "unsupported_feature": mqseal.UnsupportedEnvelopeError,
    "authentication_failed": mqseal.AuthenticationFailedError,
    "key_commitment_mismatch": mqseal.AuthenticationFailedError,
    "key_not_found": mqseal.KeyNotFoundError,
    "key_version_not_found": mqseal.KeyNotFoundError,
    "provider_unavailable": mqseal.ProviderUnavailableError,
    "provider_throttled": mqseal.ProviderUnavailableError,
    "provider_timeout": mqseal.ProviderUnavailableError,
    "provider_denied": mqseal.ProviderDeniedError,
    "key_disabled": mqseal.ProviderDeniedError,
    "provider_invalid_response": mqseal.ProviderDeniedError,
    "usage_limit_exceeded": mqseal.UsageLimitExceededError,
    "internal": mqseal.InternalError,
    "panic": mqseal.InternalError,
}


def test_every_core_code_has_an_expected_class() -> None:
    names = [name for _code, name, _retryable in mqseal._native.error_codes()]
    assert sorted(names) == sorted(EXPECTED_CLASS)
    assert dict(mqseal.ERROR_CODES)["authentication_failed"] == 400


@pytest.mark.parametrize(("code", "name", "retryable"), mqseal._native.error_codes())
def test_every_error_code_maps_to_its_class(code: int, name: str, retryable: bool) -> None:
    error = errors._from_native(code, name, retryable, f"message of {name}", None)
    assert type(error) is EXPECTED_CLASS[name]
    assert isinstance(error, mqseal.MqsealError)
    assert error.code == code
    assert error.name == name
    assert error.retryable is retryable
    assert error.message == f"message of {name}"
    assert str(error) == f"message of {name} [{name}]"


def test_only_provider_transients_are_retryable() -> None:
    retryable = {name for _c, name, r in mqseal._native.error_codes() if r}
    assert retryable == {"provider_unavailable", "provider_throttled", "provider_timeout"}


def test_unknown_codes_map_to_their_block() -> None:
    assert errors.error_class(199) is mqseal.InvalidArgumentError
    assert errors.error_class(450) is mqseal.AuthenticationFailedError
    assert errors.error_class(650) is mqseal.ProviderUnavailableError
    assert errors.error_class(950) is mqseal.InternalError
    assert errors.error_class(0) is mqseal.InternalError
    assert errors.error_class(12345) is mqseal.InternalError


def test_errors_survive_pickling() -> None:
    error = errors._from_native(102, "buffer_too_small", False, "too small", 120)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is mqseal.BufferTooSmallError
    assert copy.code == 102
    assert copy.required_size == 120
    assert str(copy) == str(error)


def test_invalid_argument_is_a_value_error() -> None:
    assert issubclass(mqseal.InvalidArgumentError, ValueError)
    assert issubclass(mqseal.NotEncryptedError, mqseal.MalformedEnvelopeError)


def test_context_mismatch(cipher: mqseal.Cipher) -> None:
    envelope = cipher.encrypt(b"x", TOPIC)
    for context in [{"topic": "refunds"}, None, {}, {"topic": "orders", "app": "x"}]:
        with pytest.raises(mqseal.AuthenticationFailedError) as info:
            cipher.decrypt(envelope, context)
        assert info.value.code == 400
        assert info.value.retryable is False


def test_not_encrypted(cipher: mqseal.Cipher) -> None:
    for body in [b"", b'{"order": 1}', b"plain text", bytearray(b"\x00\x01")]:
        with pytest.raises(mqseal.NotEncryptedError) as info:
            cipher.decrypt(body)
        assert info.value.code == 202
    with pytest.raises(mqseal.NotEncryptedError):
        mqseal.inspect(b"plain")


def test_every_single_byte_flip_raises(cipher: mqseal.Cipher) -> None:
    envelope = cipher.encrypt(b"tamper me", TOPIC, {"p": "v"})
    failures: dict = {}
    for position in range(len(envelope)):
        for mask in (0x01, 0x80, 0xFF):
            tampered = bytearray(envelope)
            tampered[position] ^= mask
            with pytest.raises(mqseal.MqsealError) as info:
                cipher.decrypt(bytes(tampered), TOPIC)
            failures[info.value.name] = failures.get(info.value.name, 0) + 1
    assert failures["authentication_failed"] > 0
    assert sum(failures.values()) == 3 * len(envelope)


def test_every_truncation_raises(cipher: mqseal.Cipher) -> None:
    envelope = cipher.encrypt(b"truncate me", TOPIC)
    for length in range(len(envelope)):
        with pytest.raises(mqseal.MqsealError):
            cipher.decrypt(envelope[:length], TOPIC)


def test_wrong_keyring_fails_authentication(cipher: mqseal.Cipher, tmp_path: Path) -> None:
    envelope = cipher.encrypt(b"x", TOPIC)
    other = tmp_path / "other-keyring"
    mqseal.keyring_generate(other, KEY_ID)
    with mqseal.Cipher(keyring_path=other) as stranger:
        with pytest.raises(mqseal.AuthenticationFailedError):
            stranger.decrypt(envelope, TOPIC)


def test_closed_cipher_raises(cipher: mqseal.Cipher) -> None:
    envelope = cipher.encrypt(b"x")
    assert cipher.closed is False
    cipher.close()
    cipher.close()
    assert cipher.closed is True
    assert "closed" in repr(cipher)
    calls = [
        lambda: cipher.encrypt(b"x"),
        lambda: cipher.decrypt(envelope),
        lambda: cipher.decrypt_body(envelope),
        lambda: cipher.encrypted_length(1),
        lambda: cipher.rewrap(envelope),
        lambda: cipher.rotate(),
        lambda: cipher.counters(),
    ]
    for call in calls:
        with pytest.raises(mqseal.HandleClosedError) as info:
            call()
        assert info.value.code == 104


def test_context_manager_closes(keyring_path: Path) -> None:
    with mqseal.Cipher(keyring_path=keyring_path, key_ids=KEY_ID) as c:
        assert c.closed is False
    assert c.closed is True


def test_close_while_other_threads_encrypt(cipher: mqseal.Cipher) -> None:
    outcomes = {"ok": 0, "closed": 0, "other": []}
    lock = threading.Lock()
    start = threading.Barrier(5)

    def work() -> None:
        start.wait()
        for _ in range(200):
            try:
                envelope = cipher.encrypt(bytes(8192))
                assert len(envelope) > 8192
                with lock:
                    outcomes["ok"] += 1
            except mqseal.HandleClosedError:
                with lock:
                    outcomes["closed"] += 1
            except Exception as e:  # noqa: BLE001 - recorded and asserted below
                with lock:
                    outcomes["other"].append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    start.wait()
    cipher.close()
    for t in threads:
        t.join()
    assert outcomes["other"] == []
    assert outcomes["ok"] + outcomes["closed"] == 800
    assert outcomes["closed"] > 0


def test_panic_becomes_internal_error() -> None:
    for _ in range(3):
        with pytest.raises(mqseal.InternalError) as info:
            mqseal._native._debug_panic()
        assert info.value.code == 901
        assert info.value.name == "panic"
        assert "bug in mqseal" in info.value.message


def test_negative_vectors_name_their_codes_in_errors(vectors: dict, tmp_path: Path) -> None:
    path = tmp_path / "vector-keyring"
    path.write_text(vectors["keyring"], encoding="utf-8")
    path.chmod(0o600)
    with mqseal.Cipher(keyring_path=path) as c:
        for vector in vectors["negative"]:
            with pytest.raises(mqseal.MqsealError) as info:
                c.decrypt(bytes.fromhex(vector["envelope"]), vector["context"])
            assert type(info.value) is EXPECTED_CLASS[vector["error"]], vector["name"]
