#!/usr/bin/env bash
# Generates the C header of the mqseal C ABI with cbindgen 0.29.4.
#   scripts/gen-header.sh [OUTPUT]     default: include/mqseal.h
# The version macros come from the crate version of crates/mqseal-ffi (Cargo.toml).
set -euo pipefail

CBINDGEN_VERSION=0.29.4
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/include/mqseal.h}

if [ "$(cbindgen --version 2>/dev/null)" != "cbindgen ${CBINDGEN_VERSION}" ]; then
    echo "gen-header: cbindgen ${CBINDGEN_VERSION} is required (found: $(cbindgen --version 2>/dev/null || echo none));" \
        "run scripts/install-tools.sh" >&2
    exit 1
fi

# "path+file:///.../crates/mqseal-ffi#mqseal-ffi@0.1.0" or "...#0.1.0"
pkgid=$(cd "$root" && cargo pkgid -p mqseal-ffi)
version=${pkgid##*[#@]}
core=${version%%[-+]*}
IFS=. read -r major minor patch <<<"$core"
for part in "$major" "$minor" "$patch"; do
    if ! [[ "$part" =~ ^[0-9]+$ ]]; then
        echo "gen-header: cannot parse crate version '$version'" >&2
        exit 1
    fi
done

tmp=$(mktemp "${TMPDIR:-/tmp}/mqseal.h.XXXXXX")
trap 'rm -f "$tmp"' EXIT
(cd "$root" && cbindgen --quiet --config crates/mqseal-ffi/cbindgen.toml --output "$tmp" crates/mqseal-ffi)
sed -i \
    -e "s/@MQSEAL_VERSION_MAJOR@/$major/" \
    -e "s/@MQSEAL_VERSION_MINOR@/$minor/" \
    -e "s/@MQSEAL_VERSION_PATCH@/$patch/" \
    -e "s/@MQSEAL_VERSION@/$version/" \
    "$tmp"
if grep -q '@MQSEAL_' "$tmp"; then
    echo "gen-header: a version placeholder was left in the header" >&2
    exit 1
fi
mkdir -p "$(dirname "$out")"
cp "$tmp" "$out"
