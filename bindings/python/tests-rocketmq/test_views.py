"""DecryptedMessage and MessageDecryptor without a broker."""

from __future__ import annotations

import pytest
from rocketmq import Message

import mqseal
from mqseal.rocketmq import DecryptedMessage, EncryptingProducer, MessageDecryptor


def received(body, **properties):
    message = Message()
    message.topic = "orders"
    message.body = body
    message.tag = "created"
    for name, value in properties.items():
        message.add_property(name, value)
    return message


@pytest.fixture
def local_cipher(tmp_path):
    mqseal.keyring_generate(tmp_path / "keyring", "orders")
    with mqseal.Cipher(keyring_path=tmp_path / "keyring", key_ids="orders") as cipher:
        yield cipher


def test_view_restores_sealed_and_drops_metadata(local_cipher):
    producer = EncryptingProducer(object(), local_cipher, sealed_properties=("secret",))
    sent = received(b"body-bytes", secret="s", visible="v")
    stored = producer.encrypt(sent)

    view = MessageDecryptor(local_cipher).decrypt(stored)

    assert view.body == b"body-bytes"
    assert view.properties == {"secret": "s", "visible": "v"}
    assert view.sealed_properties == {"secret": "s"}
    assert view.original is stored
    assert view.tag == "created"
    assert view.topic == "orders"
    assert view.key_id == "orders"
    assert view.key_version == 1


def test_view_repr_hides_body_and_values(local_cipher):
    producer = EncryptingProducer(object(), local_cipher, sealed_properties=("secret",))
    stored = producer.encrypt(received(b"body-bytes", secret="s-value"))

    text = repr(MessageDecryptor(local_cipher).decrypt(stored))

    assert "body-bytes" not in text
    assert "s-value" not in text
    assert "body_length=10" in text


def test_wrong_topic_fails_authentication(local_cipher):
    stored = EncryptingProducer(object(), local_cipher).encrypt(received(b"body"))
    stored.topic = "payments"

    with pytest.raises(mqseal.AuthenticationFailedError):
        MessageDecryptor(local_cipher).decrypt(stored)


def test_plaintext_rejected_unless_allowed(local_cipher):
    with pytest.raises(mqseal.NotEncryptedError):
        MessageDecryptor(local_cipher).decrypt(received(b"plain"))

    view = MessageDecryptor(local_cipher, allow_unencrypted=True).decrypt(received(b"plain"))

    assert view.body == b"plain"
    assert view.encrypted is False


def test_view_without_original_raises_attribute_error():
    view = DecryptedMessage.__new__(DecryptedMessage)

    with pytest.raises(AttributeError):
        view.topic
