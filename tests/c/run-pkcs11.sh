#!/usr/bin/env bash
# Builds tests/c/test_pkcs11.c with AddressSanitizer/UBSan against libmqseal and runs it
# on the SoftHSM2 token store of tests/hsm/softhsm.sh, which must be initialized.
# Leak detection is off: SoftHSM2 keeps its allocations until the process exits, and
# mqseal never finalizes a PKCS#11 module that other code in the process may share.
#
# Usage: tests/c/run-pkcs11.sh [LIBDIR]   (default: target/release)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
libdir=${1:-$root/target/release}
out=$root/build/c/pkcs11
mkdir -p "$out"
rm -rf "$out/scratch" && mkdir -m 700 "$out/scratch"

eval "$("$root/tests/hsm/softhsm.sh" env)"
gcc -std=c11 -O1 -g -Wall -Wextra -Werror -pedantic -pthread "-I$root/include" \
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
    "$root/tests/c/test_pkcs11.c" -o "$out/test_pkcs11" \
    -L"$libdir" -Wl,-rpath,"$libdir" -lmqseal
ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/test_pkcs11" "$out/scratch"
