"""Decrypting consumers over ``rocketmq-python-client`` 5.x: decrypted views and the failure policy.

Failure policy, shared with the Java integration: a message whose decryption fails with
a retryable error (key provider unavailable) is delivered again later; a message that can
never be decrypted (tampered or malformed envelope, wrong topic, unknown key id or
version, a plaintext body where encryption is required) goes to the consumer group's
dead-letter topic ``%DLQ%<group>`` with its body unchanged, and the application never
sees it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Dict, FrozenSet, List

from rocketmq import ConsumeResult, Message, MessageListener, SimpleConsumer
from rocketmq import TransactionChecker, TransactionResolution
from rocketmq.grpc_protocol import Code, ForwardMessageToDeadLetterQueueRequest

from .. import inspect, looks_encrypted, properties
from .._native import Cipher
from ..errors import MqsealError

_LOG = logging.getLogger("mqseal.rocketmq")

_METADATA_NAMES: FrozenSet[str] = frozenset(name for name, _ in properties.ALL)


class DecryptedMessage:
    """Decrypted view of a received ``rocketmq.Message``.

    It has the attributes of a received ``rocketmq.Message`` (``topic``, ``body``,
    ``properties``, ``tag``, ``keys``, ``message_group``, ``message_id``,
    ``delivery_attempt``, ...), with the plaintext body and the sealed properties merged
    into ``properties``, the mqseal metadata properties removed. ``original`` is the
    client's message, which still contains the ciphertext and the receipt handle: ack and
    change the invisible duration with it. ``encrypted`` is false for a plaintext body
    let through by ``allow_unencrypted``; ``key_id``, ``key_version`` and ``suite`` are
    None then.
    """

    __slots__ = (
        "original",
        "body",
        "properties",
        "sealed_properties",
        "encrypted",
        "key_id",
        "key_version",
        "suite",
    )

    def __init__(self, original: Message, body: bytes, decrypted) -> None:
        self.original = original
        self.body = body
        plain = {k: v for k, v in original.properties.items() if k not in _METADATA_NAMES}
        if decrypted is None:
            self.sealed_properties: Dict[str, str] = {}
            self.encrypted = False
            self.key_id = self.key_version = self.suite = None
        else:
            self.sealed_properties = dict(decrypted.sealed_properties)
            plain.update(self.sealed_properties)
            self.encrypted = True
            self.key_id = decrypted.key_id
            self.key_version = decrypted.key_version
            self.suite = decrypted.suite
        self.properties = plain

    def __getattr__(self, name: str):
        # Every other attribute (topic, tag, keys, message_id, receipt_handle, ...) is the
        # original message's. Before __init__ has set it, "original" itself is missing.
        if name == "original":
            raise AttributeError(name)
        return getattr(self.original, name)

    def __repr__(self) -> str:
        return (
            f"DecryptedMessage(topic={self.original.topic!r}, "
            f"message_id={self.original.message_id!r}, body_length={len(self.body)}, "
            f"properties={sorted(self.properties)!r}, encrypted={self.encrypted})"
        )


def default_logical_topic(message: Message) -> str:
    """Return the topic the broker delivered the message on, which the producer bound."""
    return message.topic


class MessageDecryptor:
    """Decrypt received messages into ``DecryptedMessage`` views.

    Args:
        cipher: a ``mqseal.Cipher``; it needs no key ids to decrypt.
        allow_unencrypted: hand bodies that are not mqseal envelopes to the application
            unchanged, for topics in migration. Off by default: such a body raises
            ``NotEncryptedError``, a permanent failure.
        logical_topic: returns the logical topic bound into a message's context. The
            default is the delivered topic. A reader of a dead-letter topic
            ``%DLQ%<group>`` must return the original topic, which the gRPC proxy does
            not expose: the ``mqseal-topic`` property contains it, but any producer can set
            that property, so trust it only for topics the group consumes.
    """

    def __init__(
        self,
        cipher: Cipher,
        *,
        allow_unencrypted: bool = False,
        logical_topic: Callable[[Message], str] = default_logical_topic,
    ) -> None:
        self.cipher = cipher
        self.allow_unencrypted = allow_unencrypted
        self.logical_topic = logical_topic

    def decrypt(self, message: Message) -> DecryptedMessage:
        """Return the decrypted view of ``message``; raises ``MqsealError`` on failure."""
        body = message.body or b""
        if self.allow_unencrypted and not looks_encrypted(body):
            return DecryptedMessage(message, bytes(body), None)
        context = {properties.CONTEXT_TOPIC: self.logical_topic(message)}
        decrypted = self.cipher.decrypt(body, context=context)
        return DecryptedMessage(message, decrypted.body, decrypted)


class _LogLimiter:
    """Allows at most ``limit`` log lines per ``period`` seconds, and counts the rest."""

    def __init__(self, period: float, limit: int) -> None:
        self._period = period
        self._limit = limit
        self._lock = threading.Lock()
        self._window_start = 0.0
        self._used = 0
        self._held_back = 0

    def acquire(self) -> int:
        """Return -1 when the line must be dropped, else the lines dropped since the last one."""
        with self._lock:
            now = time.monotonic()
            if now - self._window_start >= self._period:
                self._window_start = now
                self._used = 0
            if self._used >= self._limit:
                self._held_back += 1
                return -1
            self._used += 1
            held_back, self._held_back = self._held_back, 0
            return held_back


#: At most 20 lines per 10 s about messages that failed to decrypt, for every consumer together.
_FAILURE_LOG = _LogLimiter(10.0, 20)


def describe(message: Message) -> str:
    """Return "message ID on topic T (key K version V)" for logs, from the envelope header only."""
    key_id = key_version = "unknown"
    body = message.body
    if body and looks_encrypted(body):
        try:
            keys = inspect(body)["keys"]
            key_id = ",".join(str(k["key_id"]) for k in keys)
            key_version = ",".join(str(k["key_version"]) for k in keys)
        except MqsealError as error:
            key_id = f"unreadable ({error.name})"
            key_version = "unreadable"
    return (
        f"message {message.message_id} on topic {message.topic} "
        f"(key {key_id!r} version {key_version})"
    )


def log_failure(message: Message, error: MqsealError, action: str, failure=None) -> None:
    """Log one decryption failure with its reason code; rate-limited, never a body or key."""
    held_back = _FAILURE_LOG.acquire()
    if held_back < 0:
        return
    line = "Failed to decrypt %s: %s (code %d, retryable %s); %s"
    arguments = [describe(message), error.name, error.code, error.retryable, action]
    if held_back:
        line += "; %d similar lines not logged"
        arguments.append(held_back)
    if failure is None:
        _LOG.warning(line, *arguments)
    else:
        line += ": %s"
        arguments.append(failure)
        _LOG.error(line, *arguments)


def forward_to_dead_letter_queue(consumer, message: Message, max_delivery_attempts: int) -> None:
    """Ask the proxy to move ``message`` to ``%DLQ%<group>`` of ``consumer``.

    The proxy (RocketMQ 5.3.3, ``ForwardMessageToDeadLetterQueue``) makes the broker copy
    the stored message, so body and user properties stay byte for byte the same, and then
    acknowledges the original. Raises the client's exception when the proxy rejects it.
    """
    request = ForwardMessageToDeadLetterQueueRequest()
    request.group.name = consumer.consumer_group
    request.group.resource_namespace = consumer.client_configuration.namespace
    request.topic.name = message.topic
    request.topic.resource_namespace = consumer.client_configuration.namespace
    request.receipt_handle = message.receipt_handle
    request.message_id = message.message_id
    request.delivery_attempt = message.delivery_attempt or 1
    request.max_delivery_attempts = max_delivery_attempts
    future = consumer.rpc_client.forward_message_to_dead_letter_queue_async(
        message.endpoints,
        request,
        metadata=consumer.sign(),
        timeout=consumer.client_configuration.request_timeout,
    )
    response = future.result()
    if response.status.code != Code.OK:
        raise RuntimeError(
            f"the proxy rejected moving message {message.message_id} to the dead-letter "
            f"topic of group {consumer.consumer_group}: {Code.Name(response.status.code)} "
            f"{response.status.message}"
        )


def dead_letter_topic(consumer_group: str) -> str:
    """Return the dead-letter topic of a consumer group."""
    return f"%DLQ%{consumer_group}"


class DecryptingSimpleConsumer:
    """Receive from a ``rocketmq.SimpleConsumer`` and return decrypted views.

    ``receive`` returns ``DecryptedMessage`` views of the messages that decrypt. Messages
    that fail follow the failure policy: a permanent failure is moved to the group's
    dead-letter topic (when ``dead_letter`` is true, the default) and a retryable one is
    left invisible for ``retry_delay`` seconds, then delivered again. ``ack`` and
    ``change_invisible_duration`` take a view or the client's message and always use the
    client's message.

    Args:
        consumer: a ``rocketmq.SimpleConsumer``; ``startup`` here starts it.
        cipher: a ``mqseal.Cipher``.
        allow_unencrypted, logical_topic: see ``MessageDecryptor``.
        dead_letter: move permanent failures to ``%DLQ%<group>``; when false they are
            left to redelivery, and reach the dead-letter topic once the group's maximum
            delivery attempts are used up.
        retry_delay: seconds a retryable failure stays invisible before redelivery.
    """

    def __init__(
        self,
        consumer: SimpleConsumer,
        cipher: Cipher,
        *,
        allow_unencrypted: bool = False,
        logical_topic: Callable[[Message], str] = default_logical_topic,
        dead_letter: bool = True,
        retry_delay: int = 10,
    ) -> None:
        self.consumer = consumer
        self.decryptor = MessageDecryptor(
            cipher, allow_unencrypted=allow_unencrypted, logical_topic=logical_topic
        )
        self.dead_letter = dead_letter
        self.retry_delay = retry_delay

    def startup(self, settings_timeout: float = 30.0) -> None:
        """Start the client and wait until the proxy has sent its settings.

        ``rocketmq-python-client`` 5.1.2 returns from ``startup`` before the settings
        arrive, and a ``receive`` before then fails on the proxy.
        """
        self.consumer.startup()
        event = getattr(self.consumer, "_init_settings_event", None)
        if event is not None and not event.wait(settings_timeout):
            raise TimeoutError(
                f"the proxy sent no settings to consumer group {self.consumer.consumer_group} "
                f"within {settings_timeout} s; check the endpoint, that every subscribed topic "
                f"exists, and the proxy log"
            )

    def shutdown(self) -> None:
        """Shut the client down."""
        self.consumer.shutdown()

    def receive(self, max_message_num: int, invisible_duration: int) -> List[DecryptedMessage]:
        """Receive up to ``max_message_num`` messages and return the ones that decrypt."""
        views = []
        for message in self.consumer.receive(max_message_num, invisible_duration):
            try:
                views.append(self.decryptor.decrypt(message))
            except MqsealError as error:
                self._handle_failure(message, error)
        return views

    def ack(self, message) -> None:
        """Acknowledge a received message, given as its view or as the client's message."""
        self.consumer.ack(_original(message))

    def change_invisible_duration(self, message, invisible_duration: int) -> None:
        """Change how long a received message stays invisible, in seconds."""
        self.consumer.change_invisible_duration(_original(message), invisible_duration)

    def _handle_failure(self, message: Message, error: MqsealError) -> None:
        group = self.consumer.consumer_group
        if error.retryable or not self.dead_letter:
            log_failure(message, error, f"it will be delivered again in {self.retry_delay} s")
            try:
                self.consumer.change_invisible_duration(message, self.retry_delay)
            except Exception as failure:  # noqa: BLE001 - logged; redelivery still happens
                _LOG.warning(
                    "Failed to shorten the invisible time of message %s: %s; it is delivered "
                    "again when the receive's invisible duration ends",
                    message.message_id,
                    failure,
                )
            return
        try:
            forward_to_dead_letter_queue(self.consumer, message, message.delivery_attempt or 1)
        except Exception as failure:  # noqa: BLE001 - logged; redelivery is the fallback
            log_failure(
                message,
                error,
                f"moving it to {dead_letter_topic(group)} failed; it will be delivered again",
                failure,
            )
            return
        log_failure(message, error, f"moved it to {dead_letter_topic(group)}")


class DecryptingMessageListener(MessageListener):
    """``MessageListener`` for a ``rocketmq.PushConsumer`` that decrypts before ``delegate`` runs.

    ``delegate.consume`` receives a ``DecryptedMessage``; its result is returned to the
    client. A retryable failure returns ``FAILURE`` without calling the delegate, so the
    client delivers the message again with back-off. A permanent failure is moved to
    ``%DLQ%<group>`` through the proxy and acknowledged; the delegate never sees it. When
    that move fails, or no consumer is attached yet, the listener returns ``FAILURE`` and
    the message reaches the dead-letter topic once the group's maximum delivery attempts
    (``retryMaxTimes`` + 1) are used up, also with its body unchanged.

    Attach the push consumer after creating it, before ``startup``::

        listener = DecryptingMessageListener(cipher, MyListener())
        consumer = PushConsumer(config, group, listener, {topic: FilterExpression()})
        listener.attach(consumer)
        consumer.startup()
    """

    #: Delivery attempts reported to the proxy when moving a message; the 5.3.3 proxy
    #: does not read it.
    MAX_DELIVERY_ATTEMPTS = 17

    def __init__(
        self,
        cipher: Cipher,
        delegate: MessageListener,
        *,
        allow_unencrypted: bool = False,
        logical_topic: Callable[[Message], str] = default_logical_topic,
    ) -> None:
        if delegate is None or not hasattr(delegate, "consume"):
            raise TypeError("delegate must be a rocketmq.MessageListener with a consume method")
        self.delegate = delegate
        self.decryptor = MessageDecryptor(
            cipher, allow_unencrypted=allow_unencrypted, logical_topic=logical_topic
        )
        self._consumer = None

    def attach(self, consumer) -> None:
        """Attach the push consumer that moves permanent failures to its dead-letter topic."""
        self._consumer = consumer

    def consume(self, message: Message) -> ConsumeResult:
        try:
            view = self.decryptor.decrypt(message)
        except MqsealError as error:
            return self._handle_failure(message, error)
        return self.delegate.consume(view)

    def _handle_failure(self, message: Message, error: MqsealError) -> ConsumeResult:
        if error.retryable:
            log_failure(message, error, "it will be delivered again later")
            return ConsumeResult.FAILURE
        consumer = self._consumer
        if consumer is None:
            log_failure(
                message,
                error,
                "no push consumer is attached to the listener, so it will be delivered again "
                "until the group's maximum delivery attempts move it to the dead-letter topic",
            )
            return ConsumeResult.FAILURE
        topic = dead_letter_topic(consumer.consumer_group)
        # NOTE: no test makes the proxy reject the move, so the fallback in the except
        # branch has not been run.
        try:
            forward_to_dead_letter_queue(consumer, message, self.MAX_DELIVERY_ATTEMPTS)
        except Exception as failure:  # noqa: BLE001 - logged; redelivery is the fallback
            log_failure(message, error, f"moving it to {topic} failed; it will be delivered again", failure)
            return ConsumeResult.FAILURE
        log_failure(message, error, f"moved it to {topic}")
        # The proxy has acknowledged the message; the client's second ack is accepted.
        return ConsumeResult.SUCCESS


class DecryptingTransactionChecker(TransactionChecker):
    """``TransactionChecker`` that hands ``delegate.check`` a decrypted view.

    The proxy's transaction check delivers the stored half message, whose body is the
    envelope. When it cannot be decrypted, ``check`` logs the reason and returns
    ``TRANSACTION_RESOLUTION_UNSPECIFIED`` (unknown), so the broker checks again later;
    design checkers to decide from message keys or ids where possible.
    """

    def __init__(self, cipher: Cipher, delegate: TransactionChecker, **decryptor_options) -> None:
        self.delegate = delegate
        self.decryptor = MessageDecryptor(cipher, **decryptor_options)

    def check(self, message: Message):
        try:
            view = self.decryptor.decrypt(message)
        except MqsealError as error:
            log_failure(message, error, "returning unknown so the broker checks again later")
            return TransactionResolution.TRANSACTION_RESOLUTION_UNSPECIFIED
        return self.delegate.check(view)


def _original(message) -> Message:
    return message.original if isinstance(message, DecryptedMessage) else message
