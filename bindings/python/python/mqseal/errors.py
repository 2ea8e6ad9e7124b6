"""Exceptions of mqseal, one class per group of the core's stable error codes.

Codes come from the Rust core and are shared with the C ABI and Java: blocks of 100 by
kind, never renumbered or reused. :func:`_from_native` is the only place in the Python
library that maps a code to a class; the extension calls it for every error it raises.
A code this table does not know (from a newer extension) maps to the class of its block.
"""

from __future__ import annotations

from typing import ClassVar, Optional, Tuple, Union


class MqsealError(Exception):
    """Base class of every mqseal error.

    Attributes:
        code: the stable numeric code, for example 400.
        name: the stable snake_case name of the code, for example ``authentication_failed``.
        retryable: true when the same call may succeed later without any change.
        message: what failed, on which value, and what to do. Messages never contain key
            bytes or message bodies.

    A key provider can raise a class with the message alone, for example
    ``ProviderUnavailableError("KMS unreachable")``; the class's ``default_code`` then
    gives the code, name and retryability.
    """

    #: ``(code, name, retryable)`` used when the exception is built from a message alone.
    default_code: ClassVar[Tuple[int, str, bool]] = (900, "internal", False)

    def __init__(
        self,
        code: Union[int, str],
        name: Optional[str] = None,
        retryable: Optional[bool] = None,
        message: Optional[str] = None,
    ) -> None:
        if isinstance(code, str) and name is None and retryable is None and message is None:
            message = code
            code, name, retryable = self.default_code
        if not isinstance(code, int) or name is None or retryable is None or message is None:
            raise TypeError(
                f"{type(self).__name__} takes (message) or (code, name, retryable, message)"
            )
        # The four values are the exception's args, so pickling (multiprocessing) keeps them.
        super().__init__(code, name, retryable, message)
        self.code = code
        self.name = name
        self.retryable = retryable
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} [{self.name}]"


class InvalidArgumentError(MqsealError, ValueError):
    """An argument or setting is invalid (codes 100 to 199)."""

    default_code = (100, "invalid_argument", False)


class BufferTooSmallError(InvalidArgumentError):
    """An output buffer is too small (code 102); ``required_size`` gives the size needed."""

    default_code = (102, "buffer_too_small", False)

    def __init__(
        self,
        code: Union[int, str],
        name: Optional[str] = None,
        retryable: Optional[bool] = None,
        message: Optional[str] = None,
        required_size: Optional[int] = None,
    ) -> None:
        super().__init__(code, name, retryable, message)
        self.required_size = required_size


class HandleClosedError(InvalidArgumentError):
    """The cipher was closed (code 104)."""

    default_code = (104, "handle_closed", False)


class MalformedEnvelopeError(MqsealError):
    """The envelope is structurally invalid or truncated (codes 200 to 299)."""

    default_code = (200, "malformed_envelope", False)


class NotEncryptedError(MalformedEnvelopeError):
    """The input is not an mqseal envelope: it does not start with the magic byte (code 202)."""

    default_code = (202, "not_encrypted", False)


class UnsupportedEnvelopeError(MqsealError):
    """The envelope uses a version, suite or feature this build does not support (300 to 399)."""

    default_code = (300, "unsupported_version", False)


class AuthenticationFailedError(MqsealError):
    """Authentication failed: tampered data, a wrong key or a wrong context (400 to 499)."""

    default_code = (400, "authentication_failed", False)


class KeyNotFoundError(MqsealError):
    """No configured provider has the key id or key version (500 to 599)."""

    default_code = (500, "key_not_found", False)


class ProviderUnavailableError(MqsealError):
    """The key provider was unavailable, throttled or timed out; retrying may help (600 to 699)."""

    default_code = (600, "provider_unavailable", True)


class ProviderDeniedError(MqsealError):
    """The key provider denied access, the key is disabled, or its response is unusable (700 to 799)."""

    default_code = (700, "provider_denied", False)


class UsageLimitExceededError(MqsealError):
    """A data-key usage limit or a size limit was exceeded (800 to 899)."""

    default_code = (800, "usage_limit_exceeded", False)


class InternalError(MqsealError):
    """An internal invariant failed or a Rust panic was caught: a bug in mqseal (900 and up)."""


_CLASS_BY_CODE = {
    102: BufferTooSmallError,
    104: HandleClosedError,
    202: NotEncryptedError,
}

_CLASS_BY_BLOCK = {
    1: InvalidArgumentError,
    2: MalformedEnvelopeError,
    3: UnsupportedEnvelopeError,
    4: AuthenticationFailedError,
    5: KeyNotFoundError,
    6: ProviderUnavailableError,
    7: ProviderDeniedError,
    8: UsageLimitExceededError,
}


def error_class(code: int) -> type[MqsealError]:
    """Return the exception class for a numeric error code."""
    specific = _CLASS_BY_CODE.get(code)
    if specific is not None:
        return specific
    return _CLASS_BY_BLOCK.get(code // 100, InternalError)


def _from_native(
    code: int, name: str, retryable: bool, message: str, required_size: Optional[int]
) -> MqsealError:
    """Build the exception for an error of the extension; called from Rust."""
    cls = error_class(code)
    if cls is BufferTooSmallError:
        return BufferTooSmallError(code, name, retryable, message, required_size)
    return cls(code, name, retryable, message)
