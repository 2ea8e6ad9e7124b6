#!/usr/bin/env bash
# Runs the AWS KMS examples (examples/python/kms_example.py and the Java KmsExample) against
# local-kms, the KMS test server, which tests/kms/local-kms.sh starts on a free port and
# this script stops on exit. Builds the Python wheel (bindings/python/build-wheel.sh) and
# installs the Java library (make java-lib) first.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly root
readonly kms="$root/tests/kms/local-kms.sh"
python="${PYTHON:-python3}"
mvn="${MVN:-mvn}"

wheel="$(PYTHON="$python" "$root/bindings/python/build-wheel.sh")"
venv="$root/build/venv-kms-example"
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --force-reinstall --no-deps "$wheel"

make -C "$root" --no-print-directory java-lib
example="$root/examples/java"
"$mvn" -B -q -Dstyle.color=never -f "$example/pom.xml" package

state="$(mktemp -d "${TMPDIR:-/tmp}/mqseal-kms-examples.XXXXXX")"
export MQSEAL_KMS_DIR="$state"
cleanup() {
    "$kms" stop || echo "kms-examples: local-kms.sh stop failed; see $state" >&2
    rm -rf -- "$state"
}
trap cleanup EXIT
"$kms" start
eval "$("$kms" env)"

"$venv/bin/python" "$root/examples/python/kms_example.py"
java -cp "$example/target/classes:$(cat "$example/target/classpath.txt")" \
    io.mqseal.examples.KmsExample
echo "kms-examples: both examples encrypted and decrypted through local-kms"
