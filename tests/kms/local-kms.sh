#!/usr/bin/env bash
# Runs local-kms (github.com/nsmithuk/local-kms), the AWS KMS test server, on 127.0.0.1.
#
#   tests/kms/local-kms.sh seed     writes the seed file with fresh random key material
#   tests/kms/local-kms.sh start    seeds, starts the server on a free port, writes DIR/env
#   tests/kms/local-kms.sh env      prints DIR/env: export lines for the AWS SDK and tests
#   tests/kms/local-kms.sh stop     stops the server
#   tests/kms/local-kms.sh call OPERATION JSON      sends one KMS request, prints the response
#   tests/kms/local-kms.sh disable|enable KEY_ID    disables or enables a key
#   tests/kms/local-kms.sh point ALIAS KEY_ID       points an alias at another key
#
# DIR is $MQSEAL_KMS_DIR (default build/local-kms); each directory contains one server, so
# parallel tests use one directory each. MQSEAL_KMS_PORT fixes the port; otherwise a free
# one is picked. The seed has two symmetric keys, A and B, and alias/mqseal-test pointing
# at A; their backing keys are drawn from /dev/urandom at every seed.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${MQSEAL_KMS_DIR:-$ROOT/build/local-kms}"
REGION="${MQSEAL_KMS_REGION:-eu-west-1}"
ACCOUNT=111122223333
KEY_A=0d7f3e52-6a1c-4b8e-9f21-5c3a8e4b7d10
KEY_B=8c2b9a41-3e5d-4f6a-8b7c-1d2e3f4a5b6c
ALIAS=alias/mqseal-test

die() {
    echo "local-kms.sh: $*" >&2
    exit 1
}

binary() {
    local gopath
    if command -v local-kms >/dev/null 2>&1; then
        command -v local-kms
        return
    fi
    gopath="$( (go env GOPATH || /usr/local/go/bin/go env GOPATH) 2>/dev/null || echo "$HOME/go")"
    [[ -x "$gopath/bin/local-kms" ]] ||
        die "local-kms is not installed; run scripts/install-tools.sh (it runs go install)"
    echo "$gopath/bin/local-kms"
}

random_hex() {
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
}

seed() {
    mkdir -p "$DIR"
    umask 077
    cat >"$DIR/seed.yaml" <<EOF
# local-kms seed: written by tests/kms/local-kms.sh with random test key material.
Keys:
  Symmetric:
    Aes:
      - Metadata:
          KeyId: $KEY_A
        BackingKeys:
          - $(random_hex)
      - Metadata:
          KeyId: $KEY_B
        BackingKeys:
          - $(random_hex)
Aliases:
  - AliasName: $ALIAS
    TargetKeyId: $KEY_A
EOF
}

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
    local port
    if [[ -n "${MQSEAL_KMS_PORT:-}" ]]; then
        echo "$MQSEAL_KMS_PORT"
        return
    fi
    # A restart keeps the endpoint that clients already use, when the port is still free.
    if [[ -f "$DIR/port" ]] && port_free "$(cat "$DIR/port")"; then
        cat "$DIR/port"
        return
    fi
    for _ in $(seq 1 100); do
        port=$((40000 + RANDOM % 20000))
        if port_free "$port"; then
            echo "$port"
            return
        fi
    done
    die "found no free port; set MQSEAL_KMS_PORT"
}

endpoint() {
    [[ -f "$DIR/port" ]] || die "no server in $DIR; run start first"
    echo "http://127.0.0.1:$(cat "$DIR/port")"
}

call() {
    local operation="$1" body="$2"
    curl -sS --max-time 10 -X POST "$(endpoint)/" \
        -H "X-Amz-Target: TrentService.$operation" \
        -H 'Content-Type: application/x-amz-json-1.1' \
        -d "$body"
}

start() {
    local bin
    bin="$(binary)"
    if [[ -f "$DIR/pid" ]] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null; then
        die "a server already runs from $DIR (pid $(cat "$DIR/pid")); stop it first"
    fi
    # A restart keeps the data directory, so keys, aliases and their states survive.
    [[ -f "$DIR/seed.yaml" ]] || seed
    mkdir -p "$DIR/data"
    # Another process may take the chosen port before local-kms binds it, and local-kms
    # then exits; each new attempt picks another free port.
    for attempt in 1 2 3 4 5; do
        if launch "$bin"; then
            return
        fi
        echo "local-kms.sh: attempt $attempt failed; log follows" >&2
        tail -n 5 "$DIR/server.log" >&2 || true
        rm -f "$DIR/port"
    done
    die "local-kms did not start after 5 attempts; its log is $DIR/server.log"
}

# Starts local-kms once; fails when it exits or does not respond within 10 seconds.
launch() {
    local bin="$1" port pid
    port="$(pick_port)"
    PORT="$port" KMS_SEED_PATH="$DIR/seed.yaml" KMS_DATA_PATH="$DIR/data" \
        KMS_REGION="$REGION" KMS_ACCOUNT_ID="$ACCOUNT" \
        nohup "$bin" >"$DIR/server.log" 2>&1 &
    pid=$!
    echo "$pid" >"$DIR/pid"
    echo "$port" >"$DIR/port"
    for _ in $(seq 1 100); do
        if call ListKeys '{}' >/dev/null 2>&1; then
            write_env "$port"
            echo "local-kms.sh: local-kms runs on 127.0.0.1:$port (pid $pid, state $DIR)" >&2
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    rm -f "$DIR/pid"
    return 1
}

write_env() {
    local port="$1" arn="arn:aws:kms:$REGION:$ACCOUNT:key"
    # Dummy credentials: local-kms checks no signature. Shared AWS files point into DIR so
    # a developer's own profile cannot leak in, and instance metadata is never asked.
    cat >"$DIR/env" <<EOF
export AWS_ACCESS_KEY_ID=mqseal-local-kms-test
export AWS_SECRET_ACCESS_KEY=mqseal-local-kms-test
export AWS_REGION=$REGION
export AWS_CONFIG_FILE=$DIR/aws-config
export AWS_SHARED_CREDENTIALS_FILE=$DIR/aws-credentials
export AWS_EC2_METADATA_DISABLED=true
export MQSEAL_KMS_ENDPOINT=http://127.0.0.1:$port
export MQSEAL_KMS_REGION=$REGION
export MQSEAL_KMS_ALIAS=$ALIAS
export MQSEAL_KMS_KEY_A=$KEY_A
export MQSEAL_KMS_KEY_B=$KEY_B
export MQSEAL_KMS_ARN_A=$arn/$KEY_A
export MQSEAL_KMS_ARN_B=$arn/$KEY_B
EOF
}

stop() {
    local pid
    [[ -f "$DIR/pid" ]] || return 0
    pid="$(cat "$DIR/pid")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$DIR/pid"
}

case "${1:-}" in
seed) seed ;;
start) start ;;
stop) stop ;;
env) cat "$DIR/env" ;;
call) call "$2" "$3" ;;
disable) call DisableKey "{\"KeyId\":\"$2\"}" ;;
enable) call EnableKey "{\"KeyId\":\"$2\"}" ;;
point) call UpdateAlias "{\"AliasName\":\"$2\",\"TargetKeyId\":\"$3\"}" ;;
*) die "usage: $0 seed|start|stop|env|call OPERATION JSON|disable KEY|enable KEY|point ALIAS KEY" ;;
esac
