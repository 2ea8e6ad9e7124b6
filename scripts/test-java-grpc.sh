#!/usr/bin/env bash
# Runs the mqseal-rocketmq5 tests against a real RocketMQ NameServer and Proxy in local mode.
#
# Builds and installs mqseal-java (make java-lib), then starts RocketMQ 5.3.3 with
# tests/rocketmq/rmq.sh start --proxy in a temporary state directory on free ports. Runs the
# JUnit suite of bindings/java/mqseal-rocketmq5 (with mqseal-rocketmq-common) and installs both
# modules when it passes. RocketMQ is stopped on every exit, failed or not. The state directory
# (store and logs) is deleted after a pass and kept after a failure.
#
# Usage: scripts/test-java-grpc.sh [extra Maven arguments, e.g. -Dtest=DeadLetterTest]
# Environment: MVN (Maven command); MQSEAL_RMQ_NAMESRV_PORT, MQSEAL_RMQ_BROKER_PORT,
# MQSEAL_RMQ_PROXY_GRPC_PORT and MQSEAL_RMQ_PROXY_REMOTING_PORT (fixed ports instead of free
# ones); MQSEAL_KEEP_RMQ_DIR=1 (keep the state directory).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly root
readonly rmq="$root/tests/rocketmq/rmq.sh"
mvn="${MVN:-mvn}"

# shellcheck source=scripts/rmq-ports.sh
source "$root/scripts/rmq-ports.sh"

make -C "$root" --no-print-directory java-lib

state="$(mktemp -d "${TMPDIR:-/tmp}/mqseal-test-java-grpc.XXXXXX")"
export MQSEAL_RMQ_DIR="$state/rmq"
passed=0
cleanup() {
    "$rmq" stop || echo "test-java-grpc: rmq.sh stop failed; check the JVMs of $MQSEAL_RMQ_DIR" >&2
    if [[ "$passed" == 1 && "${MQSEAL_KEEP_RMQ_DIR:-0}" != 1 ]]; then
        rm -rf -- "$state"
    else
        echo "test-java-grpc: RocketMQ store and logs kept in $MQSEAL_RMQ_DIR" >&2
    fi
}
trap cleanup EXIT

choose_ports test-java-grpc
choose_proxy_ports test-java-grpc
"$rmq" start --proxy
eval "$("$rmq" env)"

"$mvn" -B -Dstyle.color=never -f "$root/bindings/java/pom.xml" -pl mqseal-rocketmq-common,mqseal-rocketmq5 install "$@"
passed=1
