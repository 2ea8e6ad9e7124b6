"""The interface of a key provider implemented in Python, such as a wrapper of a KMS client.

Pass providers to ``Cipher(key_providers=[...])`` or ``Cipher.from_config(text,
key_provider=...)``. Any object with these methods works: :class:`KeyProvider` is a
:class:`typing.Protocol` for type checkers, and subclassing it is optional.
"""

from __future__ import annotations

from typing import Optional, Protocol, Tuple, Union, runtime_checkable

BytesOut = Union[bytes, bytearray]


@runtime_checkable
class KeyProvider(Protocol):
    """A holder of key-encryption keys that wraps and unwraps 32-byte data keys.

    The cipher calls these methods on the thread of the operation that needs a key (a
    producer's first message under a new data key, a consumer's first message under an
    uncached one), holding the GIL while they run. They must be thread-safe and must
    not call the same cipher.

    Failures: raise :class:`mqseal.ProviderUnavailableError` when a retry may succeed,
    :class:`mqseal.ProviderDeniedError` or :class:`mqseal.KeyNotFoundError` when it will
    not; the cipher raises an error with the same code whose ``__cause__`` is the raised
    exception. ``TimeoutError`` maps to ``provider_timeout`` (602, retryable), any other
    ``OSError`` (``ConnectionError`` among them) to ``provider_unavailable`` (600,
    retryable), and anything else, including mqseal codes outside 500 to 799, to
    ``provider_denied`` (700, permanent). An exception from :meth:`recognizes` counts as
    False.

    Key hygiene: the data key given to :meth:`wrap` is a ``bytearray`` that is overwritten
    with zeros when ``wrap`` returns. A ``bytearray`` returned as a plaintext key is zeroed
    once read, so return a fresh one. ``bytes`` objects and copies made by the provider
    cannot be zeroed.
    """

    def recognizes(self, key_id: str) -> bool:
        """Return True when this provider may hold ``key_id``."""
        ...

    def wrap(self, key_id: str, data_key: bytearray) -> Tuple[int, BytesOut]:
        """Wrap ``data_key`` under the primary version of ``key_id``.

        Returns ``(key_version, wrapped_key)``; the version is from 0 to 4294967295.
        """
        ...

    def unwrap(self, key_id: str, key_version: int, wrapped_key: bytes) -> BytesOut:
        """Return the 32-byte plaintext data key of ``wrapped_key``."""
        ...


class GeneratingKeyProvider(KeyProvider, Protocol):
    """A :class:`KeyProvider` with the optional methods.

    ``generate_data_key`` returns ``(key_version, data_key, wrapped_key)`` as a KMS's
    GenerateDataKey does, or None to let the cipher generate a random key and call
    ``wrap``. ``primary_version`` returns the current primary version of ``key_id``, or
    None when the provider has no versions.
    """

    def generate_data_key(self, key_id: str) -> Optional[Tuple[int, BytesOut, BytesOut]]:
        ...

    def primary_version(self, key_id: str) -> Optional[int]:
        ...
