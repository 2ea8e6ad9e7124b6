#!/usr/bin/env bash
# Checks `mqseal keygen`, `rotate`, `list`, `encrypt` and `decrypt` with a configuration
# that selects provider = pkcs11, on the token store of softhsm.sh (after `init` with
# MQSEAL_CLI set, so that pkcs11:mqseal-test version 1 exists).
#
# Usage: tests/hsm/cli.sh MQSEAL_BINARY
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mqseal=$1
eval "$("$root/tests/hsm/softhsm.sh" env)"
config=$MQSEAL_PKCS11_CONFIG
work=$(dirname "$config")/cli
rm -rf "$work" && mkdir -m 700 "$work"

fail() {
    echo "cli.sh: FAILED: $*" >&2
    exit 1
}

printf 'order 42' >"$work/body"
"$mqseal" encrypt --config "$config" -i "$work/body" -o "$work/v1.sealed"
"$mqseal" rotate --config "$config" --name pkcs11:mqseal-test | grep -q 'version 2, now primary' ||
    fail "rotate did not report version 2"
"$mqseal" list --config "$config" | grep -Eq '^pkcs11:mqseal-test +2 +1,2$' ||
    fail "list does not show versions 1,2 with primary 2"
"$mqseal" encrypt --config "$config" -i "$work/body" -o "$work/v2.sealed"
"$mqseal" inspect -i "$work/v2.sealed" | grep -q 'pkcs11:mqseal-test version 2' ||
    fail "a new envelope is not wrapped under version 2"
for v in v1 v2; do
    "$mqseal" decrypt --config "$config" -i "$work/$v.sealed" -o "$work/$v.out"
    cmp -s "$work/body" "$work/$v.out" || fail "the $v envelope does not decrypt to the body"
done
# keygen on an existing KEK fails with exit code 10 (invalid argument).
status=0
"$mqseal" keygen --config "$config" --name pkcs11:mqseal-test 2>"$work/keygen.err" || status=$?
[ "$status" -eq 10 ] || fail "keygen of an existing KEK exited with $status, expected 10"
echo "cli.sh: keygen, rotate, list, encrypt and decrypt with provider = pkcs11 passed"
