"""One Cipher shared by many threads, and the GIL release above the size threshold."""

from __future__ import annotations

import os
import sys
import threading
from typing import Callable, Iterator, List

import pytest

import mqseal
from conftest import TOPIC

THRESHOLD = mqseal._native.RELEASE_THRESHOLD


def test_threads_share_one_cipher(cipher: mqseal.Cipher) -> None:
    threads_count = 8
    per_thread = 150
    sizes = [0, 100, THRESHOLD, THRESHOLD + 1, 64 * 1024]
    envelopes: List[bytes] = []
    errors: List[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads_count)

    def work(index: int) -> None:
        start.wait()
        mine = []
        try:
            for i in range(per_thread):
                body = bytes([index]) * sizes[i % len(sizes)]
                context = {"topic": f"t{index}"}
                envelope = cipher.encrypt(body, context)
                assert cipher.decrypt_body(envelope, context) == body
                mine.append(envelope)
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            with lock:
                errors.append(e)
        with lock:
            envelopes.extend(mine)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    total = threads_count * per_thread
    assert len(envelopes) == total
    counters = cipher.counters()
    assert counters["encrypted"] == total
    assert counters["decrypted"] == total
    assert counters["decrypt_failures"] == 0
    # Nonce uniqueness: no two envelopes share a data key and a sequence number.
    nonces = set()
    for envelope in envelopes:
        info = mqseal.inspect(envelope)
        nonces.add((info["keys"][0]["wrapped"], info["sequence"]))
    assert len(nonces) == total


def test_threads_with_key_replacement(keyring_path) -> None:
    # One message per data key: every encryption replaces the key under contention.
    with mqseal.Cipher(keyring_path=keyring_path, key_ids="orders", max_messages_per_key=1) as c:
        results: List[bytes] = []
        lock = threading.Lock()

        def work() -> None:
            for _ in range(50):
                envelope = c.encrypt(bytes(8192), TOPIC)
                with lock:
                    results.append(envelope)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wrapped = {mqseal.inspect(e)["keys"][0]["wrapped"] for e in results}
        assert len(wrapped) == len(results) == 200
        assert all(c.decrypt_body(e, TOPIC) == bytes(8192) for e in results)


@pytest.fixture
def slow_thread_switching() -> Iterator[None]:
    """Make threads switch only where one releases the GIL itself, for the next test."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def test_gil_released_only_above_threshold(
    cipher: mqseal.Cipher, slow_thread_switching: None
) -> None:
    go = threading.Event()
    done = threading.Event()
    ran = [False]
    stop = [False]

    def observer() -> None:
        # Waits for `go`, then needs the GIL to record that it ran: it can run during a
        # call only if that call releases the GIL.
        while True:
            go.wait()
            if stop[0]:
                return
            ran[0] = True
            go.clear()
            done.set()

    def ran_during(call: Callable[[], object]) -> bool:
        ran[0] = False
        done.clear()
        go.set()
        call()
        seen = ran[0]
        done.wait()
        return seen

    thread = threading.Thread(target=observer)
    thread.start()
    try:
        small = os.urandom(THRESHOLD)
        small_envelope = cipher.encrypt(os.urandom(1024))
        large = os.urandom(8 << 20)
        large_envelope = cipher.encrypt(large)

        small_calls = [ran_during(lambda: cipher.encrypt(small)) for _ in range(20)]
        small_calls += [ran_during(lambda: cipher.decrypt_body(small_envelope)) for _ in range(20)]
        # A released call lets the observer run unless the scheduler wakes it too late;
        # one success in a few tries shows the release.
        encrypt_released = any(ran_during(lambda: cipher.encrypt(large)) for _ in range(20))
        decrypt_released = any(
            ran_during(lambda: cipher.decrypt_body(large_envelope)) for _ in range(20)
        )
    finally:
        stop[0] = True
        go.set()
        thread.join()
    assert not any(small_calls)
    assert encrypt_released
    assert decrypt_released
