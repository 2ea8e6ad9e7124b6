"""Per-message benchmark: encrypt then decrypt one body, mqseal against peer libraries.

Each implementation seals and opens one message per pair, as a producer and a consumer
would, with the same 11 bytes of associated data (the mqseal context ``topic=bench``):

- mqseal: ``Cipher.encrypt`` and ``Cipher.decrypt_body`` over a local keyring;
- cryptography: ``AESGCM`` with a random 12-byte nonce per message, the nonce kept
  beside the ciphertext (no concatenation, which favours this baseline);
- tink: the AEAD primitive of an ``AES256_GCM`` keyset;
- aws-encryption-sdk: a raw AES-256 master key provider behind a caching
  cryptographic materials manager, with the non-signing committing suite
  ``AES_256_GCM_HKDF_SHA512_COMMIT_KEY``.

Samples are interleaved: every round times one batch of each implementation at each size,
in a rotating order, so drift in machine load spreads over all of them. The reported
figure is the median over rounds of the time per pair. A peer package that is not
installed is reported as missing with the import error.

Usage: python bench.py [--rounds N] [--sample-ms MS] [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

SIZES = [("1 KiB", 1024), ("64 KiB", 64 * 1024), ("4 MiB", 4 * 1024 * 1024)]
AAD = b"topic=bench"
CONTEXT = {"topic": "bench"}

Pair = Callable[[bytes], bytes]


class Subject:
    """One implementation: a name, its version, and a pair function or the reason it is missing."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.version: Optional[str] = None
        self.pair: Optional[Pair] = None
        self.missing: Optional[str] = None
        self.cleanup: Callable[[], None] = lambda: None


def make_mqseal(workdir: Path) -> Subject:
    subject = Subject("mqseal")
    try:
        import mqseal
    except ImportError as e:
        subject.missing = f"import failed: {e}"
        return subject
    keyring = workdir / "keyring"
    mqseal.keyring_generate(keyring, "bench")
    cipher = mqseal.Cipher(keyring_path=keyring, key_ids="bench")

    def pair(body: bytes) -> bytes:
        return cipher.decrypt_body(cipher.encrypt(body, CONTEXT), CONTEXT)

    subject.version = mqseal.__version__
    subject.pair = pair
    subject.cleanup = cipher.close
    return subject


def make_aesgcm() -> Subject:
    subject = Subject("cryptography AESGCM")
    try:
        import cryptography
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError as e:
        subject.missing = f"import failed: {e}"
        return subject
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    urandom = os.urandom

    def pair(body: bytes) -> bytes:
        nonce = urandom(12)
        sealed = aead.encrypt(nonce, body, AAD)
        return aead.decrypt(nonce, sealed, AAD)

    subject.version = cryptography.__version__
    subject.pair = pair
    return subject


def make_tink() -> Subject:
    subject = Subject("tink AES256_GCM")
    try:
        import tink
        from tink import aead
    except ImportError as e:
        subject.missing = f"import failed: {e}"
        return subject
    aead.register()
    handle = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM)
    primitive = handle.primitive(aead.Aead)

    def pair(body: bytes) -> bytes:
        return primitive.decrypt(primitive.encrypt(body, AAD), AAD)

    subject.version = getattr(tink, "__version__", None) or package_version("tink")
    subject.pair = pair
    return subject


def make_aws_sdk() -> Subject:
    subject = Subject("aws-encryption-sdk caching")
    try:
        import aws_encryption_sdk
        from aws_encryption_sdk.caches.local import LocalCryptoMaterialsCache
        from aws_encryption_sdk.identifiers import (
            Algorithm,
            CommitmentPolicy,
            EncryptionKeyType,
            WrappingAlgorithm,
        )
        from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
        from aws_encryption_sdk.key_providers.raw import RawMasterKeyProvider
        from aws_encryption_sdk.materials_managers.caching import (
            CachingCryptoMaterialsManager,
        )
    except ImportError as e:
        subject.missing = f"import failed: {e}"
        return subject

    wrapping_key = os.urandom(32)

    class StaticProvider(RawMasterKeyProvider):  # type: ignore[misc]
        """A raw AES-256-GCM wrapping key held in memory."""

        provider_id = "mqseal-bench"

        def _get_raw_key(self, key_id: bytes) -> WrappingKey:
            return WrappingKey(
                wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
                wrapping_key=wrapping_key,
                wrapping_key_type=EncryptionKeyType.SYMMETRIC,
            )

    provider = StaticProvider()
    provider.add_master_key(b"bench-key")
    materials = CachingCryptoMaterialsManager(
        master_key_provider=provider,
        cache=LocalCryptoMaterialsCache(capacity=100),
        max_age=600.0,
        max_messages_encrypted=1 << 24,
    )
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    algorithm = Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY

    def pair(body: bytes) -> bytes:
        sealed, _header = client.encrypt(
            source=body,
            materials_manager=materials,
            algorithm=algorithm,
            encryption_context=CONTEXT,
        )
        plain, _header = client.decrypt(source=sealed, materials_manager=materials)
        return plain

    subject.version = aws_encryption_sdk.__version__
    subject.pair = pair
    return subject


def package_version(name: str) -> Optional[str]:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # noqa: BLE001 - a missing version is shown as unknown
        return None


def time_batch(pair: Pair, body: bytes, count: int) -> float:
    """Return the seconds per pair of ``count`` pairs, after one untimed pair.

    The untimed pair lets the allocator and caches settle after the previous
    implementation's batch, which at 4 MiB otherwise adds page faults to the first pairs.
    """
    pair(body)
    start = time.perf_counter()
    for _ in range(count):
        pair(body)
    return (time.perf_counter() - start) / count


def calibrate(pair: Pair, body: bytes, sample_seconds: float) -> int:
    """Return how many pairs fill about ``sample_seconds``."""
    count = 1
    while True:
        elapsed = time_batch(pair, body, count) * count
        if elapsed >= sample_seconds / 4 or count >= 1 << 20:
            per_pair = elapsed / count
            return max(1, int(sample_seconds / per_pair))
        count *= 4


def run(subjects: List[Subject], rounds: int, sample_seconds: float) -> Dict[Tuple[str, str], List[float]]:
    ready = [s for s in subjects if s.pair is not None]
    bodies = {label: os.urandom(size) for label, size in SIZES}
    for s in ready:
        for label, body in bodies.items():
            assert s.pair is not None
            if s.pair(body) != body:
                raise SystemExit(f"{s.name} did not round-trip a {label} body")
    counts = {
        (s.name, label): calibrate(s.pair, body, sample_seconds)  # type: ignore[arg-type]
        for s in ready
        for label, body in bodies.items()
    }
    samples: Dict[Tuple[str, str], List[float]] = {key: [] for key in counts}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            order = ready[r % len(ready) :] + ready[: r % len(ready)]
            for label, body in bodies.items():
                for s in order:
                    key = (s.name, label)
                    samples[key].append(time_batch(s.pair, body, counts[key]))  # type: ignore[arg-type]
            print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


def format_time(seconds: float) -> str:
    micros = seconds * 1e6
    if micros >= 1000:
        return f"{micros / 1000:.2f} ms"
    return f"{micros:.2f} µs"


def report(subjects: List[Subject], samples: Dict[Tuple[str, str], List[float]]) -> Dict[str, object]:
    medians = {key: statistics.median(values) for key, values in samples.items()}
    print()
    print("median time per encrypt+decrypt pair; ratio = time / mqseal time")
    print(f"{'size':<8} {'implementation':<28} {'per pair':>12} {'MB/s':>9} {'ratio':>9}")
    results = []
    for label, size in SIZES:
        base = medians.get(("mqseal", label))
        for s in subjects:
            if s.missing is not None:
                continue
            median = medians[(s.name, label)]
            ratio = median / base if base else float("nan")
            throughput = size / median / 1e6
            print(
                f"{label:<8} {s.name:<28} {format_time(median):>12} {throughput:>9.1f} {ratio:>8.2f}x"
            )
            values = sorted(samples[(s.name, label)])
            results.append(
                {
                    "size": label,
                    "bytes": size,
                    "implementation": s.name,
                    "median_us": median * 1e6,
                    "min_us": values[0] * 1e6,
                    "max_us": values[-1] * 1e6,
                    "samples": len(values),
                    "ratio_to_mqseal": ratio,
                }
            )
    for s in subjects:
        if s.missing is not None:
            print(f"{s.name}: missing ({s.missing})")

    checks = {}
    aesgcm = "cryptography AESGCM"
    aws = "aws-encryption-sdk caching"
    for label in ("1 KiB", "64 KiB"):
        if ("mqseal", label) in medians and (aesgcm, label) in medians:
            checks[f"mqseal faster than AESGCM at {label}"] = (
                medians[("mqseal", label)] < medians[(aesgcm, label)]
            )
    if ("mqseal", "1 KiB") in medians and (aws, "1 KiB") in medians:
        speedup = medians[(aws, "1 KiB")] / medians[("mqseal", "1 KiB")]
        checks[f"mqseal >= 100x faster than the AWS SDK at 1 KiB ({speedup:.0f}x)"] = speedup >= 100
    print()
    for name, passed in checks.items():
        print(f"{'met    ' if passed else 'MISSED '} {name}")
    return {"results": results, "targets": checks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds (default 21)")
    parser.add_argument(
        "--sample-ms", type=float, default=20.0, help="target milliseconds per sample (default 20)"
    )
    parser.add_argument("--json", type=Path, help="write the results as JSON to this path")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        subjects = [make_mqseal(Path(tmp)), make_aesgcm(), make_tink(), make_aws_sdk()]
        try:
            samples = run(subjects, args.rounds, args.sample_ms / 1000)
            summary = report(subjects, samples)
        finally:
            for s in subjects:
                s.cleanup()

    if args.json is not None:
        document = {
            "benchmark": "bindings/python/bench/bench.py",
            "unit": "microseconds per encrypt+decrypt pair",
            "rounds": args.rounds,
            "sample_ms": args.sample_ms,
            "machine": {
                "platform": platform.platform(),
                "processor": platform.processor() or platform.machine(),
                "cpus": os.cpu_count(),
                "python": sys.version.split()[0],
            },
            "implementations": {
                s.name: {"version": s.version, "missing": s.missing} for s in subjects
            },
            **summary,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
