"""Diagnostic: fork while other threads encrypt, with the extension's fork gate on and off.

The core replaces a child's data key after fork(), but a child forked while another
thread holds one of the core's producer locks blocks forever on its first encryption.
The extension's before-fork hook waits for calls running without the GIL, which closes
that gap for Python callers. This script counts hung children with the gate on and off.

Usage: python bench/fork_gap.py [--forks N] [--threads N] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import tempfile
import threading
import time
import warnings
from pathlib import Path

import mqseal


def fork_once(cipher: mqseal.Cipher, body: bytes, timeout: float) -> bool:
    """Fork a child that encrypts once; return True when it finished within ``timeout``."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        cipher.encrypt(body)
        os.write(write_end, b"1")
        os._exit(0)
    os.close(write_end)
    ready = select.select([read_end], [], [], timeout)[0]
    finished = bool(ready) and os.read(read_end, 1) == b"1"
    os.close(read_end)
    if not finished:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return finished


def trial(keyring: Path, gate: bool, forks: int, threads: int, timeout: float) -> int:
    """Return how many of ``forks`` children hung."""
    mqseal._native._debug_fork_gate(gate)
    body = os.urandom(64 * 1024)
    hung = 0
    with mqseal.Cipher(keyring_path=keyring, key_ids="bench", max_messages_per_key=1) as c:
        stop = threading.Event()

        def churn() -> None:
            while not stop.is_set():
                c.encrypt(body)

        workers = [threading.Thread(target=churn) for _ in range(threads)]
        for w in workers:
            w.start()
        try:
            time.sleep(0.05)
            for _ in range(forks):
                if not fork_once(c, body, timeout):
                    hung += 1
        finally:
            stop.set()
            for w in workers:
                w.join()
    mqseal._native._debug_fork_gate(True)
    return hung


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forks", type=int, default=200, help="forks per trial")
    parser.add_argument("--threads", type=int, default=4, help="encrypting threads")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds a child may take")
    args = parser.parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)
    with tempfile.TemporaryDirectory() as tmp:
        keyring = Path(tmp) / "keyring"
        mqseal.keyring_generate(keyring, "bench")
        for gate in (True, False):
            hung = trial(keyring, gate, args.forks, args.threads, args.timeout)
            state = "on " if gate else "off"
            print(f"fork gate {state}: {hung} of {args.forks} children hung")


if __name__ == "__main__":
    main()
