"""mqseal: envelope encryption of Apache RocketMQ message bodies.

A :class:`Cipher` seals a message body into a self-describing envelope: a random data
key encrypts the body with AES-256-GCM or ChaCha20-Poly1305, and a key-encryption key
from a key provider wraps the data key into the envelope header. The consumer needs only
the envelope and its own key provider. See ``docs/PYTHON.md`` in the repository.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from .errors import (
    AuthenticationFailedError,
    BufferTooSmallError,
    HandleClosedError,
    InternalError,
    InvalidArgumentError,
    KeyNotFoundError,
    MalformedEnvelopeError,
    MqsealError,
    NotEncryptedError,
    ProviderDeniedError,
    ProviderUnavailableError,
    UnsupportedEnvelopeError,
    UsageLimitExceededError,
)
from . import _native
from ._native import (
    BACKENDS,
    SUITES,
    Cipher,
    Decrypted,
    __version__,
    inspect,
    keyring_generate,
    keyring_rotate,
    looks_encrypted,
)
from . import properties
from .provider import GeneratingKeyProvider, KeyProvider

#: Every error code of the core, by name: ``{"authentication_failed": 400, ...}``.
ERROR_CODES: Mapping[str, int] = MappingProxyType(
    {name: code for code, name, _retryable in _native.error_codes()}
)

__all__ = [
    "AuthenticationFailedError",
    "BACKENDS",
    "BufferTooSmallError",
    "Cipher",
    "Decrypted",
    "ERROR_CODES",
    "GeneratingKeyProvider",
    "HandleClosedError",
    "InternalError",
    "InvalidArgumentError",
    "KeyNotFoundError",
    "KeyProvider",
    "MalformedEnvelopeError",
    "MqsealError",
    "NotEncryptedError",
    "ProviderDeniedError",
    "ProviderUnavailableError",
    "SUITES",
    "UnsupportedEnvelopeError",
    "UsageLimitExceededError",
    "__version__",
    "inspect",
    "keyring_generate",
    "keyring_rotate",
    "looks_encrypted",
    "properties",
]
