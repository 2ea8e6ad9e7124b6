"""Key providers implemented in Python: round trips, failure mapping, threads, lifecycle."""

from __future__ import annotations

import gc
import hashlib
import hmac
import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

import pytest

import mqseal
from mqseal import _native

KEY_ID = "kms/orders"


class HmacWrapProvider:
    """Wraps data keys under versioned 32-byte KEKs drawn from ``os.urandom`` at test time.

    The wrap is an encrypt-then-MAC construction from the standard library, test-only:
    ``nonce || (key XOR HMAC-SHA256(kek, "pad" || nonce)) || HMAC-SHA256(kek, "tag" ||
    key_id || nonce || masked)``.
    """

    def __init__(self, key_id: str = KEY_ID) -> None:
        self.key_id = key_id
        self.keks: Dict[int, bytes] = {1: os.urandom(32)}
        self.primary = 1
        self.wraps = 0
        self.unwraps = 0
        self.lock = threading.Lock()

    def recognizes(self, key_id: str) -> bool:
        return key_id == self.key_id

    def _tag(self, kek: bytes, key_id: str, nonce: bytes, masked: bytes) -> bytes:
        return hmac.new(kek, b"tag" + key_id.encode() + nonce + masked, hashlib.sha256).digest()

    def wrap(self, key_id: str, data_key: bytearray) -> Tuple[int, bytes]:
        with self.lock:
            self.wraps += 1
        kek = self.keks[self.primary]
        nonce = os.urandom(16)
        pad = hmac.new(kek, b"pad" + nonce, hashlib.sha256).digest()
        masked = bytes(a ^ b for a, b in zip(data_key, pad))
        return self.primary, nonce + masked + self._tag(kek, key_id, nonce, masked)

    def unwrap(self, key_id: str, key_version: int, wrapped_key: bytes) -> bytes:
        with self.lock:
            self.unwraps += 1
        kek = self.keks.get(key_version)
        if kek is None:
            raise mqseal.KeyNotFoundError(501, "key_version_not_found", False, "no such version")
        nonce, masked, tag = wrapped_key[:16], wrapped_key[16:48], wrapped_key[48:]
        if not hmac.compare_digest(tag, self._tag(kek, key_id, nonce, masked)):
            raise mqseal.ProviderDeniedError("wrapped key failed authentication")
        pad = hmac.new(kek, b"pad" + nonce, hashlib.sha256).digest()
        return bytes(a ^ b for a, b in zip(masked, pad))

    def primary_version(self, key_id: str) -> Optional[int]:
        return self.primary


class HookedProvider(HmacWrapProvider):
    """An ``HmacWrapProvider`` whose unwrap result passes through ``hook``."""

    def __init__(self) -> None:
        super().__init__()
        self.hook: Callable[[bytes], object] = lambda key: key

    def unwrap(self, key_id: str, key_version: int, wrapped_key: bytes):  # type: ignore[override]
        return self.hook(super().unwrap(key_id, key_version, wrapped_key))


def cipher_with(provider: object, **settings) -> mqseal.Cipher:
    return mqseal.Cipher(key_providers=[provider], key_ids=KEY_ID, **settings)


def test_provider_round_trip() -> None:
    provider = HmacWrapProvider()
    body = b"order 42 shipped"
    with cipher_with(provider) as producer:
        envelope = producer.encrypt(body, {"topic": "orders"})
    assert provider.wraps == 1
    # A second cipher has an empty cache, so decryption calls unwrap.
    with cipher_with(provider) as consumer:
        decrypted = consumer.decrypt(envelope, {"topic": "orders"})
    assert decrypted.body == body
    assert decrypted.key_id == KEY_ID
    assert decrypted.key_version == 1
    assert provider.unwraps == 1


def test_provider_satisfies_protocol() -> None:
    assert isinstance(HmacWrapProvider(), mqseal.KeyProvider)


def test_large_bodies_call_provider_without_gil() -> None:
    provider = HmacWrapProvider()
    body = os.urandom(200_000)
    with cipher_with(provider) as producer:
        envelope = producer.encrypt(body)
        assert producer.encrypted_length(10) > 10
    with cipher_with(provider) as consumer:
        assert consumer.decrypt_body(bytearray(envelope)) == body


def test_generating_provider_round_trip() -> None:
    class Generating(HmacWrapProvider):
        generated = 0

        def generate_data_key(self, key_id: str) -> Tuple[int, bytearray, bytes]:
            Generating.generated += 1
            key = bytearray(os.urandom(32))
            version, wrapped = self.wrap(key_id, bytearray(key))
            return version, key, wrapped

    provider = Generating()
    with cipher_with(provider) as producer:
        envelope = producer.encrypt(b"generated")
    assert Generating.generated == 1
    with cipher_with(provider) as consumer:
        assert consumer.decrypt_body(envelope) == b"generated"


def test_provider_from_config_text() -> None:
    provider = HmacWrapProvider()
    text = f"provider = callback\nkey_id = {KEY_ID}\n"
    with mqseal.Cipher.from_config(text, key_provider=provider) as cipher:
        assert cipher.decrypt_body(cipher.encrypt(b"configured")) == b"configured"


def test_keyring_and_provider_together(keyring_path: Path) -> None:
    provider = HmacWrapProvider()
    with mqseal.Cipher(
        keyring_path=keyring_path, key_providers=[provider], key_ids=["orders", KEY_ID]
    ) as cipher:
        envelope = cipher.encrypt(b"both")
        assert [k["key_id"] for k in mqseal.inspect(envelope)["keys"]] == ["orders", KEY_ID]
        assert cipher.decrypt_body(envelope) == b"both"
    assert provider.wraps == 1


def test_key_bytearrays_are_zeroed() -> None:
    seen: Dict[str, bytearray] = {}

    class Recording(HmacWrapProvider):
        def wrap(self, key_id: str, data_key: bytearray) -> Tuple[int, bytes]:
            seen["wrap_input"] = data_key
            return super().wrap(key_id, data_key)

        def unwrap(self, key_id: str, key_version: int, wrapped_key: bytes) -> bytearray:
            key = bytearray(super().unwrap(key_id, key_version, wrapped_key))
            seen["unwrap_output"] = key
            return key

    provider = Recording()
    with cipher_with(provider) as producer:
        envelope = producer.encrypt(b"x")
    with cipher_with(provider) as consumer:
        consumer.decrypt_body(envelope)
    assert isinstance(seen["wrap_input"], bytearray)
    assert seen["wrap_input"] == bytearray(32)
    assert seen["unwrap_output"] == bytearray(32)


def decrypt_failure(hook: Callable[[bytes], object]) -> mqseal.MqsealError:
    """Encrypt with a healthy provider, then decrypt with a fresh cipher whose unwrap fails."""
    provider = HookedProvider()
    with cipher_with(provider) as producer:
        envelope = producer.encrypt(b"secret body")
    provider.hook = hook
    with cipher_with(provider) as consumer:
        with pytest.raises(mqseal.MqsealError) as info:
            consumer.decrypt_body(envelope)
    return info.value


def raiser(exception: BaseException) -> Callable[[bytes], object]:
    def hook(key: bytes) -> object:
        raise exception

    return hook


def test_unavailable_provider_is_retryable() -> None:
    raised = mqseal.ProviderUnavailableError("KMS is down")
    error = decrypt_failure(raiser(raised))
    assert type(error) is mqseal.ProviderUnavailableError
    assert error.code == 600
    assert error.retryable
    assert error.__cause__ is raised
    assert "HookedProvider.unwrap" in error.message


def test_throttled_code_is_kept() -> None:
    error = decrypt_failure(
        raiser(mqseal.ProviderUnavailableError(601, "provider_throttled", True, "slow down"))
    )
    assert error.code == 601
    assert error.retryable


def test_denied_provider_is_permanent() -> None:
    error = decrypt_failure(raiser(mqseal.ProviderDeniedError("key policy denies access")))
    assert type(error) is mqseal.ProviderDeniedError
    assert error.code == 700
    assert not error.retryable


def test_key_not_found_keeps_code() -> None:
    error = decrypt_failure(raiser(mqseal.KeyNotFoundError("key deleted")))
    assert type(error) is mqseal.KeyNotFoundError
    assert error.code == 500


@pytest.mark.parametrize(
    "exception, code",
    [
        (TimeoutError("timed out"), 602),
        (ConnectionResetError("reset"), 600),
        (OSError("no route to host"), 600),
        (ValueError("bug in the KMS client"), 700),
        (KeyError("x"), 700),
        (mqseal.AuthenticationFailedError("not a provider code"), 700),
    ],
)
def test_other_exceptions_map_to_codes(exception: BaseException, code: int) -> None:
    error = decrypt_failure(raiser(exception))
    assert error.code == code
    assert error.retryable == (code in (600, 601, 602))
    assert error.__cause__ is exception
    assert type(exception).__name__ in error.message
    assert "bug in the KMS client" not in error.message


@pytest.mark.parametrize(
    "result, fragment",
    [
        (b"\x01" * 16, "16 bytes"),
        (bytearray(33), "33 bytes"),
        (None, "NoneType"),
        ("a string key", "str"),
    ],
)
def test_bad_unwrap_results_are_invalid_responses(result: object, fragment: str) -> None:
    error = decrypt_failure(lambda key: result)
    assert type(error) is mqseal.ProviderDeniedError
    assert error.code == 702
    assert fragment in error.message


def test_flipped_key_fails_commitment() -> None:
    error = decrypt_failure(lambda key: bytes([key[0] ^ 1]) + key[1:])
    assert error.code == 401


@pytest.mark.parametrize(
    "result, fragment",
    [
        ((-1, b"w" * 40), "-1"),
        ((2**32, b"w" * 40), "4294967296"),
        ((1, b""), "empty"),
        ((1,), "tuple"),
        ([1, b"w"], "list"),
        (("1", b"w"), "str"),
    ],
)
def test_bad_wrap_results_are_invalid_responses(result: object, fragment: str) -> None:
    class Bad(HmacWrapProvider):
        def wrap(self, key_id: str, data_key: bytearray):  # type: ignore[override]
            return result

    with cipher_with(Bad()) as cipher:
        with pytest.raises(mqseal.ProviderDeniedError) as info:
            cipher.encrypt(b"x")
    assert info.value.code == 702
    assert fragment in info.value.message


def test_throwing_recognizes_means_unknown_key() -> None:
    class Broken(HmacWrapProvider):
        def recognizes(self, key_id: str) -> bool:
            raise RuntimeError("broken")

    with pytest.raises(mqseal.InvalidArgumentError) as info:
        cipher_with(Broken())
    assert info.value.code == 103


def test_provider_argument_errors() -> None:
    with pytest.raises(TypeError, match="recognizes"):
        mqseal.Cipher(key_providers=[object()], key_ids=KEY_ID)
    with pytest.raises(mqseal.InvalidArgumentError, match="list"):
        mqseal.Cipher(key_providers=HmacWrapProvider(), key_ids=KEY_ID)  # type: ignore[arg-type]
    with pytest.raises(mqseal.InvalidArgumentError) as info:
        mqseal.Cipher(key_ids=KEY_ID)
    assert info.value.code == 103


def test_message_only_constructors() -> None:
    error = mqseal.ProviderUnavailableError("down")
    assert (error.code, error.name, error.retryable, error.message) == (
        600,
        "provider_unavailable",
        True,
        "down",
    )
    assert mqseal.ProviderDeniedError("no").code == 700
    assert mqseal.KeyNotFoundError("gone").code == 500
    with pytest.raises(TypeError):
        mqseal.ProviderDeniedError(700, "provider_denied")  # type: ignore[call-arg]


def test_threads_share_provider_with_tiny_cache() -> None:
    provider = HmacWrapProvider()
    threads = 8
    messages = 200
    with cipher_with(provider, cache_capacity=1, max_messages_per_key=2) as cipher:

        def work(index: int) -> int:
            envelopes = []
            checked = 0
            for i in range(messages):
                # Every fifth body is above the GIL release threshold.
                size = 6000 if i % 5 == 0 else 20
                body = f"t{index} m{i} ".encode() + bytes(size)
                envelope = cipher.encrypt(body)
                envelopes.append((body, envelope))
                assert cipher.decrypt_body(envelope) == body
                checked += 1
            for body, envelope in envelopes[::7]:
                assert cipher.decrypt_body(envelope) == body
                checked += 1
            return checked

        with ThreadPoolExecutor(threads) as pool:
            total = sum(pool.map(work, range(threads)))
        assert total == threads * (messages + len(range(0, messages, 7)))
        assert cipher.counters()["decrypt_failures"] == 0
    assert provider.wraps >= threads * messages // 2
    assert provider.unwraps > 0


def test_close_while_callback_runs() -> None:
    gc.collect()
    before = _native._debug_live_objects()
    provider = HookedProvider()
    with cipher_with(provider) as producer:
        envelope = producer.encrypt(b"closing")
    entered = threading.Event()
    proceed = threading.Event()

    def slow(key: bytes) -> bytes:
        entered.set()
        assert proceed.wait(60)
        return key

    provider.hook = slow
    consumer = cipher_with(provider)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(consumer.decrypt_body, envelope)
        assert entered.wait(60)
        consumer.close()
        with pytest.raises(mqseal.HandleClosedError):
            consumer.decrypt_body(envelope)
        proceed.set()
        assert future.result(60) == b"closing"
    provider_ref = weakref.ref(provider)
    del consumer, producer, provider, future
    gc.collect()
    assert provider_ref() is None
    assert _native._debug_live_objects() == before
