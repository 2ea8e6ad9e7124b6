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
# suite x compression table and fails unless every cell contains COUNT verified messages.
#
# Legs:
#   c      tests/interop/mqseal_interop.c encrypts and decrypts through the C ABI; a plain
#          Java remoting client without mqseal carries its envelopes and metadata
#          properties, because there is no RocketMQ client for C here.
#   java   mqseal-rocketmq (EncryptingProducer, DecryptingMessageListenerConcurrently) on
#          the remoting client, which reaches the proxy's embedded broker through the
#          NameServer.
#   java-grpc
#          mqseal-rocketmq5 (EncryptingProducer, DecryptingSimpleConsumer) on
#          rocketmq-client-java through the proxy's gRPC endpoint.
#   python mqseal.rocketmq (EncryptingProducer, DecryptingSimpleConsumer) on
#          rocketmq-python-client through the proxy's gRPC endpoint, in the virtualenv
#          build/venv-interop with the versions of bindings/python/constraints-rocketmq.txt.
#
# The proxy and the keyring live in a temporary state directory on free ports; everything
# started here is stopped on every exit. The directory is deleted after a pass and kept
# after a failure.
#
# Usage: scripts/test-interop.sh
# Environment: INTEROP_COUNT (messages per producer and variant, default 2),
# INTEROP_TIMEOUT (seconds the consumers wait, default 240), MVN, PYTHON, MQSEAL_RMQ_*_PORT
# (fixed ports instead of free ones), MQSEAL_KEEP_RMQ_DIR=1 (keep the state directory).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly root
readonly rmq="$root/tests/rocketmq/rmq.sh"
readonly interop_py="$root/tests/interop/interop.py"
mvn="${MVN:-mvn}"
python="${PYTHON:-python3}"
readonly venv="$root/build/venv-interop"
count="${INTEROP_COUNT:-2}"
timeout="${INTEROP_TIMEOUT:-240}"
started=$SECONDS

# shellcheck source=scripts/rmq-ports.sh
source "$root/scripts/rmq-ports.sh"

log() {
    echo "test-interop: [$((SECONDS - started)) s] $*" >&2
}

# --- build -------------------------------------------------------------------------------
log "building the CLI, the C library, the Java modules, the Python wheel and the C leg"
cargo build --release -q -p mqseal-cli -p mqseal-ffi --manifest-path "$root/Cargo.toml"
make -C "$root" --no-print-directory java-lib
"$mvn" -B -q -Dstyle.color=never -f "$root/bindings/java/pom.xml" -pl mqseal-rocketmq,mqseal-rocketmq5 -am install \
    -DskipTests
wheel="$(PYTHON="$python" "$root/bindings/python/build-wheel.sh")"
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet -c "$root/bindings/python/constraints-rocketmq.txt" "${wheel}[rocketmq]"
# pip keeps an installed mqseal of the same version, so replace it with the new build.
"$venv/bin/pip" install --quiet --force-reinstall --no-deps "$wheel"

state="$(mktemp -d "${TMPDIR:-/tmp}/mqseal-test-interop.XXXXXX")"
export MQSEAL_RMQ_DIR="$state/rmq"
mkdir -p "$state/c" "$state/results" "$state/home"
"$mvn" -B -q -Dstyle.color=never -f "$root/tests/interop/java/pom.xml" clean package dependency:build-classpath \
    -Dmdep.outputFile="$state/java.classpath"
java_classpath="$root/tests/interop/java/target/classes:$(cat "$state/java.classpath")"
libdir="$root/target/release"
gcc -std=c11 -O2 -Wall -Wextra -Werror -pedantic "-I$root/include" \
    "$root/tests/interop/mqseal_interop.c" -o "$state/mqseal_interop" \
    -L"$libdir" -Wl,-rpath,"$libdir" -lmqseal

passed=0
consumer_pids=()
cleanup() {
    local pid
    for pid in "${consumer_pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    "$rmq" stop || log "rmq.sh stop failed; check the JVMs of $MQSEAL_RMQ_DIR"
    log "wall time $((SECONDS - started)) s, builds and RocketMQ start and stop included"
    if [[ "$passed" == 1 && "${MQSEAL_KEEP_RMQ_DIR:-0}" != 1 ]]; then
        rm -rf -- "$state"
    else
        log "state (keyring, records, results, RocketMQ store and logs) kept in $state"
    fi
}
trap cleanup EXIT

# The remoting client logs under rocketmq.client.logRoot, rocketmq-client-java under
# rocketmq.log.root; both stay in the state directory, and so does user.home.
java_interop() {
    java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Duser.home="$state/home" \
        -Drocketmq.client.logRoot="$state/client-logs" -Drocketmq.log.root="$state/client-logs" \
        -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -cp "$java_classpath" io.mqseal.interop.InteropMain "$@"
}

# rocketmq-python-client writes its log under ~/logs/rocketmq_python, so HOME is the state
# directory.
python_interop() {
    HOME="$state/home" "$venv/bin/python" "$root/tests/interop/python_leg.py" "$@"
}

# wait_ready PID READY_FILE LOG NAME: waits until a background consumer created READY_FILE.
wait_ready() {
    until [[ -f "$2" ]]; do
        if ! kill -0 "$1" 2>/dev/null; then
            cat "$3" >&2
            log "the $4 consumer exited before it was ready"
            exit 1
        fi
        sleep 0.5
    done
}

# --- RocketMQ: NameServer + Proxy in local mode ---------------------------------------------
producers=(c java java-grpc python)
consumers=(c java java-grpc python)
topics=()
for language in "${producers[@]}"; do
    topics+=("interop-$language")
done
topic_list="$(IFS=,; echo "${topics[*]}")"

choose_ports test-interop
choose_proxy_ports test-interop
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
"$python" "$interop_py" c-bodies "$state/c" "$count"
for suite in aes-256-gcm chacha20-poly1305; do
    for compression in on off; do
        "$state/mqseal_interop" encrypt "$keyring" interop "$suite" "$compression" interop-c \
            "$state/c/$suite-$compression.plain" "$state/c/$suite-$compression.sealed"
    done
done

# --- the verifier and the C consumer must be able to fail --------------------------------------
if ! "$python" "$interop_py" self-test "$state/self-test" >"$state/self-test.log" 2>&1; then
    cat "$state/self-test.log" >&2
    log "the interop verifier accepts bad results; fix tests/interop/interop.py"
    exit 1
fi
"$python" "$interop_py" c-retopic "$state/c/aes-256-gcm-on.sealed" "$state/c/aes-256-gcm-on.props" \
    interop-elsewhere "$state/c/retopic.pairs" "$state/c/retopic.props"
"$state/mqseal_interop" decrypt "$keyring" "$state/c/retopic.pairs" "$state/c/retopic.decrypted"
"$python" "$interop_py" c-verify "$state/c/retopic.props" "$state/c/retopic.decrypted" \
    "$state/c/retopic.jsonl"
if grep -q '"ok": true' "$state/c/retopic.jsonl" || ! grep -q 'authentication_failed' "$state/c/retopic.jsonl"; then
    cat "$state/c/retopic.jsonl" >&2
    log "the C consumer accepted envelopes read under another topic than the one they were bound to"
    exit 1
fi

# --- consumers first, then producers --------------------------------------------------------
expected=$((count * 4 * ${#producers[@]}))
results="$state/results"
# One JVM runs the java, java-grpc and c carrier consumers, and one the three producers.
java_legs=java,java-grpc,c
java_interop consume --namesrv "$MQSEAL_RMQ_NAMESRV_ADDR" --endpoint "$MQSEAL_RMQ_PROXY_ENDPOINT" \
    --legs "$java_legs" --keyring "$keyring" --topics "$topic_list" --expect "$expected" \
    --out-dir "$results" --timeout "$timeout" >"$results/java-consumer.log" 2>&1 &
java_consumer=$!
consumer_pids+=("$java_consumer")
python_interop consume --endpoint "$MQSEAL_RMQ_PROXY_ENDPOINT" --keyring "$keyring" \
    --topics "$topic_list" --expect "$expected" --out "$results/python.jsonl" \
    --ready "$results/python.ready" --timeout "$timeout" >"$results/python-consumer.log" 2>&1 &
python_consumer=$!
consumer_pids+=("$python_consumer")
wait_ready "$java_consumer" "$results/consumers.ready" "$results/java-consumer.log" Java
wait_ready "$python_consumer" "$results/python.ready" "$results/python-consumer.log" Python

log "consumers ready; producing"
java_interop produce --namesrv "$MQSEAL_RMQ_NAMESRV_ADDR" --endpoint "$MQSEAL_RMQ_PROXY_ENDPOINT" \
    --legs "$java_legs" --keyring "$keyring" --key-id interop --count "$count" --c-dir "$state/c"
python_interop produce --endpoint "$MQSEAL_RMQ_PROXY_ENDPOINT" --keyring "$keyring" \
    --key-id interop --count "$count"

log "producers done; waiting for the consumers"
consumers_status=0
for leg in java python; do
    status=0
    if [[ "$leg" == java ]]; then
        wait "$java_consumer" || status=$?
    else
        wait "$python_consumer" || status=$?
    fi
    if [[ "$status" != 0 ]]; then
        tail -n 20 "$results/$leg-consumer.log" >&2
        log "the $leg consumer exited with status $status; the table shows what arrived"
        consumers_status=1
    fi
done
consumer_pids=()

# --- the C consumer decrypts what its carrier received --------------------------------------
"$state/mqseal_interop" decrypt "$keyring" "$results/c-received.bin" "$results/c-decrypted.bin"
"$python" "$interop_py" c-verify "$results/c-received.props" "$results/c-decrypted.bin" \
    "$results/c.jsonl"

# --- the table ----------------------------------------------------------------------------------
summary_status=0
"$python" "$interop_py" summary "$results" --count "$count" \
    --producers "$(IFS=,; echo "${producers[*]}")" --consumers "$(IFS=,; echo "${consumers[*]}")" ||
    summary_status=$?
log "matrix finished $((SECONDS - started)) s after the start of the script, builds included"
if [[ "$summary_status" == 0 && "$consumers_status" == 0 ]]; then
    passed=1
fi
[[ "$passed" == 1 ]]
