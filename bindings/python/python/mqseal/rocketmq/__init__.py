"""mqseal for the official RocketMQ 5.x gRPC client (PyPI ``rocketmq-python-client``).

The client talks to a RocketMQ 5.x proxy. ``EncryptingProducer`` encrypts before sending,
``DecryptingSimpleConsumer`` and ``DecryptingMessageListener`` (for ``PushConsumer``)
decrypt after receiving, and ``DecryptingTransactionChecker`` decrypts half messages for
transaction checks. mqseal is not on PyPI: install the locally built wheel with its
``rocketmq`` extra, ``pip install -c bindings/python/constraints-rocketmq.txt
"$(bindings/python/build-wheel.sh)[rocketmq]"``, which pins the tested versions. See
``docs/PYTHON.md``.
"""

from __future__ import annotations

try:
    from rocketmq import ClientConfiguration as _ClientConfiguration  # noqa: F401
except ImportError as _error:
    raise ImportError(
        "mqseal.rocketmq needs the official RocketMQ 5.x gRPC client, PyPI package "
        "'rocketmq-python-client' (module rocketmq with ClientConfiguration), which is not "
        "installed or is shadowed by another 'rocketmq' package; install the mqseal wheel "
        "with its rocketmq extra, from the repository root: pip install -c "
        "bindings/python/constraints-rocketmq.txt \"$(bindings/python/build-wheel.sh)[rocketmq]\""
    ) from _error

from ._checks import (
    MAX_BODY_SIZE,
    MAX_PROPERTY_COUNT,
    MAX_PROPERTY_SIZE,
    RESERVED_PROPERTY_NAMES,
    InvalidPropertyError,
    MessageTooLargeError,
)
from ._consumer import (
    DecryptedMessage,
    DecryptingMessageListener,
    DecryptingSimpleConsumer,
    DecryptingTransactionChecker,
    MessageDecryptor,
    dead_letter_topic,
    default_logical_topic,
    forward_to_dead_letter_queue,
)
from ._producer import EncryptingProducer

__all__ = [
    "MAX_BODY_SIZE",
    "MAX_PROPERTY_COUNT",
    "MAX_PROPERTY_SIZE",
    "RESERVED_PROPERTY_NAMES",
    "DecryptedMessage",
    "DecryptingMessageListener",
    "DecryptingSimpleConsumer",
    "DecryptingTransactionChecker",
    "EncryptingProducer",
    "InvalidPropertyError",
    "MessageDecryptor",
    "MessageTooLargeError",
    "dead_letter_topic",
    "default_logical_topic",
    "forward_to_dead_letter_queue",
]
