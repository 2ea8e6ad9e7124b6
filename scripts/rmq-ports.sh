# shellcheck shell=bash
# Sourced by scripts/demo.sh, scripts/test-java.sh and scripts/test-java-grpc.sh: picks free
# ports for the RocketMQ NameServer, broker and proxy that tests/rocketmq/rmq.sh starts.

# Succeeds when nothing listens on 127.0.0.1:PORT.
port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# choose_ports NAME: exports NameServer and broker ports that are free, unless the caller
# set them. The broker also listens on its port - 2 (fast channel) and + 1 (HA). NAME
# prefixes the error message.
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
    echo "$1: found no free ports for RocketMQ; set MQSEAL_RMQ_NAMESRV_PORT and MQSEAL_RMQ_BROKER_PORT" >&2
    exit 1
}

# choose_proxy_ports NAME: exports free ports for the proxy's gRPC and remoting listeners
# (tests/rocketmq/rmq.sh start --proxy), unless the caller set them. Call it after
# choose_ports, so the ports differ from the NameServer's and broker's.
choose_proxy_ports() {
    if [[ -n "${MQSEAL_RMQ_PROXY_GRPC_PORT:-}" || -n "${MQSEAL_RMQ_PROXY_REMOTING_PORT:-}" ]]; then
        return
    fi
    local grpc remoting attempt taken
    taken=" $MQSEAL_RMQ_NAMESRV_PORT $MQSEAL_RMQ_BROKER_PORT $((MQSEAL_RMQ_BROKER_PORT - 2)) $((MQSEAL_RMQ_BROKER_PORT + 1)) "
    for attempt in $(seq 1 50); do
        grpc=$((20000 + RANDOM % 20000))
        remoting=$((grpc + 1))
        if [[ "$taken" != *" $grpc "* && "$taken" != *" $remoting "* ]] &&
            port_free "$grpc" && port_free "$remoting"; then
            export MQSEAL_RMQ_PROXY_GRPC_PORT="$grpc" MQSEAL_RMQ_PROXY_REMOTING_PORT="$remoting"
            return
        fi
    done
    echo "$1: found no free ports for the RocketMQ proxy; set MQSEAL_RMQ_PROXY_GRPC_PORT and MQSEAL_RMQ_PROXY_REMOTING_PORT" >&2
    exit 1
}
