#!/usr/bin/env python3
"""Shared definitions and standard-library steps of the interop matrix (scripts/test-interop.sh).

Every language leg builds the same test bodies and sets the same plain properties
(tests/interop/java/.../Variants.java repeats these definitions). Subcommands:

  c-bodies DIR COUNT
      Write the C producer's plaintext bodies, for each variant SUITE-COMPRESSION.plain
      (records) and SUITE-COMPRESSION.props (interop properties, one record per body).
  c-verify PROPS DECRYPTED OUT
      Check the C consumer's output (result and body record pairs of mqseal_interop
      decrypt) against the received properties, and write one JSON line per message.
  summary RESULTS_DIR --producers P,... --consumers C,... --count N
      Print the producer x consumer x suite x compression table and exit 1 unless every
      cell received COUNT distinct messages, all decrypted and verified.
  c-retopic SEALED PROPS TOPIC PAIRS PAIR_PROPS
      Pair the C producer's envelopes (SEALED, from mqseal_interop encrypt) with TOPIC as
      the received topic, the input of mqseal_interop decrypt, for a check that the C
      consumer rejects envelopes read under another topic.
  self-test DIR
      Check that check() and summary() reject a wrong body, a wrong header and a missing
      message, so a passing matrix cannot come from a verifier that accepts anything.

Records are a 4-byte big-endian length followed by that many bytes; property records hold
"name=value" lines.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import sys
from collections import defaultdict
from pathlib import Path
from typing import BinaryIO, Dict, Iterator, List, Optional

PRODUCER = "interop-producer"
SUITE = "interop-suite"
COMPRESSION = "interop-compression"
SEQUENCE = "interop-seq"
SHA256 = "interop-sha256"

SUITES = ("aes-256-gcm", "chacha20-poly1305")
COMPRESSIONS = ("on", "off")
LANGUAGES = ("c", "java", "java-grpc", "python")
LINES = 40


def topic(language: str) -> str:
    return f"interop-{language}"


def body(producer: str, suite: str, compression: str, sequence: int) -> bytes:
    """Return the test body of one message: about 3 KiB of text that LZ4 compresses well."""
    return "".join(
        f"mqseal interop message from {producer}: suite {suite}, compression {compression},"
        f" number {sequence}, line {line}\n"
        for line in range(LINES)
    ).encode()


def interop_properties(producer: str, suite: str, compression: str, sequence: int) -> Dict[str, str]:
    return {
        PRODUCER: producer,
        SUITE: suite,
        COMPRESSION: compression,
        SEQUENCE: str(sequence),
        SHA256: hashlib.sha256(body(producer, suite, compression, sequence)).hexdigest(),
    }


def check(
    consumer: str,
    properties: Dict[str, str],
    decrypted: Optional[bytes],
    failure: Optional[str],
    header_suite: str,
    header_compressed: bool,
) -> dict:
    """Return the result line of one consumed message (the format every leg writes)."""
    producer = properties.get(PRODUCER, "unknown")
    suite = properties.get(SUITE, "unknown")
    compression = properties.get(COMPRESSION, "unknown")
    try:
        sequence = int(properties.get(SEQUENCE, "-1"))
    except ValueError:
        sequence = -1
    problem = failure
    if problem is None and decrypted is None:
        problem = "no decrypted body"
    if problem is None and hashlib.sha256(decrypted).hexdigest() != properties.get(SHA256):
        problem = f"the SHA-256 of the decrypted body differs from {SHA256}"
    if problem is None and decrypted != body(producer, suite, compression, sequence):
        problem = "the decrypted body is not the body of this variant"
    if problem is None and header_suite != suite:
        problem = f"the envelope header names suite {header_suite}"
    if problem is None and header_compressed != (compression == "on"):
        problem = f"the envelope header has compressed={header_compressed}"
    return {
        "consumer": consumer,
        "producer": producer,
        "suite": suite,
        "compression": compression,
        "seq": sequence,
        "ok": problem is None,
        "problem": problem or "",
    }


def read_records(stream: BinaryIO) -> Iterator[bytes]:
    while True:
        header = stream.read(4)
        if not header:
            return
        if len(header) != 4:
            raise ValueError("truncated record length")
        (length,) = struct.unpack(">I", header)
        data = stream.read(length)
        if len(data) != length:
            raise ValueError(f"truncated record of {length} bytes")
        yield data


def write_record(stream: BinaryIO, data: bytes) -> None:
    stream.write(struct.pack(">I", len(data)))
    stream.write(data)


def parse_properties(record: bytes) -> Dict[str, str]:
    properties = {}
    for line in record.decode().splitlines():
        if not line:
            continue
        name, separator, value = line.partition("=")
        if not separator or not name:
            raise ValueError(f"invalid property line {line!r} (expected name=value)")
        properties[name] = value
    return properties


def property_record(properties: Dict[str, str]) -> bytes:
    return "".join(f"{name}={value}\n" for name, value in properties.items()).encode()


def c_bodies(directory: Path, count: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for suite in SUITES:
        for compression in COMPRESSIONS:
            stem = f"{suite}-{compression}"
            with open(directory / f"{stem}.plain", "wb") as plain, open(
                directory / f"{stem}.props", "wb"
            ) as props:
                for sequence in range(count):
                    write_record(plain, body("c", suite, compression, sequence))
                    write_record(
                        props, property_record(interop_properties("c", suite, compression, sequence))
                    )


def c_verify(props_path: Path, decrypted_path: Path, out_path: Path) -> None:
    with open(props_path, "rb") as props, open(decrypted_path, "rb") as decrypted:
        properties_list = [parse_properties(r) for r in read_records(props)]
        records = list(read_records(decrypted))
    if len(records) != 2 * len(properties_list):
        raise ValueError(
            f"{decrypted_path} has {len(records)} records for {len(properties_list)} messages;"
            " expected a result and a body per message"
        )
    with open(out_path, "w", encoding="utf-8") as out:
        for index, properties in enumerate(properties_list):
            fields = dict(item.split("=", 1) for item in records[2 * index].decode().split())
            ok = fields.get("status") == "ok"
            result = check(
                "c",
                properties,
                records[2 * index + 1] if ok else None,
                None if ok else f"mqseal_interop: {fields.get('status')}",
                fields.get("header_suite", "none"),
                fields.get("header_compressed") == "1",
            )
            out.write(json.dumps(result) + "\n")


def c_retopic(sealed_path: Path, props_path: Path, topic_name: str, pairs_path: Path,
              pair_props_path: Path) -> None:
    with open(sealed_path, "rb") as sealed, open(props_path, "rb") as props:
        sealed_records = list(read_records(sealed))
        props_records = list(read_records(props))
    envelopes = sealed_records[0::2]
    if len(envelopes) != len(props_records):
        raise ValueError(f"{sealed_path} and {props_path} contain different numbers of messages")
    with open(pairs_path, "wb") as pairs, open(pair_props_path, "wb") as pair_props:
        for envelope, properties in zip(envelopes, props_records):
            write_record(pairs, topic_name.encode())
            write_record(pairs, envelope)
            write_record(pair_props, properties)


def summary(results_dir: Path, producers: List[str], consumers: List[str], count: int) -> int:
    """Print the matrix; return 0 when every cell contains COUNT verified messages."""
    good: Dict[tuple, set] = defaultdict(set)
    bad: Dict[tuple, List[str]] = defaultdict(list)
    for consumer in consumers:
        path = results_dir / f"{consumer}.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        for line in lines:
            result = json.loads(line)
            cell = (result["producer"], result["consumer"], result["suite"], result["compression"])
            if result["ok"]:
                good[cell].add(result["seq"])
            else:
                bad[cell].append(f"#{result['seq']}: {result['problem']}")

    variants = [(suite, compression) for suite in SUITES for compression in COMPRESSIONS]
    labels = [f"{suite} {'lz4' if compression == 'on' else 'plain'}" for suite, compression in variants]
    width = max(len(label) for label in labels) + 2
    print("producer -> consumer".ljust(24) + "".join(label.ljust(width) for label in labels))
    failures = []
    for producer in producers:
        for consumer in consumers:
            row = f"{producer} -> {consumer}".ljust(24)
            for suite, compression in variants:
                cell = (producer, consumer, suite, compression)
                received = len(good[cell])
                passed = received == count and not bad[cell]
                row += f"{'ok' if passed else 'FAIL'} {received}/{count}".ljust(width)
                if not passed:
                    failures.append((cell, received, bad[cell]))
            print(row)
    cells = len(producers) * len(consumers) * len(variants)
    print(f"interop: {cells - len(failures)} of {cells} cells passed ({count} messages each)")
    for (producer, consumer, suite, compression), received, problems in failures:
        print(
            f"FAILED {producer} -> {consumer} {suite} compression {compression}:"
            f" {received} of {count} verified; {'; '.join(problems[:3]) or 'messages missing'}",
            file=sys.stderr,
        )
    return 0 if not failures else 1


def self_test(directory: Path) -> int:
    """Return 0 when the verifier rejects each kind of bad result, 1 otherwise."""
    good_properties = interop_properties("c", "aes-256-gcm", "on", 0)
    good_body = body("c", "aes-256-gcm", "on", 0)
    aes = "aes-256-gcm"
    cases = {
        "a correct message": (check("c", good_properties, good_body, None, aes, True), True),
        "a changed body": (check("c", good_properties, good_body + b"x", None, aes, True), False),
        "another variant's body": (
            check("c", good_properties, body("c", aes, "off", 0), None, aes, True),
            False,
        ),
        "a wrong header suite": (
            check("c", good_properties, good_body, None, "chacha20-poly1305", True),
            False,
        ),
        "a missing compressed flag": (
            check("c", good_properties, good_body, None, aes, False),
            False,
        ),
        "a decryption failure": (
            check("c", good_properties, None, "authentication_failed", aes, True),
            False,
        ),
    }
    failed = [name for name, (result, expected) in cases.items() if result["ok"] != expected]

    # A full table for one producer and consumer, then the same with one message missing.
    directory.mkdir(parents=True, exist_ok=True)
    lines = []
    for suite in SUITES:
        for compression in COMPRESSIONS:
            properties = interop_properties("c", suite, compression, 0)
            decrypted = body("c", suite, compression, 0)
            result = check("c", properties, decrypted, None, suite, compression == "on")
            lines.append(json.dumps(result))
    results = directory / "c.jsonl"
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # The tables go to standard output, which the caller shows only on failure.
    if summary(directory, ["c"], ["c"], 1) != 0:
        failed.append("a complete table")
    results.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    if summary(directory, ["c"], ["c"], 1) == 0:
        failed.append("a table with a missing message")
    for name in failed:
        print(f"interop self-test: the verifier judged {name} wrongly", file=sys.stderr)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    bodies = commands.add_parser("c-bodies")
    bodies.add_argument("directory", type=Path)
    bodies.add_argument("count", type=int)
    verify = commands.add_parser("c-verify")
    verify.add_argument("props", type=Path)
    verify.add_argument("decrypted", type=Path)
    verify.add_argument("out", type=Path)
    table = commands.add_parser("summary")
    table.add_argument("results_dir", type=Path)
    table.add_argument("--producers", required=True)
    table.add_argument("--consumers", required=True)
    table.add_argument("--count", type=int, required=True)
    retopic = commands.add_parser("c-retopic")
    for name in ("sealed", "props"):
        retopic.add_argument(name, type=Path)
    retopic.add_argument("topic")
    for name in ("pairs", "pair_props"):
        retopic.add_argument(name, type=Path)
    selftest = commands.add_parser("self-test")
    selftest.add_argument("directory", type=Path)
    args = parser.parse_args()

    if args.command == "c-bodies":
        c_bodies(args.directory, args.count)
        return 0
    if args.command == "c-verify":
        c_verify(args.props, args.decrypted, args.out)
        return 0
    if args.command == "c-retopic":
        c_retopic(args.sealed, args.props, args.topic, args.pairs, args.pair_props)
        return 0
    if args.command == "self-test":
        return self_test(args.directory)
    return summary(
        args.results_dir, args.producers.split(","), args.consumers.split(","), args.count
    )


if __name__ == "__main__":
    sys.exit(main())
