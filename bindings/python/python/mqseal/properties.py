"""Names of the message properties that mqseal integrations set on RocketMQ messages.

The values come from the Rust core (``mqseal_core::properties``), so every binding uses
the same names. The envelope is self-describing and decryption never reads these
properties: they are copies for operators, broker-side filters and dead-lettered messages.
Every value is printable ASCII.
"""

from __future__ import annotations

from typing import Tuple

from . import _native

#: Every property name with a one-line description, in the core's order.
ALL: Tuple[Tuple[str, str], ...] = tuple(_native.PROPERTY_TABLE)

_NAMES = _native.PROPERTY_NAMES

#: Prefix of every property mqseal sets.
PREFIX: str = _NAMES["PREFIX"]
#: Envelope format version, for example ``1``.
VERSION: str = _NAMES["VERSION"]
#: Cipher suite name, for example ``aes-256-gcm``.
SUITE: str = _NAMES["SUITE"]
#: Key id of the first wrapped key.
KEY_ID: str = _NAMES["KEY_ID"]
#: Key version of the first wrapped key.
KEY_VERSION: str = _NAMES["KEY_VERSION"]
#: Logical topic the producer bound into the context.
TOPIC: str = _NAMES["TOPIC"]
#: Comma-separated names of the properties sealed inside the envelope.
SEALED: str = _NAMES["SEALED"]
#: On a dead-lettered message: the numeric error code.
ERROR_CODE: str = _NAMES["ERROR_CODE"]
#: On a dead-lettered message: the error code name, for example ``authentication_failed``.
ERROR_NAME: str = _NAMES["ERROR_NAME"]
#: On a dead-lettered message: ``true`` when a retry could help.
ERROR_RETRYABLE: str = _NAMES["ERROR_RETRYABLE"]
#: Context key under which integrations bind the logical topic.
CONTEXT_TOPIC: str = _NAMES["CONTEXT_TOPIC"]
