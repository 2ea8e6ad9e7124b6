"""Round trips through a real RocketMQ 5.x proxy with EncryptingProducer and DecryptingSimpleConsumer."""

from __future__ import annotations

import os
import time

import pytest
from rocketmq import Message

import mqseal
from mqseal.rocketmq import DecryptingSimpleConsumer, EncryptingProducer

from conftest import KEY_ID, TOPICS, receive_until, start_simple_consumer


def new_message(topic, tag, body, **properties):
    message = Message()
    message.topic = topic
    message.tag = tag
    message.body = body
    for name, value in properties.items():
        message.add_property(name, value)
    return message


def receive_decrypted(consumer, count, invisible_duration=30):
    return receive_until(lambda: consumer.receive(16, invisible_duration), count)


@pytest.fixture
def simple(client_config, reader_cipher, group):
    """Returns a function that starts a DecryptingSimpleConsumer on (topic, tag)."""
    started = []

    def start(topic, tag, **options):
        client = start_simple_consumer(client_config, group, topic, tag)
        consumer = DecryptingSimpleConsumer(client, reader_cipher, **options)
        started.append(consumer)
        return consumer

    yield start
    for consumer in started:
        consumer.shutdown()


@pytest.mark.parametrize("suite", ["aes-256-gcm", "chacha20-poly1305"])
@pytest.mark.parametrize("compression", [False, True])
def test_round_trip(client_producer, keyring, simple, tag, suite, compression):
    body = b'{"order": 1}' * 200  # 2400 bytes, above the default compression threshold
    with mqseal.Cipher(
        keyring_path=keyring, key_ids=KEY_ID, suite=suite, compression=compression
    ) as cipher:
        producer = EncryptingProducer(client_producer, cipher)
        sent = new_message(TOPICS["NORMAL"], tag, body, visible="v1")
        sent.keys = "key-" + tag
        receipt = producer.send(sent)
    consumer = simple(TOPICS["NORMAL"], tag)

    received = receive_decrypted(consumer, 1)

    assert len(received) == 1
    view = received[0]
    assert view.body == body
    assert view.message_id == receipt.message_id
    assert view.properties == {"visible": "v1"}
    assert view.tag == tag
    assert view.keys == {"key-" + tag}
    assert view.suite == suite
    assert view.key_id == KEY_ID
    assert view.encrypted is True
    stored = view.original
    assert stored.body != body
    assert mqseal.inspect(stored.body)["suite"] == suite
    assert mqseal.inspect(stored.body)["compressed"] is compression
    assert stored.properties[mqseal.properties.SUITE] == suite
    assert stored.properties[mqseal.properties.TOPIC] == TOPICS["NORMAL"]
    consumer.ack(view)


def test_sealed_properties_round_trip(producer, simple, tag):
    producer.send(new_message(TOPICS["NORMAL"], tag, b"sealed", secret="s-value", visible="v"))
    consumer = simple(TOPICS["NORMAL"], tag)

    received = receive_decrypted(consumer, 1)

    assert len(received) == 1
    view = received[0]
    assert view.properties == {"secret": "s-value", "visible": "v"}
    assert view.sealed_properties == {"secret": "s-value"}
    assert "secret" not in view.original.properties
    assert "s-value" not in view.original.properties.values()
    consumer.ack(view)


def test_fifo_round_trip(producer, simple, tag):
    for index in range(3):
        sent = new_message(TOPICS["FIFO"], tag, f"fifo-{index}".encode())
        sent.message_group = "group-" + tag
        producer.send(sent)
    consumer = simple(TOPICS["FIFO"], tag)

    received = receive_decrypted(consumer, 3)

    assert sorted(view.body for view in received) == [b"fifo-0", b"fifo-1", b"fifo-2"]
    assert {view.message_group for view in received} == {"group-" + tag}
    for view in received:
        consumer.ack(view)


def test_delayed_round_trip(producer, simple, tag):
    sent = new_message(TOPICS["DELAY"], tag, b"delayed")
    # rocketmq-python-client 5.1.2 sends delivery_timestamp as seconds since the epoch.
    sent.delivery_timestamp = int(time.time()) + 2
    producer.send(sent)
    consumer = simple(TOPICS["DELAY"], tag)

    received = receive_decrypted(consumer, 1)

    assert [view.body for view in received] == [b"delayed"]
    assert received[0].original.delivery_timestamp is not None
    consumer.ack(received[0])


def test_transaction_round_trip(producer, simple, tag):
    transaction = producer.begin_transaction()
    producer.send(new_message(TOPICS["TRANSACTION"], tag, b"in a transaction"), transaction)
    transaction.commit()
    consumer = simple(TOPICS["TRANSACTION"], tag)

    received = receive_decrypted(consumer, 1)

    assert [view.body for view in received] == [b"in a transaction"]
    consumer.ack(received[0])


def test_ack_uses_original_message(producer, simple, tag):
    producer.send(new_message(TOPICS["NORMAL"], tag, b"acked"))
    producer.send(new_message(TOPICS["NORMAL"], tag, b"not acked"))
    consumer = simple(TOPICS["NORMAL"], tag)

    # The 5.3.3 proxy rejects invisible durations below 10 s on receive.
    first = receive_decrypted(consumer, 2, invisible_duration=10)
    assert sorted(view.body for view in first) == [b"acked", b"not acked"]
    for view in first:
        if view.body == b"acked":
            consumer.ack(view)
        else:
            consumer.change_invisible_duration(view, 1)

    again = receive_decrypted(consumer, 1, invisible_duration=30)

    assert [view.body for view in again] == [b"not acked"]
    assert again[0].delivery_attempt == 2
    consumer.ack(again[0])
    # The acknowledged message does not come back once its invisible time has passed.
    assert receive_until(lambda: consumer.receive(16, 30), 1, timeout=15) == []


def test_plaintext_rejected_when_required(client_producer, client_config, simple, tag, group):
    plain = new_message(TOPICS["NORMAL"], tag, b"plain body " + os.urandom(8).hex().encode())
    client_producer.send(plain)
    consumer = simple(TOPICS["NORMAL"], tag)

    assert receive_until(lambda: consumer.receive(16, 30), 1, timeout=10) == []

    dead = start_simple_consumer(client_config, group + "-dlq", f"%DLQ%{group}")
    try:
        moved = receive_until(lambda: dead.receive(16, 30), 1)
        assert [message.body for message in moved] == [plain.body]
        dead.ack(moved[0])
    finally:
        dead.shutdown()


def test_plaintext_allowed_when_configured(client_producer, simple, tag):
    client_producer.send(new_message(TOPICS["NORMAL"], tag, b"legacy plaintext"))
    consumer = simple(TOPICS["NORMAL"], tag, allow_unencrypted=True)

    received = receive_decrypted(consumer, 1)

    assert [view.body for view in received] == [b"legacy plaintext"]
    assert received[0].encrypted is False
    assert received[0].key_id is None
    consumer.ack(received[0])


def test_largest_body_round_trip(producer, cipher, simple, tag):
    context = {mqseal.properties.CONTEXT_TOPIC: TOPICS["NORMAL"]}
    size = 4 * 1024 * 1024 - cipher.encrypted_length(0, context=context)
    body = os.urandom(size)
    producer.send(new_message(TOPICS["NORMAL"], tag, body))
    consumer = simple(TOPICS["NORMAL"], tag)

    received = receive_decrypted(consumer, 1)

    assert len(received) == 1
    assert len(received[0].original.body) == 4 * 1024 * 1024
    assert received[0].body == body
    consumer.ack(received[0])


def test_send_async_round_trip(producer, simple, tag):
    future = producer.send_async(new_message(TOPICS["NORMAL"], tag, b"sent asynchronously"))
    receipt = future.result(timeout=60)
    consumer = simple(TOPICS["NORMAL"], tag)

    received = receive_decrypted(consumer, 1)

    assert [view.body for view in received] == [b"sent asynchronously"]
    assert received[0].message_id == receipt.message_id
    consumer.ack(received[0])


def test_transaction_check_gets_decrypted_view(producer, checker, simple, tag):
    # An open transaction makes the broker ask the producer's checker about the half
    # message after its transaction timeout (6 s by default); the checker commits it.
    transaction = producer.begin_transaction()
    producer.send(
        new_message(TOPICS["TRANSACTION"], tag, b"checked by the broker", secret="s-tx"),
        transaction,
    )
    consumer = simple(TOPICS["TRANSACTION"], tag)

    received = receive_decrypted(consumer, 1)

    assert [view.body for view in received] == [b"checked by the broker"]
    checked = [view for view in checker.checked if view.tag == tag]
    assert len(checked) >= 1
    assert checked[0].body == b"checked by the broker"
    assert checked[0].properties["secret"] == "s-tx"
    consumer.ack(received[0])


def test_retryable_failure_received_again(kms_producer, kms, flaky_reader, client_config, group, tag):
    kms_producer.send(new_message(TOPICS["NORMAL"], tag, b"retried"))
    client = start_simple_consumer(client_config, group, TOPICS["NORMAL"], tag)
    consumer = DecryptingSimpleConsumer(client, flaky_reader, retry_delay=1)
    try:
        received = receive_decrypted(consumer, 1)
        assert [view.body for view in received] == [b"retried"]
        assert received[0].delivery_attempt == 2
        assert received[0].key_id == kms.KEY_ID
        assert kms.unavailable == 0
        consumer.ack(received[0])
    finally:
        consumer.shutdown()


@pytest.mark.skipif(
    not os.environ.get("MQSEAL_RMQ_STORE_DIR"), reason="MQSEAL_RMQ_STORE_DIR is not set"
)
def test_store_contains_no_plaintext(producer, simple, tag):
    marker = ("plaintext-marker-" + os.urandom(8).hex()).encode()
    sealed_marker = "sealed-marker-" + os.urandom(8).hex()
    visible_marker = "visible-marker-" + os.urandom(8).hex()
    producer.send(
        new_message(
            TOPICS["NORMAL"], tag, marker, secret=sealed_marker, visible=visible_marker
        )
    )
    consumer = simple(TOPICS["NORMAL"], tag)
    received = receive_decrypted(consumer, 1)
    assert [view.body for view in received] == [marker]
    consumer.ack(received[0])

    found = {"visible": False, "body": False, "sealed": False}
    for directory, _, files in os.walk(os.environ["MQSEAL_RMQ_STORE_DIR"]):
        for name in files:
            with open(os.path.join(directory, name), "rb") as file:
                content = file.read()
            found["visible"] |= visible_marker.encode() in content
            found["body"] |= marker in content
            found["sealed"] |= sealed_marker.encode() in content
    # Positive control: the plain property is stored in clear text.
    assert found["visible"]
    assert not found["body"]
    assert not found["sealed"]
