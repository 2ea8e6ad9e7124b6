"""Checks that an encrypted message passes the RocketMQ 5.x proxy before it is sent.

The limits are those of RocketMQ 5.3.3 (``ProxyConfig`` defaults and
``SendMessageActivity.buildMessageProperty``) and of ``rocketmq-python-client`` 5.1.2,
which rejects bodies above 4 MiB before sending. Checking them here turns a late proxy
error into an exception that names the value and the fix, raised before anything is sent.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Optional

from ..errors import InvalidArgumentError, UsageLimitExceededError
from .. import ERROR_CODES, properties

#: Largest body ``rocketmq-python-client`` 5.1.2 sends (``Producer.DEFAULT_MAX_BODY_SIZE``).
MAX_BODY_SIZE = 4 * 1024 * 1024
#: Largest total UTF-8 size of user property keys and values, tag and message keys that
#: the proxy accepts (``ProxyConfig.maxUserPropertySize``).
MAX_PROPERTY_SIZE = 16 * 1024
#: Most user properties per message that the proxy accepts (``ProxyConfig.userPropertyMaxNum``).
MAX_PROPERTY_COUNT = 128

#: Property names that RocketMQ 5.3.3 reserves (``MessageConst.STRING_HASH_SET``); the
#: proxy rejects them as user properties.
RESERVED_PROPERTY_NAMES = frozenset(
    """TRACE_ON MSG_REGION KEYS TAGS WAIT DELAY RETRY_TOPIC REAL_TOPIC REAL_QID TRAN_MSG
    PGROUP MIN_OFFSET MAX_OFFSET BUYER_ID ORIGIN_MESSAGE_ID TRANSFER_FLAG CORRECTION_FLAG
    MQ2_FLAG RECONSUME_TIME UNIQ_KEY MAX_RECONSUME_TIMES CONSUME_START_TIME POP_CK
    POP_CK_OFFSET 1ST_POP_TIME TRAN_PREPARED_QUEUE_OFFSET DUP_INFO EXTEND_UNIQ_INFO
    INSTANCE_ID CORRELATION_ID REPLY_TO_CLIENT TTL ARRIVE_TIME PUSH_REPLY_TIME CLUSTER
    MSG_TYPE INNER_MULTI_QUEUE_OFFSET TIMER_DELAY_MS TIMER_DELAY_SEC TIMER_DELIVER_MS
    TIMER_ENQUEUE_MS TIMER_DEQUEUE_MS TIMER_ROLL_TIMES TIMER_OUT_MS TIMER_DEL_UNIQKEY
    TIMER_DELAY_LEVEL __BORNHOST BORN_TIMESTAMP DLQ_ORIGIN_TOPIC DLQ_ORIGIN_MESSAGE_ID
    __CRC32#""".split()
)

#: Topic in which the 5.3.3 broker parks messages with a delivery time.
_TIMER_TOPIC = "rmq_sys_wheel_timer"
#: Bytes reserved for the properties the broker adds to a timer record besides the topic
#: name itself: ``REAL_TOPIC``, ``TIMER_OUT_MS``, ``REAL_QID``, ``CLUSTER`` and separators.
# NOTE: an estimate read from the 5.3.3 broker source, which assumes a cluster name of at
# most about 400 characters.
_TIMER_RESERVE = 512


class InvalidPropertyError(InvalidArgumentError):
    """A message property, tag, key or message group that the RocketMQ proxy would reject.

    ``field`` names the offending field, such as ``property 'trace-id'`` or ``tag``.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(ERROR_CODES["invalid_argument"], "invalid_argument", False, message)
        self.field = field


class MessageTooLargeError(UsageLimitExceededError):
    """The encrypted message exceeds a size limit of the client or the proxy; nothing was sent.

    Attributes: ``topic``, ``body_size`` (plaintext bytes), ``encrypted_size`` (the size
    checked against the limit) and ``limit`` (bytes).
    """

    def __init__(
        self, topic: str, body_size: int, encrypted_size: int, limit: int, what: str
    ) -> None:
        message = (
            f"{what} for topic {topic} is too large once encrypted: the plaintext body is "
            f"{body_size} bytes and the checked size {encrypted_size} bytes, over the limit "
            f"of {limit} bytes; send at most {body_size - (encrypted_size - limit)} bytes "
            f"of body, or split the message"
        )
        super().__init__(
            ERROR_CODES["usage_limit_exceeded"], "usage_limit_exceeded", False, message
        )
        self.topic = topic
        self.body_size = body_size
        self.encrypted_size = encrypted_size
        self.limit = limit


#: The characters Java's ``Character.isISOControl`` matches, which the proxy rejects.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
#: Characters that ``text_safe`` percent-encodes: control characters and ``%`` itself.
_NEEDS_ENCODING = re.compile("[%\x00-\x1f\x7f-\x9f]")


def check_text(field: str, value: str) -> None:
    """Raise InvalidPropertyError when ``value`` is not a non-blank ``str`` free of control characters."""
    if not isinstance(value, str):
        raise InvalidPropertyError(
            field, f"{field} must be a str, got {type(value).__name__}; convert it to text"
        )
    if not value.strip():
        raise InvalidPropertyError(
            field, f"{field} is blank; RocketMQ drops blank values, so give a non-blank one"
        )
    control = _CONTROL.search(value)
    if control is not None:
        raise InvalidPropertyError(
            field,
            f"{field} contains the control character U+{ord(control.group()):04X} at index "
            f"{control.start()}, which the RocketMQ proxy rejects; remove it or encode the "
            f"value (for example as base64)",
        )


def check_user_properties(user_properties: Mapping[str, str]) -> None:
    """Check the names and values the application set, before any are sealed."""
    for name, value in user_properties.items():
        check_text("property name", name)
        check_text(f"value of property '{name}'", value)
        if name in RESERVED_PROPERTY_NAMES:
            raise InvalidPropertyError(
                f"property '{name}'",
                f"property '{name}' is reserved by RocketMQ and the proxy rejects it as a "
                f"user property; choose another name",
            )
        if name.startswith(properties.PREFIX):
            raise InvalidPropertyError(
                f"property '{name}'",
                f"property '{name}' starts with '{properties.PREFIX}', which mqseal reserves "
                f"for its metadata; choose another name",
            )


def check_sealed_selection(names: Iterable[str], prefixes: Iterable[str]) -> None:
    """Reject sealed property names and prefixes that could never be sealed."""
    for kind, values in (("sealed property name", names), ("sealed property prefix", prefixes)):
        for value in values:
            if not isinstance(value, str) or not value:
                raise InvalidArgumentError(
                    ERROR_CODES["invalid_argument"],
                    "invalid_argument",
                    False,
                    f"{kind} {value!r} is empty or not a str; give a non-empty name",
                )
            if value.startswith(properties.PREFIX):
                raise InvalidArgumentError(
                    ERROR_CODES["invalid_argument"],
                    "invalid_argument",
                    False,
                    f"{kind} '{value}' starts with '{properties.PREFIX}', which mqseal reserves "
                    f"for its metadata",
                )


def check_plain_fields(
    tag: Optional[str], keys: Iterable[str], message_group: Optional[str]
) -> None:
    """Check the tag, message keys and message group for control characters."""
    if tag is not None:
        check_text("tag", tag)
    for key in keys:
        check_text("message key", key)
    if message_group is not None:
        check_text("message group", message_group)


def property_size(
    plain_properties: Mapping[str, str], tag: Optional[str], keys: Iterable[str]
) -> int:
    """Return the size the proxy checks against ``MAX_PROPERTY_SIZE``, in UTF-8 bytes."""
    size = sum(len(k.encode()) + len(v.encode()) for k, v in plain_properties.items())
    if tag:
        size += len(tag.encode())
    size += sum(len(key.encode()) for key in keys)
    return size


def timer_record_overhead(topic: str, plain_properties: Mapping[str, str]) -> int:
    """Return the bytes a delayed message adds to its body in the broker's timer store.

    RocketMQ 5.3.3 reads each timer record into a buffer of ``maxMessageSize`` (4 MiB)
    plus 100 bytes, so body, topic and properties together must fit in 4 MiB; a larger
    record stops every delayed message on that broker.
    """
    encoded = sum(
        len(k.encode()) + len(v.encode()) + 2 for k, v in plain_properties.items()
    )
    return len(_TIMER_TOPIC) + len(topic.encode()) + encoded + _TIMER_RESERVE


def text_safe(value: str) -> str:
    """Percent-encode ``%`` and every control character, so a value fits in a property."""
    return _NEEDS_ENCODING.sub(_percent_encode, value)


def _percent_encode(match: "re.Match[str]") -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode())
