"""Fixtures for the mqseal.rocketmq tests against a real RocketMQ 5.x proxy.

scripts/test-python-rocketmq.sh starts NameServer and proxy (tests/rocketmq/rmq.sh start
--proxy), creates the topics below and exports MQSEAL_RMQ_PROXY_ENDPOINT. Without that
variable every test here is skipped.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

import mqseal

rocketmq = pytest.importorskip("rocketmq", reason="rocketmq-python-client is not installed")

from rocketmq import (  # noqa: E402
    ClientConfiguration,
    Credentials,
    FilterExpression,
    Producer,
    SimpleConsumer,
)

from mqseal.rocketmq import DecryptingTransactionChecker, EncryptingProducer  # noqa: E402

#: Topics the test script creates, by message type.
TOPICS = {
    "NORMAL": "mqseal-py-normal",
    "FIFO": "mqseal-py-fifo",
    "DELAY": "mqseal-py-delay",
    "TRANSACTION": "mqseal-py-tx",
}
#: Consumer group with consumeMessageOrderly, which the test script creates.
FIFO_GROUP = "mqseal-py-fifo-group"
KEY_ID = "orders"
#: Seconds a test waits for a message to arrive.
RECEIVE_TIMEOUT = 120


def pytest_collection_modifyitems(config, items):
    if os.environ.get("MQSEAL_RMQ_PROXY_ENDPOINT"):
        return
    skip = pytest.mark.skip(reason="MQSEAL_RMQ_PROXY_ENDPOINT is not set; run scripts/test-python-rocketmq.sh")
    for item in items:
        if "needs_proxy" in item.fixturenames:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def needs_proxy():
    return os.environ["MQSEAL_RMQ_PROXY_ENDPOINT"]


@pytest.fixture(scope="session")
def client_config(needs_proxy):
    return ClientConfiguration(needs_proxy, Credentials(), request_timeout=10)


@pytest.fixture(scope="session")
def keyring(tmp_path_factory):
    path = tmp_path_factory.mktemp("keyring") / "test.keyring"
    mqseal.keyring_generate(path, KEY_ID)
    return path


@pytest.fixture(scope="session")
def cipher(keyring):
    with mqseal.Cipher(keyring_path=keyring, key_ids=KEY_ID) as value:
        yield value


@pytest.fixture(scope="session")
def reader_cipher(keyring):
    """A decrypt-only cipher, as a consumer has."""
    with mqseal.Cipher(keyring_path=keyring) as value:
        yield value


class InMemoryKms:
    """Key provider whose key store is a dict, as a KMS keeps its keys server-side.

    ``unavailable`` counts the next unwrap calls that raise ``ConnectionError``, which the
    cipher reports as the retryable ``provider_unavailable``: the local keyring never
    fails transiently, so this provider plays a KMS that does.
    """

    KEY_ID = "kms-orders"

    def __init__(self):
        self._keys = {}
        self._lock = threading.Lock()
        self.unavailable = 0

    def recognizes(self, key_id):
        return key_id == self.KEY_ID

    def wrap(self, key_id, data_key):
        handle = os.urandom(16)
        with self._lock:
            self._keys[handle] = bytes(data_key)
        return 1, handle

    def unwrap(self, key_id, key_version, wrapped_key):
        with self._lock:
            if self.unavailable > 0:
                self.unavailable -= 1
                raise ConnectionError("test KMS unavailable")
            return bytearray(self._keys[bytes(wrapped_key)])


@pytest.fixture(scope="session")
def kms():
    return InMemoryKms()


@pytest.fixture(scope="session")
def kms_producer(client_producer, kms):
    """An EncryptingProducer whose data keys the in-memory KMS wraps."""
    with mqseal.Cipher(key_providers=[kms], key_ids=InMemoryKms.KEY_ID) as cipher:
        yield EncryptingProducer(client_producer, cipher)


@pytest.fixture
def flaky_reader(kms):
    """A decrypt-only cipher over the KMS whose first unwrap fails, with no key cache.

    ``retry.max_attempts = 1`` turns off the provider retries inside the cipher, so the
    failed unwrap reaches the consumer as a retryable error and RocketMQ redelivers.
    """
    kms.unavailable = 1
    config = "provider = callback\ncache.capacity = 0\nretry.max_attempts = 1\n"
    with mqseal.Cipher.from_config(config, key_provider=kms) as cipher:
        yield cipher
    kms.unavailable = 0


class PassChecker(rocketmq.TransactionChecker):
    """Commits every half message the broker asks about; records what it was given."""

    def __init__(self):
        self.checked = []

    def check(self, message):
        self.checked.append(message)
        return rocketmq.TransactionResolution.COMMIT


@pytest.fixture(scope="session")
def checker():
    return PassChecker()


@pytest.fixture(scope="session")
def client_producer(client_config, reader_cipher, checker):
    producer = Producer(
        client_config,
        tuple(TOPICS.values()),
        checker=DecryptingTransactionChecker(reader_cipher, checker),
    )
    producer.startup()
    yield producer
    producer.shutdown()


@pytest.fixture(scope="session")
def producer(client_producer, cipher):
    return EncryptingProducer(client_producer, cipher, sealed_properties=("secret",))


@pytest.fixture
def tag():
    """A tag unique to the test, so tests sharing a topic only see their own messages."""
    return "t" + uuid.uuid4().hex[:16]


@pytest.fixture
def group():
    return "mqseal-py-" + uuid.uuid4().hex[:12]


def start_simple_consumer(client_config, group, topic, tag=None, await_duration=3):
    expression = FilterExpression(tag) if tag else FilterExpression()
    consumer = SimpleConsumer(client_config, group, {topic: expression}, await_duration=await_duration)
    consumer.startup()
    # rocketmq-python-client 5.1.2 returns from startup before the proxy's settings arrive.
    assert consumer._init_settings_event.wait(30), "no settings from the proxy within 30 s"
    return consumer


def receive_until(receive, count, timeout=RECEIVE_TIMEOUT):
    """Call ``receive()`` until it has returned ``count`` messages in total or time runs out."""
    received = []
    deadline = time.monotonic() + timeout
    while len(received) < count and time.monotonic() < deadline:
        received.extend(receive())
    return received
