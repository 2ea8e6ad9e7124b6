"""EncryptingProducer rejects what the proxy would reject, before anything is sent."""

from __future__ import annotations

import pytest
from rocketmq import Message

import mqseal
from mqseal.rocketmq import (
    MAX_BODY_SIZE,
    EncryptingProducer,
    InvalidPropertyError,
    MessageTooLargeError,
)

from conftest import TOPICS


def message(body=b"body", **properties):
    value = Message()
    value.topic = TOPICS["NORMAL"]
    value.body = body
    for name, text in properties.items():
        value.add_property(name, text)
    return value


@pytest.mark.parametrize(
    "name, value, field",
    [
        ("note", "line\nbreak", "value of property 'note'"),
        ("note", "a\x01b", "value of property 'note'"),
        ("note", "del\x7f", "value of property 'note'"),
        ("note", "c1\x85", "value of property 'note'"),
        ("bad\tname", "v", "property name"),
    ],
)
def test_control_character_rejected(producer, name, value, field):
    sent = message()
    sent.properties[name] = value
    with pytest.raises(InvalidPropertyError) as raised:
        producer.send(sent)
    assert raised.value.field == field
    assert "control character" in str(raised.value)
    assert raised.value.code == mqseal.ERROR_CODES["invalid_argument"]
    assert raised.value.retryable is False


def test_control_character_in_sealed_value_rejected(producer):
    # A sealed value travels inside the envelope, but the check runs on every property so
    # that sealing a name later never changes what is accepted.
    sent = message(secret="x")
    sent.properties["secret"] = "a\x02b"
    with pytest.raises(InvalidPropertyError):
        producer.encrypt(sent)


def test_control_character_in_tag_rejected(producer):
    sent = message()
    sent.tag = "tag\x00"
    with pytest.raises(InvalidPropertyError) as raised:
        producer.encrypt(sent)
    assert raised.value.field == "tag"


def test_control_character_in_key_rejected(producer):
    sent = message()
    sent.keys = "key\x1b"
    with pytest.raises(InvalidPropertyError) as raised:
        producer.encrypt(sent)
    assert raised.value.field == "message key"


def test_reserved_property_rejected(producer):
    sent = message()
    sent.properties["UNIQ_KEY"] = "x"
    with pytest.raises(InvalidPropertyError, match="reserved by RocketMQ"):
        producer.encrypt(sent)


def test_mqseal_prefix_rejected(producer):
    with pytest.raises(InvalidPropertyError, match="reserves for its metadata"):
        producer.encrypt(message(**{mqseal.properties.KEY_ID: "forged"}))


def test_properties_over_16_kib_rejected(producer):
    sent = message(big="x" * (16 * 1024))
    with pytest.raises(InvalidPropertyError, match="over the proxy's limit of 16384 bytes"):
        producer.encrypt(sent)


def test_sealed_large_property_accepted(producer):
    sent = message(secret="x" * (16 * 1024))
    copy = producer.encrypt(sent)
    assert "secret" not in copy.properties


def test_too_many_properties_rejected(producer):
    sent = message(**{f"p{i}": "v" for i in range(124)})
    with pytest.raises(InvalidPropertyError, match="limit of 128"):
        producer.encrypt(sent)


def test_oversize_envelope_rejected(producer, cipher):
    context = {mqseal.properties.CONTEXT_TOPIC: TOPICS["NORMAL"]}
    overhead = cipher.encrypted_length(0, context=context)
    body = b"\0" * (MAX_BODY_SIZE - overhead + 1)
    with pytest.raises(MessageTooLargeError) as raised:
        producer.send(message(body))
    error = raised.value
    assert error.body_size == len(body)
    assert error.encrypted_size == MAX_BODY_SIZE + 1
    assert error.limit == MAX_BODY_SIZE
    assert f"send at most {len(body) - 1} bytes of body" in str(error)
    assert isinstance(error, mqseal.UsageLimitExceededError)


def test_delayed_message_counts_timer_record(producer, cipher):
    context = {mqseal.properties.CONTEXT_TOPIC: TOPICS["DELAY"]}
    body = b"\0" * (MAX_BODY_SIZE - cipher.encrypted_length(0, context=context))
    sent = Message()
    sent.topic = TOPICS["DELAY"]
    sent.body = body
    sent.delivery_timestamp = 2_000_000_000
    with pytest.raises(MessageTooLargeError, match="delivery time"):
        producer.encrypt(sent)


def test_encrypt_leaves_message_unchanged(producer):
    sent = message(b"plain body", secret="s3", visible="v")
    sent.tag = "tag-a"
    sent.keys = "key-1"
    copy = producer.encrypt(sent)
    assert sent.body == b"plain body"
    assert sent.properties == {"secret": "s3", "visible": "v"}
    assert copy.body != sent.body
    assert mqseal.looks_encrypted(copy.body)
    assert copy.tag == "tag-a"
    assert copy.keys == {"key-1"}
    assert copy.properties["visible"] == "v"
    assert "secret" not in copy.properties
    assert copy.properties[mqseal.properties.TOPIC] == TOPICS["NORMAL"]
    assert copy.properties[mqseal.properties.KEY_ID] == "orders"
    assert copy.properties[mqseal.properties.KEY_VERSION] == "1"
    assert copy.properties[mqseal.properties.SUITE] == "aes-256-gcm"
    assert copy.properties[mqseal.properties.VERSION] == "1"


def test_sealing_mqseal_prefix_rejected(client_producer, cipher):
    with pytest.raises(mqseal.InvalidArgumentError, match="reserves for its metadata"):
        EncryptingProducer(client_producer, cipher, sealed_property_prefixes=("mqseal-",))
