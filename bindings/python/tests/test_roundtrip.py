"""Round trips through Cipher: body sizes, buffer types, context, properties, settings."""

from __future__ import annotations

import array
import datetime
import os
from pathlib import Path

import pytest

import mqseal
from conftest import KEY_ID, TOPIC

SIZES = [0, 1024, 1024 * 1024]


def as_bytes(data: bytes) -> bytes:
    return bytes(data)


def as_bytearray(data: bytes) -> bytearray:
    return bytearray(data)


def as_memoryview(data: bytes) -> memoryview:
    return memoryview(data)


def as_memoryview_of_bytearray(data: bytes) -> memoryview:
    return memoryview(bytearray(data))


def as_memoryview_slice(data: bytes) -> memoryview:
    # A slice in the middle of a larger buffer: the extension must copy exactly its bytes.
    return memoryview(b"head" + data + b"tail")[4 : 4 + len(data)]


BUFFER_TYPES = [
    as_bytes,
    as_bytearray,
    as_memoryview,
    as_memoryview_of_bytearray,
    as_memoryview_slice,
]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("wrap", BUFFER_TYPES, ids=lambda f: f.__name__)
def test_round_trip_sizes_and_buffers(cipher: mqseal.Cipher, size: int, wrap) -> None:
    body = os.urandom(size)
    envelope = cipher.encrypt(wrap(body), TOPIC)
    assert type(envelope) is bytes
    assert body not in envelope or size == 0

    decrypted = cipher.decrypt(wrap(envelope), TOPIC)
    assert type(decrypted.body) is bytes
    assert decrypted.body == body
    assert cipher.decrypt_body(wrap(envelope), context=TOPIC) == body


def test_round_trip_other_buffer_exporters(cipher: mqseal.Cipher) -> None:
    words = array.array("I", range(1000))
    envelope = cipher.encrypt(words)
    assert cipher.decrypt_body(envelope) == words.tobytes()


def test_decrypt_reports_header_facts(cipher: mqseal.Cipher) -> None:
    envelope = cipher.encrypt(b"body", TOPIC)
    decrypted = cipher.decrypt(envelope, TOPIC)
    assert decrypted.key_id == KEY_ID
    assert decrypted.key_version == 1
    assert decrypted.suite == "aes-256-gcm"
    assert decrypted.compressed is False
    assert decrypted.sealed_properties == {}


def test_sealed_properties_round_trip(cipher: mqseal.Cipher) -> None:
    properties = {"customer": "alice", "trace": ""}
    envelope = cipher.encrypt(b"body", TOPIC, sealed_properties=properties)
    assert b"alice" not in envelope
    decrypted = cipher.decrypt(envelope, TOPIC)
    assert decrypted.body == b"body"
    assert decrypted.sealed_properties == properties


def test_context_accepts_any_mapping(cipher: mqseal.Cipher) -> None:
    from types import MappingProxyType

    envelope = cipher.encrypt(b"x", MappingProxyType({"topic": "orders"}))
    assert cipher.decrypt_body(envelope, {"topic": "orders"}) == b"x"


def test_empty_context_equals_no_context(cipher: mqseal.Cipher) -> None:
    envelope = cipher.encrypt(b"x", {})
    assert cipher.decrypt_body(envelope) == b"x"
    assert cipher.decrypt_body(envelope, {}) == b"x"


def test_encrypted_length_is_exact(cipher: mqseal.Cipher) -> None:
    for size in [0, 1, 4096, 4097, 100_000]:
        expected = cipher.encrypted_length(size, TOPIC)
        assert len(cipher.encrypt(bytes(size), TOPIC)) == expected


def test_encrypted_length_rejects_negative(cipher: mqseal.Cipher) -> None:
    with pytest.raises(mqseal.InvalidArgumentError) as info:
        cipher.encrypted_length(-1)
    assert info.value.name == "invalid_argument"
    assert "-1" in info.value.message


def test_compression_round_trip(keyring_path: Path) -> None:
    with mqseal.Cipher(
        keyring_path=keyring_path, key_ids=KEY_ID, compression=True, compression_min_size=16
    ) as c:
        body = b"compressible " * 1000
        envelope = c.encrypt(body, TOPIC)
        assert len(envelope) < len(body)
        decrypted = c.decrypt(envelope, TOPIC)
        assert decrypted.compressed is True
        assert decrypted.body == body


def test_large_compressed_body_with_properties(keyring_path: Path) -> None:
    with mqseal.Cipher(keyring_path=keyring_path, key_ids=KEY_ID, compression=True) as c:
        body = b"a" * (1 << 20)
        envelope = c.encrypt(body, TOPIC, {"k": "v"})
        decrypted = c.decrypt(bytearray(envelope), TOPIC)
        assert decrypted.body == body
        assert decrypted.sealed_properties == {"k": "v"}


def test_stored_context_decrypts_without_context(keyring_path: Path) -> None:
    with mqseal.Cipher(keyring_path=keyring_path, key_ids=KEY_ID, store_context=True) as c:
        envelope = c.encrypt(b"audit", {"topic": "audit"})
        assert mqseal.inspect(envelope)["stored_context"] == {"topic": "audit"}
        assert c.decrypt_body(envelope) == b"audit"
        assert len(envelope) == c.encrypted_length(5, {"topic": "audit"})


def test_chacha_suite_round_trip(keyring_path: Path) -> None:
    with mqseal.Cipher(
        keyring_path=keyring_path, key_ids=[KEY_ID], suite="chacha20-poly1305"
    ) as c:
        envelope = c.encrypt(b"x" * 5000, TOPIC)
        decrypted = c.decrypt(envelope, TOPIC)
        assert decrypted.suite == "chacha20-poly1305"
        assert decrypted.body == b"x" * 5000
        assert mqseal.inspect(envelope)["suite"] == "chacha20-poly1305"


def test_decrypt_only_cipher(cipher: mqseal.Cipher, keyring_path: Path) -> None:
    envelope = cipher.encrypt(b"x", TOPIC)
    with mqseal.Cipher(keyring_path=keyring_path) as reader:
        assert reader.decrypt_body(envelope, TOPIC) == b"x"
        with pytest.raises(mqseal.InvalidArgumentError) as info:
            reader.encrypt(b"x")
        assert info.value.name == "invalid_config"


def test_inspect_fields(cipher: mqseal.Cipher) -> None:
    envelope = cipher.encrypt(b"0123456789", TOPIC, {"p": "1"})
    info = mqseal.inspect(envelope)
    assert info["version"] == 1
    assert info["suite"] == "aes-256-gcm"
    assert info["compressed"] is False
    assert info["sealed_properties"] is True
    assert info["stored_context"] is None
    assert info["sequence"] == 0
    assert info["header_length"] + info["payload_length"] + 16 == len(envelope)
    [key] = info["keys"]
    assert key["key_id"] == KEY_ID
    assert key["key_version"] == 1
    assert isinstance(key["wrapped"], bytes)
    assert len(key["wrapped"]) == 40


def test_sequence_numbers_advance_under_one_key(cipher: mqseal.Cipher) -> None:
    infos = [mqseal.inspect(cipher.encrypt(b"x")) for _ in range(5)]
    assert [i["sequence"] for i in infos] == [0, 1, 2, 3, 4]
    assert len({i["keys"][0]["wrapped"] for i in infos}) == 1


def test_looks_encrypted(cipher: mqseal.Cipher) -> None:
    assert mqseal.looks_encrypted(cipher.encrypt(b"x")) is True
    assert mqseal.looks_encrypted(b'{"json": true}') is False
    assert mqseal.looks_encrypted(b"") is False
    assert mqseal.looks_encrypted(bytearray(b"\x8e\x01")) is True


def test_rotate_uses_a_new_data_key(cipher: mqseal.Cipher) -> None:
    first = mqseal.inspect(cipher.encrypt(b"x"))["keys"][0]["wrapped"]
    cipher.rotate()
    second = mqseal.inspect(cipher.encrypt(b"x"))["keys"][0]["wrapped"]
    assert first != second
    assert cipher.counters()["data_keys_created"] == 2


def test_keyring_rotate_and_rewrap(keyring_path: Path) -> None:
    with mqseal.Cipher(keyring_path=keyring_path, key_ids=KEY_ID) as old:
        envelope = old.encrypt(b"kept", TOPIC)
    assert mqseal.keyring_rotate(keyring_path, KEY_ID) == 2
    with mqseal.Cipher(keyring_path=keyring_path, key_ids=KEY_ID) as new:
        rewrapped = new.rewrap(envelope)
        assert mqseal.inspect(rewrapped)["keys"][0]["key_version"] == 2
        decrypted = new.decrypt(rewrapped, TOPIC)
        assert decrypted.body == b"kept"
        assert decrypted.key_version == 2
        fresh = new.decrypt(new.encrypt(b"new", TOPIC), TOPIC)
        assert fresh.key_version == 2


def test_keyring_generate_rejects_existing_name(keyring_path: Path) -> None:
    with pytest.raises(mqseal.MqsealError):
        mqseal.keyring_generate(keyring_path, KEY_ID)


def test_keyring_file_is_private(keyring_path: Path) -> None:
    assert keyring_path.stat().st_mode & 0o077 == 0


def test_counters(cipher: mqseal.Cipher) -> None:
    envelope = cipher.encrypt(b"x")
    cipher.decrypt(envelope)
    with pytest.raises(mqseal.AuthenticationFailedError):
        cipher.decrypt(envelope, {"topic": "other"})
    counters = cipher.counters()
    assert counters["encrypted"] == 1
    assert counters["decrypted"] == 1
    assert counters["decrypt_failures"] == 1
    assert counters["data_keys_created"] == 1
    assert set(counters) == {
        "encrypted",
        "decrypted",
        "decrypt_failures",
        "cache_hits",
        "cache_misses",
        "provider_calls",
        "provider_failures",
        "data_keys_created",
        "provider_attempts",
        "provider_retries",
        "provider_transient_failures",
        "provider_permanent_failures",
        "provider_latency_us_total",
        "provider_latency_us_max",
        "breaker_opens",
        "breaker_rejections",
        "negative_cache_hits",
        "rotations",
    }
    assert counters["provider_attempts"] == counters["provider_calls"]
    assert counters["provider_latency_us_max"] <= counters["provider_latency_us_total"]


def test_from_config_text_and_file(keyring_path: Path, tmp_path: Path) -> None:
    text = f"mqseal.keyring.path = {keyring_path}\nkey_id = {KEY_ID}\ncontext.store = true\n"
    with mqseal.Cipher.from_config(text) as c:
        envelope = c.encrypt(b"x", TOPIC)
        assert mqseal.inspect(envelope)["stored_context"] == TOPIC
    config = tmp_path / "mqseal.conf"
    config.write_text(text, encoding="utf-8")
    with mqseal.Cipher.from_config_file(config) as c:
        assert c.decrypt_body(envelope) == b"x"
    with mqseal.Cipher.from_config_file(str(config)) as c:
        assert c.decrypt_body(envelope) == b"x"


def test_from_config_errors(tmp_path: Path) -> None:
    with pytest.raises(mqseal.InvalidArgumentError) as info:
        mqseal.Cipher.from_config("keyring.path = /x\nkey_idd = a\n")
    assert info.value.name == "invalid_config"
    assert "line 2" in info.value.message
    with pytest.raises(mqseal.InvalidArgumentError) as info:
        mqseal.Cipher.from_config_file(tmp_path / "missing.conf")
    assert "missing.conf" in info.value.message


def test_every_keyword_setting(keyring_path: Path) -> None:
    with mqseal.Cipher(
        keyring_path=str(keyring_path),
        key_ids=(KEY_ID,),
        suite="aes-256-gcm",
        backend=mqseal.BACKENDS[0],
        max_messages_per_key=2,
        max_bytes_per_key=1 << 20,
        max_key_age=datetime.timedelta(minutes=5),
        cache_capacity=10,
        cache_ttl=60.5,
        compression=False,
        compression_min_size=0,
        max_body_length=4096,
        store_context=False,
    ) as c:
        wrapped = [mqseal.inspect(c.encrypt(b"x"))["keys"][0]["wrapped"] for _ in range(3)]
        # max_messages_per_key=2: the third message gets a new data key.
        assert wrapped[0] == wrapped[1]
        assert wrapped[1] != wrapped[2]
        with pytest.raises(mqseal.UsageLimitExceededError) as info:
            c.encrypt(bytes(4097))
        assert info.value.code == 800


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("max_messages_per_key", 0),
        ("max_messages_per_key", (1 << 32) + 1),
        ("max_bytes_per_key", -5),
        ("max_bytes_per_key", 1 << 70),
        ("max_key_age", 0),
        ("max_key_age", float("nan")),
        ("cache_ttl", -1),
        ("cache_capacity", -1),
        ("max_body_length", 0),
        ("max_body_length", (1 << 30) + 1),
        ("suite", "rot13"),
        ("backend", "no-such-backend"),
    ],
)
def test_invalid_setting_raises(keyring_path: Path, setting: str, value: object) -> None:
    with pytest.raises(mqseal.InvalidArgumentError) as info:
        mqseal.Cipher(keyring_path=keyring_path, key_ids=KEY_ID, **{setting: value})
    assert info.value.code == 103
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("max_messages_per_key", "10"),
        ("max_messages_per_key", True),
        ("max_key_age", "60"),
        ("key_ids", [KEY_ID, 7]),
    ],
)
def test_wrongly_typed_setting_raises_type_error(
    keyring_path: Path, setting: str, value: object
) -> None:
    with pytest.raises(TypeError):
        mqseal.Cipher(keyring_path=keyring_path, **{setting: value})


def test_missing_keyring_raises(tmp_path: Path) -> None:
    with pytest.raises(mqseal.InvalidArgumentError) as info:
        mqseal.Cipher(keyring_path=tmp_path / "absent", key_ids=KEY_ID)
    assert "absent" in info.value.message


def test_unknown_key_id_raises(keyring_path: Path) -> None:
    with pytest.raises(mqseal.KeyNotFoundError) as info:
        mqseal.Cipher(keyring_path=keyring_path, key_ids="billing").encrypt(b"x")
    assert "billing" in info.value.message


def test_wrong_argument_types(cipher: mqseal.Cipher) -> None:
    with pytest.raises(TypeError, match="bytes-like"):
        cipher.encrypt("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cipher.encrypt(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="context"):
        cipher.encrypt(b"x", {"topic": 1})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="context"):
        cipher.encrypt(b"x", ["topic"])  # type: ignore[arg-type]
    with pytest.raises(BufferError):
        cipher.encrypt(memoryview(bytes(16))[::2])


def test_invalid_context_key_raises(cipher: mqseal.Cipher) -> None:
    with pytest.raises(mqseal.InvalidArgumentError) as info:
        cipher.encrypt(b"x", {"": "empty key"})
    assert info.value.code == 100


def test_reprs_hide_values(cipher: mqseal.Cipher) -> None:
    envelope = cipher.encrypt(b"secret body", TOPIC, {"card": "4111-1111"})
    decrypted = cipher.decrypt(envelope, TOPIC)
    text = repr(decrypted)
    assert "secret body" not in text
    assert "4111" not in text
    assert "11 bytes" in text
    assert "card" in text
    assert "orders" in repr(cipher)


def test_version() -> None:
    assert mqseal.__version__ == mqseal._native.CORE_VERSION
    assert mqseal.__version__.count(".") == 2


class Text(str):
    """A str subclass, which the context conversion must not cache."""


@pytest.mark.parametrize(
    "second",
    [
        {"topic": "b"},
        {"topic": "a", "app": "x"},
        {"app": "x", "topic": "a"},
        {"topic": Text("b")},
        {Text("topic"): "b"},
    ],
    ids=["value", "extra-key", "order", "str-subclass-value", "str-subclass-key"],
)
def test_context_changes_between_messages(cipher: mqseal.Cipher, second: dict) -> None:
    # The same or an equal dict passed twice reuses one conversion; any change must not.
    first = {"topic": "a"}
    envelope_first = cipher.encrypt(b"1", first)
    envelope_second = cipher.encrypt(b"2", second)
    assert cipher.decrypt_body(envelope_first, {"topic": "a"}) == b"1"
    assert cipher.decrypt_body(envelope_second, {str(k): str(v) for k, v in second.items()}) == b"2"
    with pytest.raises(mqseal.AuthenticationFailedError):
        cipher.decrypt_body(envelope_second, first)


def test_context_dict_mutated_in_place(cipher: mqseal.Cipher) -> None:
    context = {"topic": "a"}
    envelope_a = cipher.encrypt(b"x", context)
    context["topic"] = "".join(["b"])
    envelope_b = cipher.encrypt(b"x", context)
    assert cipher.decrypt_body(envelope_a, {"topic": "a"}) == b"x"
    assert cipher.decrypt_body(envelope_b, {"topic": "b"}) == b"x"
    with pytest.raises(mqseal.AuthenticationFailedError):
        cipher.decrypt_body(envelope_b, {"topic": "a"})
    with pytest.raises(mqseal.AuthenticationFailedError):
        cipher.decrypt_body(envelope_a, context)
