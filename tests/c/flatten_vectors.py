#!/usr/bin/env python3
"""Write tests/vectors/v1.json as the line format that tests/c/test_vectors.c reads.

C has no JSON parser in its standard library, so every value becomes hex and every field
its own line: `FIELD VALUE` lines between `vector NAME` or `negative NAME` and `end`.
An empty byte string is written as `-`. Map entries are `context KEY VALUE` and
`property KEY VALUE` lines with hex-encoded keys and values.

Usage: flatten_vectors.py [VECTORS_JSON] > OUTPUT
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

DEFAULT_VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "v1.json"


def hex_or_dash(data: bytes) -> str:
    return data.hex() if data else "-"


def map_lines(field: str, entries: Optional[Dict[str, str]]) -> List[str]:
    return [
        f"{field} {hex_or_dash(key.encode())} {hex_or_dash(value.encode())}"
        for key, value in (entries or {}).items()
    ]


def flatten(document: dict) -> List[str]:
    lines = [f"keyring {document['keyring'].encode().hex()}"]
    for vector in document["vectors"]:
        lines.append(f"vector {vector['name']}")
        lines.append(f"suite {vector['suite']}")
        lines.append(f"compression {int(vector['compression'])}")
        lines.append(f"compression_min_size {vector['compression_min_size']}")
        lines.append(f"store_context {int(vector['store_context'])}")
        lines.append(f"key_id {vector['key_id']}")
        lines.append(f"key_version {vector['key_version']}")
        for field in ("dek", "wrapped_dek", "body", "envelope"):
            lines.append(f"{field} {vector[field] or '-'}")
        lines.extend(map_lines("context", vector["context"]))
        has_properties = vector["properties"] is not None
        lines.append(f"has_properties {int(has_properties)}")
        lines.extend(map_lines("property", vector["properties"]))
        lines.append("end")
    for vector in document["negative"]:
        lines.append(f"negative {vector['name']}")
        lines.append(f"error {vector['error']}")
        lines.append(f"envelope {vector['envelope'] or '-'}")
        lines.extend(map_lines("context", vector["context"]))
        lines.append("end")
    return lines


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_VECTORS
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("envelope_version") != 1:
        print(f"flatten_vectors: {path} is not a version 1 vector file", file=sys.stderr)
        return 1
    sys.stdout.write("\n".join(flatten(document)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
