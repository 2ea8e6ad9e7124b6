#!/usr/bin/env bash
# Builds and runs the C ABI test (tests/c/test_ffi.c), the known-answer vector test
# (tests/c/test_vectors.c over tests/vectors/v1.json) and the C examples against
# libmqseal, in three modes:
#   asan      gcc -fsanitize=address,undefined, ASAN_OPTIONS=detect_leaks=1
#   valgrind  no sanitizers, under valgrind --leak-check=full --error-exitcode=1
#   static    no sanitizers, linked against libmqseal.a
# Any sanitizer or valgrind report fails the run.
#
# Usage: tests/c/run.sh [LIBDIR]   (default: target/release; `make test-c` builds it)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
libdir=${1:-$root/target/release}
build=$root/build/c
CC=gcc
CFLAGS=(-std=c11 -O1 -g -Wall -Wextra -Werror -pedantic -pthread "-I$root/include")
SANITIZE=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
VALGRIND=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,possible --error-exitcode=1)

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

for lib in libmqseal.so libmqseal.a; do
    if [ ! -f "$libdir/$lib" ]; then
        echo "run.sh: $libdir/$lib is missing; run 'cargo build -p mqseal-ffi --release'" >&2
        exit 1
    fi
done

passed=0
failed=0
failures=()

# Fails when a log holds a sanitizer or valgrind report.
no_tool_reports() {
    ! grep -E -q 'ERROR: (Address|Leak)Sanitizer|runtime error:|== (Invalid|Conditional|Use of uninit|Syscall param)|definitely lost: [1-9]|possibly lost: [1-9]' "$1"
}

# step NAME COMMAND...: runs one step, counting it as passed or failed.
step() {
    local name=$1
    shift
    echo "=== $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "--- FAILED: $name" >&2
    fi
}

build_mode() {
    local mode=$1
    shift
    local out=$build/$mode
    mkdir -p "$out"
    local link=(-L"$libdir" -Wl,-rpath,"$libdir" -lmqseal)
    local static=0
    if [ "$mode" = static ]; then
        link=("$libdir/libmqseal.a" -lgcc_s -lutil -lrt -lpthread -lm -ldl)
        static=1
    fi
    "$CC" "${CFLAGS[@]}" "$@" "$root/tests/c/test_ffi.c" -o "$out/test_ffi" "${link[@]}" &&
        "$CC" "${CFLAGS[@]}" "$@" "$root/tests/c/test_vectors.c" -o "$out/test_vectors" \
            "${link[@]}" &&
        make --no-print-directory -s -B -C "$root/examples/c" \
            ROOT="$root" LIBDIR="$libdir" BUILD="$out" STATIC="$static" \
            EXTRA_CFLAGS="$* -pthread"
}

run_test() {
    local mode=$1
    shift
    local out=$build/$mode
    rm -rf "$out/scratch"
    "$@" "$out/test_ffi" "$out/scratch" 2> >(tee "$out/test_ffi.err" >&2) &&
        no_tool_reports "$out/test_ffi.err"
}

run_vectors() {
    local mode=$1
    shift
    local out=$build/$mode
    rm -rf "$out/vectors-scratch"
    python3 "$root/tests/c/flatten_vectors.py" >"$out/vectors.txt" &&
        "$@" "$out/test_vectors" "$out/vectors.txt" "$out/vectors-scratch" \
            2> >(tee "$out/test_vectors.err" >&2) &&
        no_tool_reports "$out/test_vectors.err"
}

run_examples() {
    local mode=$1
    shift
    local bin=$build/$mode
    local dir=$bin/run
    rm -rf "$dir" && mkdir -p "$dir"
    # A new keyring, 50 messages through a file.
    "$@" "$bin/producer" "$dir/keyring" orders 50 "$dir/orders.bin" 2>>"$dir/log" &&
        "$@" "$bin/consumer" "$dir/keyring" orders "$dir/orders.bin" 50 2>>"$dir/log" &&
        # The existing keyring, 20 messages through a pipe.
        "$@" "$bin/producer" "$dir/keyring" payments 20 - 2>>"$dir/log" |
        "$@" "$bin/consumer" "$dir/keyring" payments - 20 2>>"$dir/log" &&
        # The wrong topic: every message fails authentication and the consumer exits 1.
        { ! "$@" "$bin/consumer" "$dir/keyring" payments "$dir/orders.bin" 50 \
            >"$dir/wrong.out" 2>"$dir/wrong.err"; } &&
        grep -q 'decrypted 0, failed 50' "$dir/wrong.out" &&
        grep -q 'authentication_failed (400)' "$dir/wrong.err" &&
        no_tool_reports "$dir/wrong.err" &&
        no_tool_reports "$dir/log" || { cat "$dir/log" "$dir/wrong.err" >&2 2>/dev/null; return 1; }
}

# Every function the header declares is exercised by test_ffi.c.
coverage() {
    local missing=0 count=0 fn
    for fn in $(grep -oE '^[a-z][a-z0-9_ ]*[ *](mqseal_[a-z0-9_]+)\(' "$root/include/mqseal.h" |
        sed -E 's/.*(mqseal_[a-z0-9_]+)\(/\1/'); do
        count=$((count + 1))
        if ! grep -q "\b$fn(" "$root/tests/c/test_ffi.c"; then
            echo "coverage: $fn is declared in mqseal.h but never called by test_ffi.c" >&2
            missing=1
        fi
    done
    echo "coverage: $count functions declared in mqseal.h"
    # Guards against a header layout change that would make the scan find nothing.
    [ "$count" -ge 30 ] && [ "$missing" -eq 0 ]
}

step "coverage: every mqseal.h function is tested" coverage
step "asan: build" build_mode asan "${SANITIZE[@]}"
step "asan: test_ffi" run_test asan env
step "asan: test_vectors" run_vectors asan env
step "asan: examples" run_examples asan env

step "valgrind: build" build_mode valgrind
step "valgrind: test_ffi" run_test valgrind "${VALGRIND[@]}"
step "valgrind: test_vectors" run_vectors valgrind "${VALGRIND[@]}"
step "valgrind: examples" run_examples valgrind "${VALGRIND[@]}"

step "static: build" build_mode static
step "static: test_ffi" run_test static env
step "static: test_vectors" run_vectors static env
step "static: examples" run_examples static env

if [ "$failed" -ne 0 ]; then
    printf 'failed step: %s\n' "${failures[@]}" >&2
fi
echo "test-c: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
