#!/usr/bin/env python3
"""Print the criterion envelope benchmark as a Markdown table with ratios to the raw AEAD.

Reads the medians criterion stored under target/criterion/pair_<suite>/ after
`cargo bench -p mqseal-core --bench envelope`. Ratios compare the envelope pair
(encrypt plus decrypt into caller buffers) with the same backend's raw AEAD pair
(seal plus open in place) measured in the same run.
"""

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"
SIZES = [256, 1024, 16 << 10, 256 << 10, 4 << 20]


def median_ns(group: pathlib.Path, bench: str, size: int) -> float | None:
    path = group / bench / str(size) / "new" / "estimates.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"]


def fmt_time(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def size_name(size: int) -> str:
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB" if size >= 1024 else f"{size} B"


def main() -> int:
    groups = sorted(ROOT.glob("pair_*"))
    if not groups:
        print(f"no criterion results under {ROOT}; run `make bench` first", file=sys.stderr)
        return 1
    for group in groups:
        suite = group.name.removeprefix("pair_")
        print(f"\n### {suite}: encrypt + decrypt per message (criterion median)\n")
        print("| size | mqseal aws-lc | raw aws-lc | ratio | mqseal rustcrypto | raw rustcrypto | ratio |")
        print("|---|---|---|---|---|---|---|")
        for size in SIZES:
            cells = [size_name(size)]
            for backend in ("aws-lc", "rustcrypto"):
                env = median_ns(group, f"mqseal-{backend}", size)
                raw = median_ns(group, f"raw-{backend}", size)
                if env is None or raw is None:
                    cells += ["–", "–", "–"]
                    continue
                cells += [fmt_time(env), fmt_time(raw), f"{env / raw:.2f}×"]
            print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
