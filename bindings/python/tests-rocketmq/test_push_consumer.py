"""DecryptingMessageListener on a real PushConsumer: delivery, dead-lettering and redelivery."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from rocketmq import ConsumeResult, FilterExpression, Message, MessageListener, PushConsumer

import mqseal
from mqseal.rocketmq import DecryptingMessageListener, dead_letter_topic

from conftest import (
    FIFO_GROUP,
    RECEIVE_TIMEOUT,
    TOPICS,
    receive_until,
    start_simple_consumer,
)


class Recorder(MessageListener):
    """Records the views it is given and succeeds."""

    def __init__(self):
        self.views = []
        self.arrived = threading.Condition()

    def consume(self, message):
        with self.arrived:
            self.views.append(message)
            self.arrived.notify_all()
        return ConsumeResult.SUCCESS

    def wait_for(self, count, timeout=RECEIVE_TIMEOUT):
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.views) >= count, timeout)
            return list(self.views)


def new_message(tag, body):
    message = Message()
    message.topic = TOPICS["NORMAL"]
    message.tag = tag
    message.body = body
    return message


def moved_count(caplog):
    return sum("moved it to %DLQ%" in record.getMessage() for record in caplog.records)


def start_push(client_config, group, tag, listener):
    consumer = PushConsumer(
        client_config, group, listener, {TOPICS["NORMAL"]: FilterExpression(tag)}
    )
    listener.attach(consumer)
    consumer.startup()
    return consumer


def test_undecryptable_messages_reach_dead_letter_queue_unchanged(
    producer, client_producer, client_config, reader_cipher, group, tag, caplog
):
    caplog.set_level(logging.WARNING, logger="mqseal.rocketmq")
    good = new_message(tag, b"good body")
    tampered = producer.encrypt(new_message(tag, b"tampered body"))
    tampered_body = bytearray(tampered.body)
    tampered_body[-1] ^= 0x01
    tampered.body = bytes(tampered_body)
    plain_body = b"plaintext body"
    client_producer.send(tampered)
    client_producer.send(new_message(tag, plain_body))
    producer.send(good)

    recorder = Recorder()
    consumer = start_push(
        client_config, group, tag, DecryptingMessageListener(reader_cipher, recorder)
    )
    try:
        views = recorder.wait_for(1)
        # The dead-letter topic exists once the first message is moved, and a consumer can
        # only start on an existing topic.
        deadline = time.monotonic() + RECEIVE_TIMEOUT
        while moved_count(caplog) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        dead = start_simple_consumer(client_config, group + "-dlq", dead_letter_topic(group))
        try:
            moved = receive_until(lambda: dead.receive(16, 30), 2)
            for message in moved:
                dead.ack(message)
        finally:
            dead.shutdown()
    finally:
        consumer.shutdown()

    assert sorted(message.body for message in moved) == sorted([bytes(tampered_body), plain_body])
    by_body = {message.body: message for message in moved}
    assert by_body[bytes(tampered_body)].properties[mqseal.properties.TOPIC] == TOPICS["NORMAL"]
    assert [view.body for view in views] == [b"good body"]
    logged = caplog.text
    assert "authentication_failed (code 400" in logged
    assert "not_encrypted (code 202" in logged
    assert "moved it to %DLQ%" + group in logged
    assert "tampered body" not in logged
    assert "plaintext body" not in logged


def test_retryable_failure_is_redelivered(kms_producer, kms, flaky_reader, client_config, group, tag, caplog):
    caplog.set_level(logging.WARNING, logger="mqseal.rocketmq")
    kms_producer.send(new_message(tag, b"retried"))
    recorder = Recorder()
    listener = DecryptingMessageListener(flaky_reader, recorder)
    consumer = start_push(client_config, group, tag, listener)
    try:
        views = recorder.wait_for(1)
    finally:
        consumer.shutdown()

    assert [view.body for view in views] == [b"retried"]
    assert views[0].delivery_attempt == 2
    assert kms.unavailable == 0
    assert "provider_unavailable (code 600, retryable True)" in caplog.text
    assert moved_count(caplog) == 0


def test_unattached_listener_leaves_message_to_redelivery(
    client_producer, client_config, reader_cipher, group, tag
):
    client_producer.send(new_message(tag, b"plain, no consumer attached"))
    recorder = Recorder()
    listener = DecryptingMessageListener(reader_cipher, recorder)
    result = []

    class Probe(MessageListener):
        def consume(self, message):
            result.append(listener.consume(message))
            return ConsumeResult.SUCCESS

    consumer = PushConsumer(
        client_config, group, Probe(), {TOPICS["NORMAL"]: FilterExpression(tag)}
    )
    consumer.startup()
    try:
        deadline = time.monotonic() + RECEIVE_TIMEOUT
        while not result and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        consumer.shutdown()

    assert result == [ConsumeResult.FAILURE]
    assert recorder.views == []


def test_listener_requires_consume_method(reader_cipher):
    with pytest.raises(TypeError, match="consume method"):
        DecryptingMessageListener(reader_cipher, object())


def test_fifo_consumer_dead_letters_and_keeps_order(
    producer, client_producer, client_config, reader_cipher, tag, caplog
):
    caplog.set_level(logging.WARNING, logger="mqseal.rocketmq")
    message_group = "order-" + tag
    plain_body = b"plaintext in a FIFO group"
    for body in (b"first", plain_body, b"second"):
        message = new_message(tag, body)
        message.topic = TOPICS["FIFO"]
        message.message_group = message_group
        if body == plain_body:
            client_producer.send(message)
        else:
            producer.send(message)

    recorder = Recorder()
    listener = DecryptingMessageListener(reader_cipher, recorder)
    consumer = PushConsumer(
        client_config, FIFO_GROUP, listener, {TOPICS["FIFO"]: FilterExpression(tag)}
    )
    listener.attach(consumer)
    consumer.startup()
    try:
        views = recorder.wait_for(2)
        assert consumer.fifo is True
    finally:
        consumer.shutdown()

    assert [view.body for view in views] == [b"first", b"second"]
    assert {view.message_group for view in views} == {message_group}
    assert moved_count(caplog) == 1
    # The group's dead-letter topic outlives the test, so read only this test's tag.
    dead = start_simple_consumer(
        client_config, FIFO_GROUP + "-dlq", dead_letter_topic(FIFO_GROUP), tag
    )
    try:
        moved = receive_until(lambda: dead.receive(16, 30), 1)
        bodies = [message.body for message in moved]
        for message in moved:
            dead.ack(message)
    finally:
        dead.shutdown()
    assert bodies == [plain_body]
