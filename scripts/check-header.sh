#!/usr/bin/env bash
# Fails when include/mqseal.h differs from a fresh generation (header drift check).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fresh=$(mktemp "${TMPDIR:-/tmp}/mqseal.h.fresh.XXXXXX")
trap 'rm -f "$fresh"' EXIT
"$root/scripts/gen-header.sh" "$fresh"
if ! diff -u "$root/include/mqseal.h" "$fresh"; then
    echo "check-header: include/mqseal.h is out of date with crates/mqseal-ffi; run 'make header' and commit it" >&2
    exit 1
fi
echo "check-header: include/mqseal.h is up to date"
