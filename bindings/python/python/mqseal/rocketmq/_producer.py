"""Encrypting producer over the ``Producer`` of ``rocketmq-python-client`` 5.x."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Dict, Iterable, Tuple

from rocketmq import Message, Producer, SendReceipt

from .. import inspect, properties
from .._native import Cipher
from . import _checks


class EncryptingProducer:
    """Encrypt message bodies, then send them with a ``rocketmq.Producer``.

    Each message is copied: the copy's body is the envelope, sealed properties move into
    the envelope, the mqseal metadata properties are added, and tag, keys, message group,
    delivery timestamp and the other properties are copied. The application's message is
    never changed and never sent. The logical topic (the message's topic) is bound into
    the envelope as authenticated context under ``mqseal.properties.CONTEXT_TOPIC``.

    Every check runs before anything is sent, and any failure raises: a message is never
    sent in plaintext because encryption failed.

    Args:
        producer: a ``rocketmq.Producer``; the caller starts and shuts it down.
        cipher: a ``mqseal.Cipher`` with at least one key id.
        sealed_properties: names of user properties to seal inside the envelope.
        sealed_property_prefixes: user properties whose names start with one of these
            are sealed too.
        max_body_size: largest envelope, in bytes; the client's fixed 4 MiB by default.
        max_property_size: largest UTF-8 size of the plain properties, tag and keys; the
            proxy's default 16 KiB.
        max_property_count: most plain user properties; the proxy's default 128.
    """

    def __init__(
        self,
        producer: Producer,
        cipher: Cipher,
        *,
        sealed_properties: Iterable[str] = (),
        sealed_property_prefixes: Iterable[str] = (),
        max_body_size: int = _checks.MAX_BODY_SIZE,
        max_property_size: int = _checks.MAX_PROPERTY_SIZE,
        max_property_count: int = _checks.MAX_PROPERTY_COUNT,
    ) -> None:
        if producer is None or cipher is None:
            raise TypeError("EncryptingProducer needs a rocketmq.Producer and a mqseal.Cipher")
        names = frozenset(sealed_properties)
        prefixes = tuple(sealed_property_prefixes)
        _checks.check_sealed_selection(names, prefixes)
        self.producer = producer
        self.cipher = cipher
        self._sealed_names = names
        self._sealed_prefixes = prefixes
        self.max_body_size = max_body_size
        self.max_property_size = max_property_size
        self.max_property_count = max_property_count

    def encrypt(self, message: Message) -> Message:
        """Return the encrypted copy of ``message`` that ``send`` would send.

        Raises:
            InvalidPropertyError: a property, tag, key or message group the proxy rejects.
            MessageTooLargeError: the envelope or the plain properties exceed a limit.
            MqsealError: encryption failed.
        """
        topic, body = _require_topic_and_body(message)
        user_properties = dict(message.properties)
        _checks.check_user_properties(user_properties)
        keys = sorted(message.keys)
        _checks.check_plain_fields(message.tag, keys, message.message_group)

        sealed, plain = self._split(user_properties)
        context = {properties.CONTEXT_TOPIC: topic}
        envelope = self.cipher.encrypt(body, context=context, sealed_properties=sealed or None)
        plain.update(_metadata(envelope, topic))
        self._check_sizes(message, topic, len(body), len(envelope), plain, keys)

        copy = Message()
        copy.topic = topic
        copy.body = envelope
        if message.tag is not None:
            copy.tag = message.tag
        for key in keys:
            copy.keys = key
        if message.message_group is not None:
            copy.message_group = message.message_group
        if message.delivery_timestamp:
            copy.delivery_timestamp = message.delivery_timestamp
        if message.priority is not None:
            copy.priority = message.priority
        if message.lite_topic is not None:
            copy.lite_topic = message.lite_topic
        for name, value in plain.items():
            copy.add_property(name, value)
        return copy

    def send(self, message: Message, transaction=None) -> SendReceipt:
        """Encrypt ``message`` and send the copy; with ``transaction``, as its half message.

        Returns the client's ``SendReceipt``. Raises what ``encrypt`` raises, and the
        client's exceptions when sending fails.
        """
        copy = self.encrypt(message)
        if transaction is None:
            return self.producer.send(copy)
        return self.producer.send(copy, transaction)

    def send_async(self, message: Message) -> Future:
        """Encrypt ``message`` now and send the copy asynchronously.

        Encryption errors raise here; send errors arrive through the returned future.
        """
        return self.producer.send_async(self.encrypt(message))

    def begin_transaction(self):
        """Begin a transaction on the wrapped producer; pass it to ``send``."""
        return self.producer.begin_transaction()

    def _split(self, user_properties: Dict[str, str]) -> Tuple[Dict[str, str], Dict[str, str]]:
        sealed: Dict[str, str] = {}
        plain: Dict[str, str] = {}
        for name, value in user_properties.items():
            if name in self._sealed_names or name.startswith(self._sealed_prefixes):
                sealed[name] = value
            else:
                plain[name] = value
        return sealed, plain

    def _check_sizes(
        self,
        message: Message,
        topic: str,
        body_size: int,
        envelope_size: int,
        plain: Dict[str, str],
        keys: Iterable[str],
    ) -> None:
        if len(plain) > self.max_property_count:
            raise _checks.InvalidPropertyError(
                "properties",
                f"the message for topic {topic} has {len(plain)} plain properties including "
                f"mqseal's metadata, over the proxy's limit of {self.max_property_count}; "
                f"seal some of them or drop them",
            )
        property_size = _checks.property_size(plain, message.tag, keys)
        if property_size > self.max_property_size:
            raise _checks.InvalidPropertyError(
                "properties",
                f"the plain properties, tag and keys of the message for topic {topic} take "
                f"{property_size} bytes including mqseal's metadata, over the proxy's limit of "
                f"{self.max_property_size} bytes; seal large properties or shorten them",
            )
        checked_size = envelope_size
        what = "a message"
        if message.delivery_timestamp:
            checked_size += _checks.timer_record_overhead(topic, plain)
            what = "a message with a delivery time (its size includes the broker's timer record)"
        if checked_size > self.max_body_size:
            raise _checks.MessageTooLargeError(
                topic, body_size, checked_size, self.max_body_size, what
            )


def _require_topic_and_body(message: Message) -> Tuple[str, bytes]:
    if not isinstance(message, Message):
        raise TypeError(f"expected a rocketmq.Message, got {type(message).__name__}")
    if not message.topic:
        raise _checks.InvalidPropertyError("topic", "the message has no topic; set one before sending")
    if message.body is None:
        raise _checks.InvalidPropertyError(
            "body", f"the message for topic {message.topic} has no body; set one before sending"
        )
    return message.topic, message.body


def _metadata(envelope: bytes, topic: str) -> Dict[str, str]:
    """Return the metadata properties, read from the envelope header (no key needed)."""
    info = inspect(envelope)
    keys = info["keys"]
    return {
        properties.VERSION: str(info["version"]),
        properties.SUITE: _checks.text_safe(str(info["suite"])),
        properties.KEY_ID: ",".join(_checks.text_safe(str(k["key_id"])) for k in keys),
        properties.KEY_VERSION: ",".join(str(k["key_version"]) for k in keys),
        properties.TOPIC: _checks.text_safe(topic),
    }
