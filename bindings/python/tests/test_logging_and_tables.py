"""Log records of the `mqseal` logger, and the tables taken from the core."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

import mqseal
from mqseal import properties
from conftest import KEY_ID, TOPIC


def keyring_secrets(path: Path) -> list:
    """The hex key material in a keyring file, which no log record may contain."""
    return re.findall(r"\b[0-9a-f]{64}\b", path.read_text(encoding="utf-8"))


def test_log_records_name_events_without_secrets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mqseal")
    path = tmp_path / "keyring"
    mqseal.keyring_generate(path, KEY_ID)
    body = b"confidential body 0123456789"
    with mqseal.Cipher(keyring_path=path, key_ids=KEY_ID) as c:
        envelope = c.encrypt(body, TOPIC, {"card": "4111-1111"})
        c.decrypt(envelope, TOPIC)
        c.rotate()
    mqseal.keyring_rotate(path, KEY_ID)

    records = [r for r in caplog.records if r.name == "mqseal"]
    messages = [r.getMessage() for r in records]
    assert any("generated key orders version 1" in m for m in messages)
    assert any("cipher created" in m for m in messages)
    assert any("data key rotated" in m for m in messages)
    assert any("cipher closed" in m for m in messages)
    assert any("rotated to primary version 2" in m for m in messages)
    assert {r.levelno for r in records} <= {logging.DEBUG, logging.INFO}

    secrets = keyring_secrets(path)
    assert len(secrets) == 2
    text = "\n".join(messages)
    for secret in secrets:
        assert secret not in text
    assert "confidential" not in text
    assert "4111" not in text
    assert envelope.hex()[:64] not in text


def test_no_log_record_per_message(cipher: mqseal.Cipher, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="mqseal")
    for _ in range(10):
        cipher.decrypt(cipher.encrypt(b"x"))
    with pytest.raises(mqseal.AuthenticationFailedError):
        cipher.decrypt(cipher.encrypt(b"x"), TOPIC)
    assert [r for r in caplog.records if r.name == "mqseal"] == []


def test_property_table_comes_from_the_core() -> None:
    assert properties.ALL == mqseal._native.PROPERTY_TABLE
    assert len(properties.ALL) == 9
    names = [name for name, _description in properties.ALL]
    constants = {
        value
        for key, value in vars(properties).items()
        if key.isupper() and isinstance(value, str) and key not in ("PREFIX", "CONTEXT_TOPIC")
    }
    assert set(names) == constants
    assert all(name.startswith(properties.PREFIX) for name in names)
    assert properties.PREFIX == "mqseal-"
    assert properties.KEY_ID == "mqseal-kid"
    assert properties.CONTEXT_TOPIC == "topic"
    assert all(description for _name, description in properties.ALL)
    for constant, value in mqseal._native.PROPERTY_NAMES.items():
        assert getattr(properties, constant) == value, constant


def test_suites_and_backends_come_from_the_core() -> None:
    assert mqseal.SUITES == ("aes-256-gcm", "chacha20-poly1305")
    assert mqseal.BACKENDS[0] == "aws-lc"
