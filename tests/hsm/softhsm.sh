#!/usr/bin/env bash
# A private SoftHSM2 token store for the PKCS#11 tests: its own SOFTHSM2_CONF, tokens
# with PINs generated at init time, and nothing outside the state directory.
#
# Usage: softhsm.sh init | env | clean
#   init   recreates the state directory with two tokens: "mqseal-test" (the tests' KEKs)
#          and "mqseal-pin" (which only the PIN tests log in to). Their SO and user PINs
#          are random, kept in files of mode 0600. With MQSEAL_CLI set to an mqseal
#          binary built with the pkcs11 feature, it also creates KEK pkcs11:mqseal-test
#          version 1 through `mqseal keygen`.
#   env    prints `export` lines for the tests: SOFTHSM2_CONF, MQSEAL_PKCS11_MODULE,
#          MQSEAL_PKCS11_TOKEN, MQSEAL_PKCS11_PIN, MQSEAL_PKCS11_PIN_FILE,
#          MQSEAL_PKCS11_PIN_TOKEN, MQSEAL_PKCS11_PIN_TOKEN_PIN_FILE, MQSEAL_PKCS11_CONFIG.
#   clean  removes the state directory.
#
# MQSEAL_HSM_DIR sets the state directory (default build/softhsm in the repository);
# MQSEAL_PKCS11_MODULE overrides the path of libsofthsm2.so.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=${MQSEAL_HSM_DIR:-$root/build/softhsm}
readonly TOKEN=mqseal-test
readonly PIN_TOKEN=mqseal-pin

die() {
    echo "softhsm.sh: $*" >&2
    exit 1
}

find_module() {
    local candidate
    for candidate in "${MQSEAL_PKCS11_MODULE:-}" /usr/lib/softhsm/libsofthsm2.so \
        /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib64/pkcs11/libsofthsm2.so \
        /usr/local/lib/softhsm/libsofthsm2.so; do
        if [ -n "$candidate" ] && [ -f "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    die "libsofthsm2.so not found; install SoftHSM2 with scripts/install-tools.sh (Debian package softhsm2) or set MQSEAL_PKCS11_MODULE"
}

# 32 hex digits from the kernel's random generator.
random_pin() {
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
}

# init_token LABEL NAME: initializes a free slot as token LABEL with new PINs, kept in
# NAME.so-pin and NAME.pin.
init_token() {
    local label=$1 name=$2
    (umask 077 && random_pin >"$dir/$name.so-pin" && random_pin >"$dir/$name.pin")
    softhsm2-util --init-token --free --label "$label" \
        --so-pin "$(cat "$dir/$name.so-pin")" --pin "$(cat "$dir/$name.pin")" >/dev/null ||
        die "softhsm2-util could not initialize token $label"
}

cmd_init() {
    command -v softhsm2-util >/dev/null 2>&1 ||
        die "softhsm2-util not found; install SoftHSM2 with scripts/install-tools.sh (Debian package softhsm2)"
    if [ -n "${MQSEAL_CLI:-}" ] && [ ! -x "$MQSEAL_CLI" ]; then
        die "MQSEAL_CLI=$MQSEAL_CLI is not an executable file; build it with \
cargo build --release -p mqseal-cli and set MQSEAL_CLI=target/release/mqseal"
    fi
    local module
    module=$(find_module)
    rm -rf "$dir"
    mkdir -p "$dir/tokens"
    chmod 700 "$dir"
    cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
slots.mechanisms = ALL
# A forked child starts without the parent's state and must call C_Initialize.
library.reset_on_fork = true
CONF
    export SOFTHSM2_CONF=$dir/softhsm2.conf
    init_token "$TOKEN" user
    init_token "$PIN_TOKEN" pin-token
    cat >"$dir/mqseal.conf" <<CONF
provider = pkcs11
pkcs11.module = $module
pkcs11.token_label = $TOKEN
pkcs11.pin_file = $dir/user.pin
key_id = pkcs11:$TOKEN
CONF
    if [ -n "${MQSEAL_CLI:-}" ]; then
        "$MQSEAL_CLI" keygen --config "$dir/mqseal.conf" --name "pkcs11:$TOKEN" >/dev/null
    fi
    echo "softhsm.sh: tokens $TOKEN and $PIN_TOKEN ready in $dir" >&2
}

cmd_env() {
    [ -f "$dir/softhsm2.conf" ] || die "no token store in $dir; run 'softhsm.sh init' first"
    local module
    module=$(find_module)
    printf "export SOFTHSM2_CONF='%s'\n" "$dir/softhsm2.conf"
    printf "export MQSEAL_PKCS11_MODULE='%s'\n" "$module"
    printf "export MQSEAL_PKCS11_TOKEN='%s'\n" "$TOKEN"
    printf "export MQSEAL_PKCS11_PIN='%s'\n" "$(cat "$dir/user.pin")"
    printf "export MQSEAL_PKCS11_PIN_FILE='%s'\n" "$dir/user.pin"
    printf "export MQSEAL_PKCS11_PIN_TOKEN='%s'\n" "$PIN_TOKEN"
    printf "export MQSEAL_PKCS11_PIN_TOKEN_PIN_FILE='%s'\n" "$dir/pin-token.pin"
    printf "export MQSEAL_PKCS11_CONFIG='%s'\n" "$dir/mqseal.conf"
}

case "${1:-}" in
init) cmd_init ;;
env) cmd_env ;;
clean) rm -rf "$dir" ;;
*)
    echo "usage: softhsm.sh init | env | clean" >&2
    exit 2
    ;;
esac
