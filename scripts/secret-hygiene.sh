#!/usr/bin/env bash
# Checks that no key or plaintext leaks into output, error messages or logs.
#
# Draws a sentinel key-encryption key and a sentinel plaintext at random and writes the
# KEK into a keyring file. Then runs the CLI and the C examples on it, both on success
# and on failing inputs: wrong key, wrong context, tampered and truncated envelopes,
# plaintext given as an envelope, keyring files with the KEK in a wrong column, and a
# group-readable keyring. Then runs the broker demo (scripts/demo.sh: RocketMQ on free
# ports, the Java binding) on the same KEK. Every stdout and stderr, and the broker and
# client logs of the demo, are searched for both sentinels in raw, hex (both cases) and
# base64 (standard and URL-safe) form, and any match fails the run. Decrypted bodies,
# the keyring, the body file and the broker's store go to places that are not searched
# (the demo scans its store for its own plaintext itself).
#
# The Java and Python test suites accept no external keyring. They run the same check on
# their own sentinel keys (SecretHygieneTest.java, bindings/python/tests/
# test_secret_hygiene.py), so they are not run here.
#
# Usage: scripts/secret-hygiene.sh   (builds mqseal-cli and mqseal-ffi in release mode)
# Environment: MQSEAL_HYGIENE_BROKER=0 skips the broker demo (about two minutes).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cargo build -q --release -p mqseal-cli -p mqseal-ffi --manifest-path "$root/Cargo.toml"
make -s -C "$root/examples/c" BUILD="$root/build/secret-hygiene/examples" >/dev/null
mqseal="$root/target/release/mqseal"
examples="$root/build/secret-hygiene/examples"

state=$(mktemp -d "${TMPDIR:-/tmp}/mqseal-hygiene.XXXXXX")
trap 'rm -rf -- "$state"' EXIT
data="$state/data"       # inputs and legitimate outputs; not searched
captured="$state/out"    # everything mqseal printed; searched
mkdir -p "$data" "$captured"
chmod 700 "$state"

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
kek_hex=$(random_hex 32)
plaintext="mqseal-hygiene-plaintext-$(random_hex 16)"
export kek_hex plaintext

keyring="$data/keyring"
(umask 077 && printf 'mqseal-keyring 1\nkey hygiene 1 %s\nprimary hygiene 1\n' "$kek_hex" >"$keyring")
other_keyring="$data/other-keyring"
(umask 077 && printf 'mqseal-keyring 1\nkey hygiene 1 %s\nprimary hygiene 1\n' "$(random_hex 32)" >"$other_keyring")
for i in 1 2 3 4 5 6 7 8; do printf '%s line %s\n' "$plaintext" "$i"; done >"$data/body"

failures=()
step=0
# run EXPECT NAME COMMAND...: runs a command with stdout and stderr captured, and checks
# that it succeeds (EXPECT=ok) or fails (EXPECT=fail); EXPECT=any checks only the output.
run() {
    local expect=$1 name=$2
    shift 2
    step=$((step + 1))
    local status=0
    "$@" >"$captured/$step-$name.stdout" 2>"$captured/$step-$name.stderr" || status=$?
    if [[ $expect == ok && $status -ne 0 ]] || [[ $expect == fail && $status -eq 0 ]]; then
        failures+=("$name: expected $expect, exit status $status")
    fi
}

# --- CLI: the successful path -------------------------------------------------------
run ok encrypt "$mqseal" encrypt --keyring "$keyring" --key-id hygiene --context topic=orders \
    --property customer=alice -i "$data/body" -o "$data/envelope"
run ok encrypt-stored "$mqseal" encrypt --keyring "$keyring" --key-id hygiene --store-context \
    --context topic=orders --compress -i "$data/body" -o "$data/envelope-stored"
run ok inspect "$mqseal" inspect -i "$data/envelope"
run ok inspect-json "$mqseal" inspect --json -i "$data/envelope-stored"
run ok decrypt "$mqseal" decrypt --keyring "$keyring" --context topic=orders --show-properties \
    -i "$data/envelope" -o "$data/decrypted"
cmp -s "$data/body" "$data/decrypted" || failures+=("decrypt: the body differs")
run ok list "$mqseal" list --keyring "$keyring"
printf 'keyring.path = %s\nkey_id = hygiene\n' "$keyring" >"$data/mqseal.properties"
run ok decrypt-config "$mqseal" decrypt --config "$data/mqseal.properties" \
    -i "$data/envelope-stored" -o "$data/decrypted-config"

# --- CLI: failing inputs --------------------------------------------------------------
run fail wrong-context "$mqseal" decrypt --keyring "$keyring" --context topic=payments \
    -i "$data/envelope"
run fail wrong-key "$mqseal" decrypt --keyring "$other_keyring" --context topic=orders \
    -i "$data/envelope"
run fail plaintext-as-envelope "$mqseal" decrypt --keyring "$keyring" -i "$data/body"
run fail plaintext-inspect "$mqseal" inspect -i "$data/body"
size=$(stat -c %s "$data/envelope")
for offset in 1 3 10 30 60 $((size - 40)) $((size - 1)); do
    python3 - "$data/envelope" "$data/tampered-$offset" "$offset" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[int(sys.argv[3])] ^= 0x21
open(sys.argv[2], "wb").write(data)
EOF
    run fail "tampered-$offset" "$mqseal" decrypt --keyring "$keyring" --context topic=orders \
        -i "$data/tampered-$offset"
    # A flip inside the wrapped key leaves the header parseable, so inspect may succeed.
    run any "tampered-inspect-$offset" "$mqseal" inspect -i "$data/tampered-$offset"
done
head -c $((size / 2)) "$data/envelope" >"$data/truncated"
run fail truncated "$mqseal" decrypt --keyring "$keyring" --context topic=orders -i "$data/truncated"

# Keyring files with the KEK where it does not belong.
bad_keyring() {
    local name=$1 text=$2
    (umask 077 && printf '%s' "$text" >"$data/bad-$name")
    run fail "keyring-$name" "$mqseal" decrypt --keyring "$data/bad-$name" -i "$data/envelope"
    run fail "keyring-list-$name" "$mqseal" list --keyring "$data/bad-$name"
}
bad_keyring name-column "mqseal-keyring 1
key $kek_hex! 1 $kek_hex
"
bad_keyring version-column "mqseal-keyring 1
key hygiene $kek_hex $kek_hex
"
bad_keyring long-key "mqseal-keyring 1
key hygiene 1 ${kek_hex}00
"
bad_keyring not-hex "mqseal-keyring 1
key hygiene 1 ${kek_hex:0:62}zz
"
bad_keyring no-header "key hygiene 1 $kek_hex
"
bad_keyring primary-column "mqseal-keyring 1
key hygiene 1 $kek_hex
primary $kek_hex 1
"
cp "$keyring" "$data/group-readable"
chmod 640 "$data/group-readable"
run fail keyring-group-readable "$mqseal" decrypt --keyring "$data/group-readable" -i "$data/envelope"

# --- C examples over the sentinel keyring ---------------------------------------------
sed 's/ hygiene / example /' "$keyring" >"$data/example-keyring"
chmod 600 "$data/example-keyring"
sed 's/ hygiene / example /' "$other_keyring" >"$data/example-other-keyring"
chmod 600 "$data/example-other-keyring"
run ok c-producer "$examples/producer" "$data/example-keyring" orders 20 "$data/frames"
run ok c-consumer "$examples/consumer" "$data/example-keyring" orders "$data/frames" 20
run fail c-consumer-wrong-key "$examples/consumer" "$data/example-other-keyring" orders \
    "$data/frames" 20
run fail c-consumer-wrong-topic "$examples/consumer" "$data/example-keyring" payments \
    "$data/frames" 20

# --- the broker demo over the sentinel KEK ---------------------------------------------
demo_state="$state/demo"
mkdir -p "$demo_state"
if [[ "${MQSEAL_HYGIENE_BROKER:-1}" == 1 ]]; then
    sed 's/ hygiene / demo /' "$keyring" >"$data/demo-keyring"
    chmod 600 "$data/demo-keyring"
    # demo.sh keeps its RocketMQ state (logs and store) under TMPDIR when asked to.
    run ok broker-demo env TMPDIR="$demo_state" MQSEAL_KEEP_RMQ_DIR=1 "$root/scripts/demo.sh" \
        --keyring "$data/demo-keyring" --messages 200 --rounds 1 --compare-messages 200
fi

# --- search every captured file and log -----------------------------------------------
search_status=0
python3 - "$captured" "$demo_state" <<'EOF' || search_status=$?
import base64
import os
import pathlib
import sys

kek = bytes.fromhex(os.environ["kek_hex"])
plaintext = os.environ["plaintext"].encode()


def forms(secret):
    """Yields the encodings of `secret` (and of its first half) to search for."""
    for part in (secret, secret[: len(secret) // 2]):
        yield "raw", part
        yield "hex", part.hex().encode()
        yield "HEX", part.hex().upper().encode()
        # base64 of a substring depends on its alignment: search each of the three
        # shifts, without the last four characters that depend on what follows.
        for shift in range(3):
            for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
                text = encode(part[shift:])[:-4]
                if len(text) >= 12:
                    yield name, text


found = []
# The broker's store holds only envelopes and the demo's own bodies, in files of up to
# 1 GiB, so it is skipped.
files = sorted(
    p
    for root in sys.argv[1:]
    for p in pathlib.Path(root).rglob("*")
    if p.is_file() and "store" not in p.relative_to(root).parts
)
for path in files:
    content = path.read_bytes()
    for label, secret in (("KEK", kek), ("plaintext", plaintext)):
        for name, needle in forms(secret):
            if needle in content:
                found.append(f"{path}: the sentinel {label} in {name} form")
for line in found:
    print(f"secret-hygiene: {line}", file=sys.stderr)
print(f"secret-hygiene: searched {len(files)} captured files")
sys.exit(1 if found else 0)
EOF

for failure in "${failures[@]}"; do
    echo "secret-hygiene: $failure" >&2
done
if [[ $search_status -ne 0 || ${#failures[@]} -gt 0 ]]; then
    echo "secret-hygiene: FAILED; captured output is in $captured" >&2
    trap - EXIT
    exit 1
fi
echo "secret-hygiene: $step commands, no sentinel key or plaintext in their output"
