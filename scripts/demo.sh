#!/usr/bin/env bash
# The mqseal demo: encrypted messages through a real RocketMQ broker.
#
# Builds everything from a fresh clone: make java-lib, then installs mqseal-rocketmq and
# builds examples/java. Starts RocketMQ 5.3.3 with tests/rocketmq/rmq.sh in a temporary
# state directory on free ports and runs io.mqseal.examples.Demo. The demo sends and
# decrypts the messages, scans the broker's store and the broker and client logs for
# plaintext, and compares throughput with and without encryption. RocketMQ is stopped on
# every exit. Exits non-zero when a count does not match or plaintext is found.
#
# Usage: scripts/demo.sh [Demo options, e.g. --messages 5000; see examples/java/README.md]
# Environment: MVN (Maven command), MQSEAL_RMQ_NAMESRV_PORT and MQSEAL_RMQ_BROKER_PORT
# (fixed ports instead of free ones), MQSEAL_KEEP_RMQ_DIR=1 (keep store and logs).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly root
readonly rmq="$root/tests/rocketmq/rmq.sh"
readonly example="$root/examples/java"
mvn="${MVN:-mvn}"

# shellcheck source=scripts/rmq-ports.sh
source "$root/scripts/rmq-ports.sh"

echo "demo: building mqseal-java, mqseal-rocketmq and the example" >&2
make -C "$root" --no-print-directory java-lib
"$mvn" -B -q -Dstyle.color=never -f "$root/bindings/java/pom.xml" -pl mqseal-rocketmq-common,mqseal-rocketmq install -DskipTests
"$mvn" -B -q -Dstyle.color=never -f "$example/pom.xml" package

state="$(mktemp -d "${TMPDIR:-/tmp}/mqseal-demo.XXXXXX")"
export MQSEAL_RMQ_DIR="$state/rmq"
cleanup() {
    echo "demo: stopping RocketMQ" >&2
    "$rmq" stop || echo "demo: rmq.sh stop failed; check the JVMs of $MQSEAL_RMQ_DIR" >&2
    if [[ "${MQSEAL_KEEP_RMQ_DIR:-0}" == 1 ]]; then
        echo "demo: RocketMQ store and logs kept in $state" >&2
    else
        rm -rf -- "$state"
    fi
}
trap cleanup EXIT

choose_ports demo
"$rmq" start
eval "$("$rmq" env)"
"$rmq" topic mqseal-demo mqseal-demo-plain

client_logs="$state/client-logs"
mkdir -p "$client_logs"
java -Xms64m -Xmx512m -XX:+UseSerialGC \
    -Drocketmq.log.root="$client_logs" \
    -cp "$example/target/classes:$(cat "$example/target/classpath.txt")" \
    io.mqseal.examples.Demo \
    --namesrv "$MQSEAL_RMQ_NAMESRV_ADDR" \
    --store-dir "$MQSEAL_RMQ_STORE_DIR" \
    --log-dir "$MQSEAL_RMQ_LOG_DIR" \
    --log-dir "$client_logs" \
    --compare-plain \
    "$@"
