#!/usr/bin/env bash
# Runs the mqseal-rocketmq tests against a real RocketMQ NameServer and Broker.
#
# Builds and installs mqseal-java (make java-lib), then starts RocketMQ 5.3.3 with
# tests/rocketmq/rmq.sh in a temporary state directory on free ports, and local-kms (the
# AWS KMS test server) with tests/kms/local-kms.sh, exporting its MQSEAL_KMS_* variables.
# Runs the JUnit suite of bindings/java/mqseal-rocketmq (with mqseal-rocketmq-common) and
# installs both when it passes. RocketMQ and local-kms are stopped on every exit, failed or
# not. The state directory (store and broker logs) is deleted after a pass and kept after
# a failure.
#
# Usage: scripts/test-java.sh [extra Maven arguments, e.g. -Dtest=DeadLetterTest]
# Environment: MVN (Maven command), MQSEAL_RMQ_NAMESRV_PORT and MQSEAL_RMQ_BROKER_PORT
# (fixed ports instead of free ones), MQSEAL_KEEP_RMQ_DIR=1 (keep the state directory).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly root
readonly rmq="$root/tests/rocketmq/rmq.sh"
readonly kms="$root/tests/kms/local-kms.sh"
mvn="${MVN:-mvn}"

# shellcheck source=scripts/rmq-ports.sh
source "$root/scripts/rmq-ports.sh"

make -C "$root" --no-print-directory java-lib

state="$(mktemp -d "${TMPDIR:-/tmp}/mqseal-test-java.XXXXXX")"
export MQSEAL_RMQ_DIR="$state/rmq"
export MQSEAL_KMS_DIR="$state/kms"
passed=0
cleanup() {
    "$kms" stop || echo "test-java: local-kms.sh stop failed; see $MQSEAL_KMS_DIR" >&2
    "$rmq" stop || echo "test-java: rmq.sh stop failed; check the JVMs of $MQSEAL_RMQ_DIR" >&2
    if [[ "$passed" == 1 && "${MQSEAL_KEEP_RMQ_DIR:-0}" != 1 ]]; then
        rm -rf -- "$state"
    else
        echo "test-java: RocketMQ store and logs kept in $MQSEAL_RMQ_DIR" >&2
    fi
}
trap cleanup EXIT

"$kms" start
eval "$("$kms" env)"
choose_ports test-java
"$rmq" start
eval "$("$rmq" env)"
export MQSEAL_RMQ_NAMESRV="$MQSEAL_RMQ_NAMESRV_ADDR"

"$mvn" -B -Dstyle.color=never -f "$root/bindings/java/pom.xml" -pl mqseal-rocketmq-common,mqseal-rocketmq install "$@"
passed=1
