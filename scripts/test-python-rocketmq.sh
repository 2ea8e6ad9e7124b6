#!/usr/bin/env bash
# Runs the mqseal.rocketmq tests (bindings/python/tests-rocketmq) against a real RocketMQ 5.3.3
# NameServer and Proxy in local mode, through the official gRPC client rocketmq-python-client.
#
# Builds the wheel, installs it with the extra "rocketmq" into a fresh virtualenv
# build/venv-rocketmq under the pinned versions of bindings/python/constraints-rocketmq.txt,
# starts RocketMQ with tests/rocketmq/rmq.sh start --proxy in a temporary state directory on
# free ports, creates the test topics and runs pytest. RocketMQ is stopped on every exit,
# failed or not. The state directory (store, logs, client logs) is deleted after a pass and
# kept after a failure.
#
# Usage: scripts/test-python-rocketmq.sh [extra pytest arguments, e.g. -k round_trip]
# Environment: PYTHON (python3 by default), MQSEAL_RMQ_NAMESRV_PORT, MQSEAL_RMQ_BROKER_PORT,
# MQSEAL_RMQ_PROXY_GRPC_PORT and MQSEAL_RMQ_PROXY_REMOTING_PORT (fixed ports instead of free
# ones), MQSEAL_KEEP_RMQ_DIR=1 (keep the state directory).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly root
readonly rmq="$root/tests/rocketmq/rmq.sh"
readonly venv="$root/build/venv-rocketmq"
python="${PYTHON:-python3}"

# shellcheck source=scripts/rmq-ports.sh
source "$root/scripts/rmq-ports.sh"

wheel="$(PYTHON="$python" "$root/bindings/python/build-wheel.sh")"
rm -rf -- "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet -c "$root/bindings/python/constraints-rocketmq.txt" \
    "${wheel}[rocketmq]" 'pytest>=8'

state="$(mktemp -d "${TMPDIR:-/tmp}/mqseal-test-python-rocketmq.XXXXXX")"
export MQSEAL_RMQ_DIR="$state/rmq"
passed=0
cleanup() {
    "$rmq" stop || echo "test-python-rocketmq: rmq.sh stop failed; check the JVMs of $MQSEAL_RMQ_DIR" >&2
    if [[ "$passed" == 1 && "${MQSEAL_KEEP_RMQ_DIR:-0}" != 1 ]]; then
        rm -rf -- "$state"
    else
        echo "test-python-rocketmq: RocketMQ store and logs kept in $MQSEAL_RMQ_DIR, client logs in $state/home/logs" >&2
    fi
}
trap cleanup EXIT

choose_ports test-python-rocketmq
choose_proxy_ports test-python-rocketmq
"$rmq" start --proxy
eval "$("$rmq" env)"

# gRPC clients fail to start on a topic that does not exist, and the proxy checks each
# message's type against its topic's type. A FIFO push consumer needs a group with
# consumeMessageOrderly. The names match bindings/python/tests-rocketmq. Each mqadmin call
# spends most of its 4 to 7 s waiting, so they run side by side.
setup_pids=()
"$rmq" topic --type NORMAL mqseal-py-normal & setup_pids+=("$!")
"$rmq" topic --type FIFO mqseal-py-fifo & setup_pids+=("$!")
"$rmq" topic --type DELAY mqseal-py-delay & setup_pids+=("$!")
"$rmq" topic --type TRANSACTION mqseal-py-tx & setup_pids+=("$!")
"$rmq" group --fifo mqseal-py-fifo-group & setup_pids+=("$!")
for pid in "${setup_pids[@]}"; do
    wait "$pid"
done

# rocketmq-python-client writes its log under ~/logs/rocketmq_python; keep it in the state
# directory.
mkdir -p "$state/home"
HOME="$state/home" "$venv/bin/python" -m pytest -p no:cacheprovider \
    "$root/bindings/python/tests-rocketmq" "$@"
passed=1
