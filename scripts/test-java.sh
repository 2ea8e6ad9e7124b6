#!/usr/bin/env bash
# Runs the mqseal-rocketmq tests against a real RocketMQ NameServer and Broker.
#
# Builds and installs mqseal-java (make java-lib), then starts RocketMQ 5.3.3 with
# tests/rocketmq/rmq.sh in a temporary state directory on free ports. Runs the JUnit suite
# of bindings/java/mqseal-rocketmq and installs that module when it passes. RocketMQ is
# stopped on every exit, failed or not. The state directory (store and broker logs) is
# deleted after a pass and kept after a failure.
#
# Usage: scripts/test-java.sh [extra Maven arguments, e.g. -Dtest=DeadLetterTest]
# Environment: MVN (Maven command), MQSEAL_RMQ_NAMESRV_PORT and MQSEAL_RMQ_BROKER_PORT
# (fixed ports instead of free ones), MQSEAL_KEEP_RMQ_DIR=1 (keep the state directory).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly root
readonly rmq="$root/tests/rocketmq/rmq.sh"
mvn="${MVN:-mvn}"

# Succeeds when nothing listens on 127.0.0.1:PORT.
port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Exports NameServer and broker ports that are free, unless the caller set them. The broker
# also listens on its port - 2 (fast channel) and + 1 (HA).
choose_ports() {
    if [[ -n "${MQSEAL_RMQ_NAMESRV_PORT:-}" || -n "${MQSEAL_RMQ_BROKER_PORT:-}" ]]; then
        return
    fi
    local namesrv broker attempt
    for attempt in $(seq 1 50); do
        if [[ "$attempt" == 1 ]]; then
            namesrv=19876
        else
            namesrv=$((20000 + RANDOM % 20000))
        fi
        broker=$((namesrv + 1035))
        if port_free "$namesrv" && port_free "$broker" && port_free $((broker - 2)) &&
            port_free $((broker + 1)); then
            export MQSEAL_RMQ_NAMESRV_PORT="$namesrv" MQSEAL_RMQ_BROKER_PORT="$broker"
            return
        fi
    done
    echo "test-java: found no free ports for RocketMQ; set MQSEAL_RMQ_NAMESRV_PORT and MQSEAL_RMQ_BROKER_PORT" >&2
    exit 1
}

make -C "$root" --no-print-directory java-lib

state="$(mktemp -d "${TMPDIR:-/tmp}/mqseal-test-java.XXXXXX")"
export MQSEAL_RMQ_DIR="$state/rmq"
passed=0
cleanup() {
    "$rmq" stop || echo "test-java: rmq.sh stop failed; check the JVMs of $MQSEAL_RMQ_DIR" >&2
    if [[ "$passed" == 1 && "${MQSEAL_KEEP_RMQ_DIR:-0}" != 1 ]]; then
        rm -rf -- "$state"
    else
        echo "test-java: RocketMQ store and logs kept in $MQSEAL_RMQ_DIR" >&2
    fi
}
trap cleanup EXIT

choose_ports
"$rmq" start
eval "$("$rmq" env)"
export MQSEAL_RMQ_NAMESRV="$MQSEAL_RMQ_NAMESRV_ADDR"

"$mvn" -B -f "$root/bindings/java/pom.xml" -pl mqseal-rocketmq install "$@"
passed=1
