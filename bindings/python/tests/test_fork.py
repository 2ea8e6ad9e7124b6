"""Fork safety: a forked child uses a new data key, so nonces never repeat, and never hangs."""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import threading
import time
import traceback
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import pytest

import mqseal
from conftest import KEY_ID, TOPIC

CHILD_TIMEOUT = 20.0

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX only"),
    # Python 3.12+ warns on fork() in a process with threads; these tests fork on purpose.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def run_in_child(work: Callable[[], bytes], timeout: float = CHILD_TIMEOUT) -> bytes:
    """Fork, run ``work`` in the child and return its output; fail if the child hangs."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            os.close(read_end)
            data = work()
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
        except BaseException:  # noqa: BLE001 - the child reports through its exit status
            traceback.print_exc()
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    chunks: List[bytes] = []
    deadline = time.monotonic() + timeout
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while True:
            remaining = deadline - time.monotonic()
            ready = select.select([pipe], [], [], max(remaining, 0))[0] if remaining > 0 else []
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise AssertionError(f"forked child {pid} did not finish within {timeout} s")
            chunk = pipe.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return b"".join(chunks)


def wrapped_key(envelope: bytes) -> bytes:
    return mqseal.inspect(envelope)["keys"][0]["wrapped"]


def test_fork_child_uses_a_new_data_key(cipher: mqseal.Cipher) -> None:
    before = cipher.encrypt(b"parent before fork", TOPIC)

    def child() -> bytes:
        # The child also decrypts what the parent sealed before the fork.
        assert cipher.decrypt_body(before, TOPIC) == b"parent before fork"
        return cipher.encrypt(b"child", TOPIC)

    from_child = run_in_child(child)
    after = cipher.encrypt(b"parent after fork", TOPIC)

    assert wrapped_key(from_child) != wrapped_key(before)
    assert wrapped_key(after) == wrapped_key(before)
    assert mqseal.inspect(from_child)["sequence"] == 0
    assert mqseal.inspect(after)["sequence"] == 1
    assert cipher.decrypt_body(from_child, TOPIC) == b"child"
    assert cipher.decrypt_body(after, TOPIC) == b"parent after fork"


def test_fork_before_first_message(cipher: mqseal.Cipher) -> None:
    from_child = run_in_child(lambda: cipher.encrypt(b"child", TOPIC))
    from_parent = cipher.encrypt(b"parent", TOPIC)
    assert wrapped_key(from_child) != wrapped_key(from_parent)
    assert cipher.decrypt_body(from_child, TOPIC) == b"child"


def test_repeated_forks_never_share_a_nonce(cipher: mqseal.Cipher) -> None:
    cipher.encrypt(b"warm up")
    envelopes = [run_in_child(lambda: cipher.encrypt(b"x" * 100)) for _ in range(5)]
    envelopes += [cipher.encrypt(b"x" * 100) for _ in range(3)]
    nonces = {(wrapped_key(e), mqseal.inspect(e)["sequence"]) for e in envelopes}
    assert len(nonces) == len(envelopes)
    assert len({wrapped_key(e) for e in envelopes[:5]}) == 5


# The cipher that multiprocessing workers inherit through fork.
_INHERITED: Optional[mqseal.Cipher] = None


def _encrypt_in_worker(index: int) -> Tuple[int, List[bytes]]:
    assert _INHERITED is not None
    envelopes = [_INHERITED.encrypt(f"{index}:{i}".encode(), TOPIC) for i in range(3)]
    return os.getpid(), envelopes


def test_multiprocessing_fork_pool(keyring_path: Path) -> None:
    global _INHERITED
    context = multiprocessing.get_context("fork")
    with mqseal.Cipher(keyring_path=keyring_path, key_ids=KEY_ID) as c:
        _INHERITED = c
        try:
            parent = [c.encrypt(b"parent", TOPIC)]
            with context.Pool(3) as pool:
                results = pool.map(_encrypt_in_worker, range(6), chunksize=1)
            parent.append(c.encrypt(b"parent", TOPIC))
        finally:
            _INHERITED = None

        envelopes = parent + [e for _pid, batch in results for e in batch]
        nonces = {(wrapped_key(e), mqseal.inspect(e)["sequence"]) for e in envelopes}
        assert len(nonces) == len(envelopes)

        keys_by_pid = {}
        for pid, batch in results:
            keys_by_pid.setdefault(pid, set()).update(wrapped_key(e) for e in batch)
        worker_keys = [key for keys in keys_by_pid.values() for key in keys]
        # No data key is shared by two workers, or by a worker and the parent.
        assert len(worker_keys) == len(set(worker_keys))
        assert wrapped_key(parent[0]) not in worker_keys

        for index, (_pid, batch) in enumerate(results):
            for i, envelope in enumerate(batch):
                assert c.decrypt_body(envelope, TOPIC) == f"{index}:{i}".encode()


def test_fork_while_threads_encrypt(keyring_path: Path) -> None:
    # One message per data key and bodies above the GIL threshold: the other threads
    # replace the producer's data key, with the GIL released, nearly all the time.
    body = os.urandom(64 * 1024)
    with mqseal.Cipher(keyring_path=keyring_path, key_ids=KEY_ID, max_messages_per_key=1) as c:
        stop = threading.Event()
        encrypted = [0]
        failures: List[BaseException] = []

        def churn() -> None:
            try:
                while not stop.is_set():
                    c.encrypt(body, TOPIC)
                    encrypted[0] += 1
            except BaseException as e:  # noqa: BLE001 - asserted below
                failures.append(e)

        def child() -> bytes:
            envelope = c.encrypt(body, TOPIC)
            assert c.decrypt_body(envelope, TOPIC) == body
            return envelope

        threads = [threading.Thread(target=churn) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            while encrypted[0] < 10:
                time.sleep(0.001)
            from_children = [run_in_child(child) for _ in range(25)]
        finally:
            stop.set()
            for t in threads:
                t.join()

        assert failures == []
        assert len({wrapped_key(e) for e in from_children}) == 25
        for envelope in from_children:
            assert c.decrypt_body(envelope, TOPIC) == body


def test_fork_while_threads_call_a_python_provider() -> None:
    # One message per data key and small bodies: every message calls the Python provider
    # from inside the core, and calls that would keep the GIL for a small body release it.
    from test_provider import HmacWrapProvider, cipher_with

    provider = HmacWrapProvider()
    with cipher_with(provider, max_messages_per_key=1) as c:
        stop = threading.Event()
        encrypted = [0]
        failures: List[BaseException] = []

        def churn() -> None:
            try:
                while not stop.is_set():
                    envelope = c.encrypt(b"small body", TOPIC)
                    assert c.decrypt_body(envelope, TOPIC) == b"small body"
                    encrypted[0] += 1
            except BaseException as e:  # noqa: BLE001 - asserted below
                failures.append(e)

        def child() -> bytes:
            envelope = c.encrypt(b"from child", TOPIC)
            assert c.decrypt_body(envelope, TOPIC) == b"from child"
            return envelope

        threads = [threading.Thread(target=churn) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            while encrypted[0] < 10:
                time.sleep(0.001)
            from_children = [run_in_child(child) for _ in range(10)]
        finally:
            stop.set()
            for t in threads:
                t.join()

        assert failures == []
        assert len({wrapped_key(e) for e in from_children}) == 10
        for envelope in from_children:
            assert c.decrypt_body(envelope, TOPIC) == b"from child"
