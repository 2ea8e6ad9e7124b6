"""Type stubs of the extension module ``mqseal._native``; import from ``mqseal``."""

import datetime
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from typing_extensions import Buffer, Self

from .provider import KeyProvider

BytesLike = Union[bytes, bytearray, memoryview, Buffer]
StrPath = Union[str, "os.PathLike[str]"]
Seconds = Union[int, float, datetime.timedelta]

__version__: str
CORE_VERSION: str
SUITES: Tuple[str, ...]
BACKENDS: Tuple[str, ...]
RELEASE_THRESHOLD: int
PROPERTY_TABLE: Tuple[Tuple[str, str], ...]
PROPERTY_NAMES: Dict[str, str]

class Decrypted:
    """A decrypted message. ``repr()`` never shows the body or property values."""

    @property
    def body(self) -> bytes: ...
    @property
    def sealed_properties(self) -> Dict[str, str]:
        """Properties sealed inside the envelope; empty when there are none."""
    @property
    def key_id(self) -> str:
        """Key id of the wrapped key that recovered the data key."""
    @property
    def key_version(self) -> int: ...
    @property
    def suite(self) -> str:
        """``aes-256-gcm`` or ``chacha20-poly1305``."""
    @property
    def compressed(self) -> bool:
        """Whether the body was compressed inside the envelope."""

class Cipher:
    """Encrypts and decrypts message bodies into self-describing mqseal envelopes.

    Thread-safe and meant to be shared. Bodies above ``RELEASE_THRESHOLD`` bytes are
    processed with the GIL released.
    """

    def __init__(
        self,
        *,
        keyring_path: Optional[StrPath] = None,
        key_providers: Optional[Iterable[KeyProvider]] = None,
        key_ids: Union[str, Iterable[str], None] = None,
        suite: Optional[str] = None,
        backend: Optional[str] = None,
        max_messages_per_key: Optional[int] = None,
        max_bytes_per_key: Optional[int] = None,
        max_key_age: Optional[Seconds] = None,
        cache_capacity: Optional[int] = None,
        cache_ttl: Optional[Seconds] = None,
        compression: Optional[bool] = None,
        compression_min_size: Optional[int] = None,
        max_body_length: Optional[int] = None,
        store_context: Optional[bool] = None,
    ) -> None:
        """Create a cipher backed by the keyring file at ``keyring_path``, by
        ``key_providers`` (see :class:`mqseal.KeyProvider`), or by both.

        Providers are consulted in order, and before the keyring, which claims every
        well-formed key id. Settings left as ``None`` keep the core's defaults. Without
        ``key_ids`` the cipher can only decrypt.

        Raises:
            InvalidArgumentError: a setting is invalid or the keyring cannot be read.
        """
    @staticmethod
    def from_config_file(path: StrPath, key_provider: Optional[KeyProvider] = None) -> "Cipher":
        """Create a cipher from a configuration file in the core's ``key = value`` format.

        ``key_provider`` replaces the provider the file selects (``provider = callback``).
        """
    @staticmethod
    def from_config(text: str, key_provider: Optional[KeyProvider] = None) -> "Cipher":
        """Create a cipher from configuration text in the core's ``key = value`` format.

        ``key_provider`` replaces the provider the text selects (``provider = callback``).
        """
    def encrypt(
        self,
        body: BytesLike,
        context: Optional[Mapping[str, str]] = None,
        sealed_properties: Optional[Mapping[str, str]] = None,
    ) -> bytes:
        """Encrypt ``body`` into a new envelope.

        ``context`` is authenticated, not encrypted: decryption must pass it again.
        ``sealed_properties`` travel encrypted inside the envelope.
        """
    def decrypt(
        self, envelope: BytesLike, context: Optional[Mapping[str, str]] = None
    ) -> Decrypted:
        """Decrypt an envelope; when it stores its context, ``None`` uses the stored one."""
    def decrypt_body(
        self, envelope: BytesLike, context: Optional[Mapping[str, str]] = None
    ) -> bytes:
        """Decrypt an envelope and return only the body."""
    def encrypted_length(
        self, body_len: int, context: Optional[Mapping[str, str]] = None
    ) -> int:
        """Return the exact envelope length with no sealed properties and no compression."""
    def rewrap(self, envelope: BytesLike) -> bytes:
        """Re-wrap the data key under the current primary version of every key id."""
    def rotate(self) -> None:
        """Drop the producer's data key, so the next message gets a new one."""
    def counters(self) -> Dict[str, int]:
        """Return a snapshot of the operation counters."""
    def close(self) -> None:
        """Close the cipher; later calls raise ``HandleClosedError``. Idempotent."""
    @property
    def closed(self) -> bool: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *args: Any) -> bool: ...

def inspect(envelope: BytesLike) -> Dict[str, Any]:
    """Parse an envelope header without any key.

    Keys: ``version``, ``suite``, ``compressed``, ``sealed_properties``,
    ``stored_context`` (a dict or None), ``keys`` (a list of dicts with ``key_id``,
    ``key_version`` and ``wrapped``), ``sequence``, ``header_length``, ``payload_length``.
    """

def looks_encrypted(body: BytesLike) -> bool:
    """Return True when ``body`` starts with the envelope magic byte and a known version."""

def keyring_generate(path: StrPath, name: str) -> int:
    """Add key ``name`` to the keyring file at ``path`` (created with mode 0600)."""

def keyring_rotate(path: StrPath, name: str) -> int:
    """Add a new primary version of key ``name`` to the keyring file at ``path``."""

def error_codes() -> List[Tuple[int, str, bool]]:
    """Return every core error code as ``(code, name, retryable)``."""

def _debug_panic() -> None: ...
def _debug_raise(code: int, required_size: Optional[int] = None) -> None: ...
def _debug_live_objects() -> Tuple[int, int]: ...
def _debug_known_answer_cipher(
    config: str, dek: BytesLike, wrapped: BytesLike, key_version: int
) -> Cipher:
    """For tests only: a cipher whose one data key is ``dek``, wrapped as ``wrapped``."""
def _debug_fork_gate(enabled: bool) -> None: ...
