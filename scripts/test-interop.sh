#!/usr/bin/env bash
# Runs the cross-language interop matrix through a real RocketMQ NameServer and Proxy
# (local mode, which runs the broker inside the proxy JVM).
#
# Every producer leg sends COUNT messages of each variant (suite aes-256-gcm or
# chacha20-poly1305, in-envelope compression on or off) to its own topic interop-LANG.
# Every consumer leg subscribes to all those topics with its own group, so each consumer
# decrypts every message of every producer, itself included. It checks the body's SHA-256,
# the body itself and the envelope header's suite and compressed flag against the message's
# plain interop-* properties. tests/interop/interop.py prints the producer x consumer x
# suite x compression table and fails unless every cell holds COUNT verified messages.
#
# Legs:
#   c      tests/interop/mqseal_interop.c encrypts and decrypts through the C ABI; a plain
#          Java remoting client without mqseal carries its envelopes and metadata
#          properties, because there is no RocketMQ client for C here.
#   java   mqseal-rocketmq (EncryptingProducer, DecryptingMessageListenerConcurrently) on
#          the remoting client, which reaches the proxy's embedded broker through the
#          NameServer.
# TODO: add the java-grpc leg (mqseal-rocketmq5 on rocketmq-client-java) and the python
# leg (mqseal.rocketmq on rocketmq-python-client) once those modules exist.
#
# The proxy and the keyring live in a temporary state directory on free ports; everything
# started here is stopped on every exit. The directory is deleted after a pass and kept
# after a failure.
#
# Usage: scripts/test-interop.sh
# Environment: INTEROP_COUNT (messages per producer and variant, default 2),
# INTEROP_TIMEOUT (seconds the consumers wait, default 240), MVN, MQSEAL_RMQ_*_PORT
# (fixed ports instead of free ones), MQSEAL_KEEP_RMQ_DIR=1 (keep the state directory).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly root
readonly rmq="$root/tests/rocketmq/rmq.sh"
readonly interop_py="$root/tests/interop/interop.py"
mvn="${MVN:-mvn}"
count="${INTEROP_COUNT:-2}"
timeout="${INTEROP_TIMEOUT:-240}"
started=$SECONDS

# shellcheck source=scripts/rmq-ports.sh
source "$root/scripts/rmq-ports.sh"

log() {
    echo "test-interop: [$((SECONDS - started)) s] $*" >&2
}

# Picks free proxy ports unless the caller set them.
choose_proxy_ports() {
    if [[ -n "${MQSEAL_RMQ_PROXY_GRPC_PORT:-}" || -n "${MQSEAL_RMQ_PROXY_REMOTING_PORT:-}" ]]; then
        return
    fi
    local grpc attempt
    for attempt in $(seq 1 50); do
        grpc=$((20000 + RANDOM % 20000))
        if port_free "$grpc" && port_free $((grpc + 1)) && [[ "$grpc" != "$MQSEAL_RMQ_NAMESRV_PORT" ]] &&
            ((grpc + 1 < MQSEAL_RMQ_BROKER_PORT - 2 || grpc > MQSEAL_RMQ_BROKER_PORT + 1)); then
            export MQSEAL_RMQ_PROXY_GRPC_PORT="$grpc" MQSEAL_RMQ_PROXY_REMOTING_PORT=$((grpc + 1))
            return
        fi
    done
    log "found no free ports for the proxy; set MQSEAL_RMQ_PROXY_GRPC_PORT and MQSEAL_RMQ_PROXY_REMOTING_PORT"
    exit 1
}

# --- build -------------------------------------------------------------------------------
log "building the CLI, the C library, the Java modules and the C leg"
cargo build --release -q -p mqseal-cli -p mqseal-ffi --manifest-path "$root/Cargo.toml"
make -C "$root" --no-print-directory java-lib
"$mvn" -B -q -f "$root/bindings/java/pom.xml" -pl mqseal-rocketmq install -DskipTests

state="$(mktemp -d "${TMPDIR:-/tmp}/mqseal-test-interop.XXXXXX")"
export MQSEAL_RMQ_DIR="$state/rmq"
mkdir -p "$state/c" "$state/results"
"$mvn" -B -q -f "$root/tests/interop/java/pom.xml" package dependency:build-classpath \
    -Dmdep.outputFile="$state/java.classpath"
java_classpath="$root/tests/interop/java/target/classes:$(cat "$state/java.classpath")"
libdir="$root/target/release"
gcc -std=c11 -O2 -Wall -Wextra -Werror -pedantic "-I$root/include" \
    "$root/tests/interop/mqseal_interop.c" -o "$state/mqseal_interop" \
    -L"$libdir" -Wl,-rpath,"$libdir" -lmqseal

passed=0
consumer_pid=""
cleanup() {
    if [[ -n "$consumer_pid" ]] && kill -0 "$consumer_pid" 2>/dev/null; then
        kill "$consumer_pid" 2>/dev/null || true
        wait "$consumer_pid" 2>/dev/null || true
    fi
    "$rmq" stop || log "rmq.sh stop failed; check the JVMs of $MQSEAL_RMQ_DIR"
    log "wall time $((SECONDS - started)) s, builds and RocketMQ start and stop included"
    if [[ "$passed" == 1 && "${MQSEAL_KEEP_RMQ_DIR:-0}" != 1 ]]; then
        rm -rf -- "$state"
    else
        log "state (keyring, records, results, RocketMQ store and logs) kept in $state"
    fi
}
trap cleanup EXIT

java_interop() {
    java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Drocketmq.client.logRoot="$state/client-logs" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -cp "$java_classpath" io.mqseal.interop.InteropMain "$@"
}

# --- RocketMQ: NameServer + Proxy in local mode ---------------------------------------------
producers=(c java)
consumers=(c java)
topics=()
for language in "${producers[@]}"; do
    topics+=("interop-$language")
done
topic_list="$(IFS=,; echo "${topics[*]}")"

choose_ports test-interop
choose_proxy_ports
log "starting the NameServer and the proxy"
"$rmq" start --proxy
eval "$("$rmq" env)"
"$rmq" topic "${topics[@]}"
groups=()
for language in "${consumers[@]}"; do
    groups+=("interop-$language-consumer")
done
"$rmq" group "${groups[@]}"

log "RocketMQ is ready"
keyring="$state/interop.keyring"
"$root/target/release/mqseal" keygen --keyring "$keyring" --name interop >/dev/null

# --- the C producer's envelopes -------------------------------------------------------------
python3 "$interop_py" c-bodies "$state/c" "$count"
for suite in aes-256-gcm chacha20-poly1305; do
    for compression in on off; do
        "$state/mqseal_interop" encrypt "$keyring" interop "$suite" "$compression" interop-c \
            "$state/c/$suite-$compression.plain" "$state/c/$suite-$compression.sealed"
    done
done

# --- consumers first, then producers --------------------------------------------------------
expected=$((count * 4 * ${#producers[@]}))
java_interop consume --namesrv "$MQSEAL_RMQ_NAMESRV_ADDR" --legs java,c --keyring "$keyring" \
    --topics "$topic_list" --expect "$expected" --out-dir "$state/results" --timeout "$timeout" \
    >"$state/results/java-consumer.log" 2>&1 &
consumer_pid=$!
until [[ -f "$state/results/consumers.ready" ]]; do
    if ! kill -0 "$consumer_pid" 2>/dev/null; then
        cat "$state/results/java-consumer.log" >&2
        log "the Java consumers exited before they were ready"
        exit 1
    fi
    sleep 0.5
done

log "consumers ready; producing"
java_interop produce --namesrv "$MQSEAL_RMQ_NAMESRV_ADDR" --legs java,c --keyring "$keyring" \
    --key-id interop --count "$count" --c-dir "$state/c"

log "producers done; waiting for the consumers"
consumers_status=0
wait "$consumer_pid" || consumers_status=$?
consumer_pid=""
if [[ "$consumers_status" != 0 ]]; then
    tail -n 20 "$state/results/java-consumer.log" >&2
    log "the Java consumers exited with status $consumers_status; the table shows what arrived"
fi

# --- the C consumer decrypts what its carrier received --------------------------------------
"$state/mqseal_interop" decrypt "$keyring" "$state/results/c-received.bin" \
    "$state/results/c-decrypted.bin"
python3 "$interop_py" c-verify "$state/results/c-received.props" \
    "$state/results/c-decrypted.bin" "$state/results/c.jsonl"

# --- the table ----------------------------------------------------------------------------------
summary_status=0
python3 "$interop_py" summary "$state/results" --count "$count" \
    --producers "$(IFS=,; echo "${producers[*]}")" --consumers "$(IFS=,; echo "${consumers[*]}")" ||
    summary_status=$?
log "matrix finished $((SECONDS - started)) s after the start of the script, builds included"
if [[ "$summary_status" == 0 && "$consumers_status" == 0 ]]; then
    passed=1
fi
[[ "$passed" == 1 ]]
