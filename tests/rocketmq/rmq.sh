#!/usr/bin/env bash
# Starts and stops a local Apache RocketMQ 5.3.3 NameServer + Broker (or NameServer +
# Proxy in local mode, which runs the broker inside the proxy JVM) from Maven jars,
# for tests and demos. Clients must use 127.0.0.1. README.md lists the ports and files.
#
# Usage: rmq.sh start [--proxy] | stop | status | topic [--type TYPE] NAME... |
#        group [--fifo] [--retry-max N] NAME... | admin SUBCOMMAND [ARGS...] |
#        env | store-dir | log-dir
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly POM="$SCRIPT_DIR/pom.xml"

STATE_DIR="${MQSEAL_RMQ_DIR:-${TMPDIR:-/tmp}/mqseal-rmq}"
readonly NAMESRV_PORT="${MQSEAL_RMQ_NAMESRV_PORT:-19876}"
readonly BROKER_PORT="${MQSEAL_RMQ_BROKER_PORT:-20911}"
readonly HA_PORT="${MQSEAL_RMQ_HA_PORT:-$((BROKER_PORT + 1))}"
readonly PROXY_GRPC_PORT="${MQSEAL_RMQ_PROXY_GRPC_PORT:-18081}"
readonly PROXY_REMOTING_PORT="${MQSEAL_RMQ_PROXY_REMOTING_PORT:-18080}"
readonly START_TIMEOUT="${MQSEAL_RMQ_START_TIMEOUT:-120}"
readonly STOP_TIMEOUT="${MQSEAL_RMQ_STOP_TIMEOUT:-30}"
readonly ADMIN_TIMEOUT="${MQSEAL_RMQ_ADMIN_TIMEOUT:-60}"
readonly HOST=127.0.0.1
readonly CLUSTER=DefaultCluster
readonly BROKER_NAME=broker-a

if [[ -n "${JAVA_HOME:-}" ]]; then
    JAVA="$JAVA_HOME/bin/java"
else
    JAVA=java
fi
MVN="${MVN:-mvn}"

# RocketMQ 5.3.3 targets Java 8. Its store casts buffers to sun.nio.ch.DirectBuffer
# in CommitLog, DefaultMappedFile and TransientStorePool, which throws
# IllegalAccessError on JDK 17 without these flags. Sending and receiving with the
# default broker settings also worked without them.
readonly JDK_OPENS=(
    --add-exports=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/java.lang=ALL-UNNAMED
)

die() {
    echo "rmq.sh: $*" >&2
    exit 1
}

log() {
    echo "rmq.sh: $*" >&2
}

# Rejects state directories whose cleanup could delete unrelated files.
check_state_dir() {
    [[ -n "$STATE_DIR" ]] || die "MQSEAL_RMQ_DIR is empty"
    STATE_DIR="$(realpath -m -- "$STATE_DIR")"
    case "$STATE_DIR" in
        / | "$HOME" | /tmp | /var/tmp | /usr | /usr/* | /etc | /etc/*)
            die "state directory $STATE_DIR is not safe to clear. Set MQSEAL_RMQ_DIR to a dedicated directory."
            ;;
    esac
}

store_dir() { echo "$STATE_DIR/store"; }
log_dir() { echo "$STATE_DIR/logs"; }

# Every JVM started here carries this property, so stop_role can tell our processes
# apart from unrelated ones that reused a recorded PID.
marker() { echo "-Dmqseal.rmq.dir=$STATE_DIR"; }

pid_file() { echo "$STATE_DIR/$1.pid"; }

# Succeeds when PID is alive and its command line carries this state directory's marker.
is_ours() {
    local pid="$1"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    local cmdline
    # No pipe into 'grep -q' here: with pipefail, grep exiting early would make tr
    # fail with SIGPIPE and report a running JVM as gone.
    cmdline="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ $'\n'"$cmdline"$'\n' == *$'\n'"$(marker)"$'\n'* ]]
}

recorded_pid() {
    local file
    file="$(pid_file "$1")"
    [[ -f "$file" ]] && cat "$file"
}

port_open() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# Prints the classpath file, running Maven only when the pom changed since the last
# resolution or a cached jar has gone missing.
resolve_classpath() {
    local cp_file="$STATE_DIR/classpath.txt"
    local key_file="$STATE_DIR/classpath.sha256"
    local key
    key="$(sha256sum "$POM" | cut -d' ' -f1)"

    if [[ -s "$cp_file" && -f "$key_file" && "$(cat "$key_file")" == "$key" ]]; then
        local jar missing=0
        while IFS= read -r -d ':' jar; do
            [[ -f "$jar" ]] || { missing=1; break; }
        done < <(tr -d '\n' <"$cp_file"; printf ':')
        if [[ "$missing" == 0 ]]; then
            echo "$cp_file"
            return
        fi
        log "cached classpath names a missing jar. Resolving it again."
    fi

    command -v "$MVN" >/dev/null || die "Maven command '$MVN' not found. Install Maven or set MVN."
    log "resolving the RocketMQ classpath with Maven (first run downloads the jars)"
    local mvn_log="$STATE_DIR/mvn.log"
    if ! "$MVN" -B -q -f "$POM" dependency:build-classpath \
        -Dmdep.outputFile="$cp_file.tmp" >"$mvn_log" 2>&1; then
        cat "$mvn_log" >&2
        die "Maven failed to resolve the classpath from $POM"
    fi
    mv "$cp_file.tmp" "$cp_file"
    echo "$key" >"$key_file"
    echo "$cp_file"
}

classpath() {
    local cp_file="$STATE_DIR/classpath.txt"
    [[ -s "$cp_file" ]] || cp_file="$(resolve_classpath)"
    cat "$cp_file"
}

# Runs an MQAdminStartup subcommand in a short-lived JVM and prints its output.
# MQAdminStartup exits 0 even when the subcommand fails, so callers check the output.
run_admin() {
    local cp
    cp="$(classpath)"
    timeout "$ADMIN_TIMEOUT" "$JAVA" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        "${JDK_OPENS[@]}" \
        -Duser.home="$STATE_DIR" -Drocketmq.home.dir="$STATE_DIR/home" \
        -Drmq.logback.configurationFile=rmq.tools.logback.xml \
        -cp "$cp" org.apache.rocketmq.tools.command.MQAdminStartup "$@" 2>&1
}

# Runs FUNCTION once per remaining argument, at most 4 at a time, and writes the
# output of call N to OUTPUT_DIR/N. An admin JVM spends most of its 4 to 7 s waiting
# on exit, so running several side by side saves time for lists of topics or groups.
run_parallel() {
    local output_dir="$1" function="$2"
    shift 2
    local index=0 argument
    for argument in "$@"; do
        if (($(jobs -rp | wc -l) >= 4)); then
            wait -n || true
        fi
        "$function" "$argument" >"$output_dir/$index" 2>&1 &
        index=$((index + 1))
    done
    wait
}

write_configs() {
    local mode="$1"
    mkdir -p "$STATE_DIR/conf" "$STATE_DIR/home" "$STATE_DIR/namesrv" \
        "$(store_dir)/commitlog" "$(log_dir)"

    cat >"$STATE_DIR/conf/namesrv.conf" <<EOF
rocketmqHome=$STATE_DIR/home
kvConfigPath=$STATE_DIR/namesrv/kvConfig.json
bindAddress=$HOST
listenPort=$NAMESRV_PORT
EOF

    # Sizes: the commit log must exceed maxMessageSize (4 MiB) plus 64 KiB. The
    # defaults (1 GiB commit log, 100 MiB timer log, 420 MB index files) are sparse
    # but reserve far more address space than a test needs.
    # enableMixedMessageType lets 'topic --type MIXED' work; the broker rejects
    # MIXED topics by default. transactionCheckInterval (default 30 s) makes
    # transaction check-backs arrive within seconds. waitTimeMillsInSendQueue
    # (default 200 ms) avoids "broker busy" rejections on a loaded 2-core machine.
    cat >"$STATE_DIR/conf/broker.conf" <<EOF
brokerClusterName=$CLUSTER
brokerName=$BROKER_NAME
brokerId=0
brokerRole=ASYNC_MASTER
flushDiskType=ASYNC_FLUSH
rocketmqHome=$STATE_DIR/home
namesrvAddr=$HOST:$NAMESRV_PORT
brokerIP1=$HOST
brokerIP2=$HOST
bindAddress=$HOST
listenPort=$BROKER_PORT
haListenPort=$HA_PORT
storePathRootDir=$(store_dir)
storePathCommitLog=$(store_dir)/commitlog
mappedFileSizeCommitLog=67108864
mappedFileSizeConsumeQueue=1200000
mappedFileSizeTimerLog=16777216
maxHashSlotNum=5000
maxIndexNum=20000
autoCreateTopicEnable=true
autoCreateSubscriptionGroup=true
enableMixedMessageType=true
transactionCheckInterval=1000
waitTimeMillsInSendQueue=1000
EOF

    if [[ "$mode" == proxy ]]; then
        cat >"$STATE_DIR/conf/rmq-proxy.json" <<EOF
{
  "rocketMQClusterName": "$CLUSTER",
  "proxyMode": "local",
  "namesrvAddr": "$HOST:$NAMESRV_PORT",
  "localServeAddr": "$HOST",
  "grpcServerPort": $PROXY_GRPC_PORT,
  "remotingListenPort": $PROXY_REMOTING_PORT,
  "enableTopicMessageTypeCheck": true
}
EOF
    fi
}

write_env_file() {
    local mode="$1"
    # Remoting clients use the NameServer in both modes. In local mode the 5.3.3
    # proxy returns its gRPC port in the routes it serves on its remoting port, so a
    # remoting client pointed at the proxy times out.
    local proxy_endpoint=""
    if [[ "$mode" == proxy ]]; then
        proxy_endpoint="$HOST:$PROXY_GRPC_PORT"
    fi
    {
        printf 'export MQSEAL_RMQ_DIR=%q\n' "$STATE_DIR"
        printf 'export MQSEAL_RMQ_MODE=%q\n' "$mode"
        printf 'export MQSEAL_RMQ_NAMESRV_ADDR=%q\n' "$HOST:$NAMESRV_PORT"
        printf 'export MQSEAL_RMQ_BROKER_ADDR=%q\n' "$HOST:$BROKER_PORT"
        printf 'export MQSEAL_RMQ_PROXY_ENDPOINT=%q\n' "$proxy_endpoint"
        printf 'export MQSEAL_RMQ_STORE_DIR=%q\n' "$(store_dir)"
        printf 'export MQSEAL_RMQ_LOG_DIR=%q\n' "$(log_dir)"
        printf 'export MQSEAL_RMQ_CLASSPATH_FILE=%q\n' "$STATE_DIR/classpath.txt"
    } >"$STATE_DIR/env.sh"
}

# Starts one server JVM in the background and records its PID.
# Arguments: role, logback resource, heap options (one word), main class, program args.
launch() {
    local role="$1" logback="$2" heap="$3" main_class="$4"
    shift 4
    local cp
    cp="$(classpath)"
    local -a heap_opts
    read -r -a heap_opts <<<"$heap"
    local -a extra_opts=()
    if [[ -n "${MQSEAL_RMQ_JAVA_OPTS:-}" ]]; then
        read -r -a extra_opts <<<"$MQSEAL_RMQ_JAVA_OPTS"
    fi

    # The logback resource names the rocketmq-logback config bundled in the jars.
    # Its files go to ${user.home}/logs/rocketmqlogs, so user.home is the state dir.
    nohup "$JAVA" "${heap_opts[@]}" -XX:+UseSerialGC \
        -XX:ErrorFile="$(log_dir)/hs_err_${role}_%p.log" \
        "${JDK_OPENS[@]}" \
        -Duser.home="$STATE_DIR" \
        -Drocketmq.home.dir="$STATE_DIR/home" \
        -Drmq.logback.configurationFile="$logback" \
        "$(marker)" \
        "${extra_opts[@]}" \
        -cp "$cp" "$main_class" "$@" \
        </dev/null >"$(log_dir)/$role.out" 2>&1 &
    echo $! >"$(pid_file "$role")"
}

# Prints the end of each server log, without the logback INFO/WARN status lines
# that fill the start of every .out file.
print_log_tails() {
    local file
    for file in "$(log_dir)"/*.out "$(log_dir)"/rocketmqlogs/{namesrv,broker,proxy}.log; do
        [[ -f "$file" ]] || continue
        echo "----- last 40 lines of $file -----" >&2
        grep -v -e ' |-INFO in ' -e ' |-WARN in ' "$file" | tail -n 40 >&2 || true
    done
}

# Succeeds when PID is ours, or is alive but has not yet replaced the forked shell with
# java (its command line does not carry the marker until exec); waits up to 10 s for
# that exec, because on a loaded machine it can take longer than the first check.
started_or_starting() {
    local pid="$1" tries=0
    until is_ours "$pid"; do
        [[ "$pid" =~ ^[0-9]+$ && -e "/proc/$pid" ]] || return 1
        tries=$((tries + 1))
        [[ "$tries" -le 50 ]] || return 1
        sleep 0.2
    done
}

# Fails fast when a started JVM has exited.
check_alive() {
    local role pid
    for role in "$@"; do
        pid="$(recorded_pid "$role" || true)"
        if ! started_or_starting "$pid"; then
            print_log_tails
            stop_all >&2
            die "$role (pid $pid) exited during startup. Its output is in $(log_dir)/$role.out."
        fi
    done
}

# Waits until the broker (or proxy) reports a successful boot and the NameServer
# lists the broker, or fails after START_TIMEOUT seconds.
wait_ready() {
    local mode="$1"
    local server_role=broker boot_line="boot success"
    if [[ "$mode" == proxy ]]; then
        server_role=proxy
        boot_line="rocketmq-proxy startup successfully"
    fi
    local deadline=$((SECONDS + START_TIMEOUT))

    # The broker registers with the NameServer before it prints its boot line, so
    # the first clusterList below normally succeeds. Each clusterList costs 4 to 7 s
    # because the admin client waits up to 3 s per service thread on exit.
    until grep -qF "$boot_line" "$(log_dir)/$server_role.out" 2>/dev/null; do
        check_alive namesrv "$server_role"
        ((SECONDS < deadline)) || fail_start "$server_role did not print '$boot_line'"
        sleep 0.5
    done

    local port
    local -a ports=("$NAMESRV_PORT" "$BROKER_PORT")
    [[ "$mode" == proxy ]] && ports+=("$PROXY_GRPC_PORT" "$PROXY_REMOTING_PORT")
    for port in "${ports[@]}"; do
        port_open "$port" || fail_start "port $port is not accepting connections"
    done

    local listing
    while true; do
        check_alive namesrv "$server_role"
        listing="$(run_admin clusterList -n "$HOST:$NAMESRV_PORT" || true)"
        if grep -qF "$HOST:$BROKER_PORT" <<<"$listing"; then
            return
        fi
        ((SECONDS < deadline)) || fail_start "broker did not register with the NameServer"
        sleep 1
    done
}

fail_start() {
    print_log_tails
    stop_all >&2
    die "startup failed because the $1 (start timeout ${START_TIMEOUT}s). Logs are in $(log_dir)."
}

cmd_start() {
    local mode=broker
    while (($#)); do
        case "$1" in
            --proxy) mode=proxy ;;
            *) die "start: unknown option '$1' (expected --proxy)" ;;
        esac
        shift
    done

    command -v "$JAVA" >/dev/null || die "java not found. Install JDK 17 or set JAVA_HOME."
    mkdir -p "$STATE_DIR"

    local role
    for role in namesrv broker proxy; do
        if is_ours "$(recorded_pid "$role" || true)"; then
            die "$role from an earlier start is still running in $STATE_DIR. Run 'rmq.sh stop' first."
        fi
    done

    local port
    local -a ports=("$NAMESRV_PORT" "$BROKER_PORT" "$((BROKER_PORT - 2))" "$HA_PORT")
    [[ "$mode" == proxy ]] && ports+=("$PROXY_GRPC_PORT" "$PROXY_REMOTING_PORT")
    for port in "${ports[@]}"; do
        if port_open "$port"; then
            die "port $port on $HOST is already in use. Stop its owner or choose other MQSEAL_RMQ_*_PORT values."
        fi
    done

    # A fresh start: remove what an earlier run left, but keep the classpath cache.
    rm -rf -- "${STATE_DIR:?}/conf" "${STATE_DIR:?}/home" "${STATE_DIR:?}/namesrv" \
        "$(store_dir)" "$(log_dir)" "$STATE_DIR/env.sh" "$STATE_DIR"/*.pid
    resolve_classpath >/dev/null
    write_configs "$mode"

    local started=$SECONDS
    launch namesrv rmq.namesrv.logback.xml "-Xms64m -Xmx128m -XX:MaxDirectMemorySize=64m" \
        org.apache.rocketmq.namesrv.NamesrvStartup -c "$STATE_DIR/conf/namesrv.conf"

    local server_heap="-Xms128m -Xmx384m -XX:MaxDirectMemorySize=256m"
    if [[ "$mode" == proxy ]]; then
        launch proxy rmq.proxy.logback.xml "$server_heap" \
            org.apache.rocketmq.proxy.ProxyStartup -pm local \
            -pc "$STATE_DIR/conf/rmq-proxy.json" -bc "$STATE_DIR/conf/broker.conf" \
            -n "$HOST:$NAMESRV_PORT"
    else
        launch broker rmq.broker.logback.xml "$server_heap" \
            org.apache.rocketmq.broker.BrokerStartup -c "$STATE_DIR/conf/broker.conf" \
            -n "$HOST:$NAMESRV_PORT"
    fi

    write_env_file "$mode"
    wait_ready "$mode"
    log "RocketMQ ($mode mode) ready in $((SECONDS - started))s; state in $STATE_DIR"
}

# Sends SIGTERM to ROLE's recorded JVM, waits STOP_TIMEOUT seconds, then sends SIGKILL.
stop_role() {
    local role="$1" pid
    pid="$(recorded_pid "$role" || true)"
    if [[ -z "$pid" ]]; then
        return
    fi
    if ! is_ours "$pid"; then
        rm -f -- "$(pid_file "$role")"
        return
    fi

    log "stopping $role (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while is_ours "$pid" && ((SECONDS < deadline)); do
        sleep 0.5
    done
    if is_ours "$pid"; then
        log "$role (pid $pid) still running after ${STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while is_ours "$pid"; do
            sleep 0.2
        done
    fi
    rm -f -- "$(pid_file "$role")"
}

# Stops the broker first so that it can unregister from the running NameServer.
stop_all() {
    stop_role proxy
    stop_role broker
    stop_role namesrv
}

cmd_stop() {
    [[ -d "$STATE_DIR" ]] || return 0
    stop_all
}

cmd_status() {
    local role pid running=0
    for role in namesrv broker proxy; do
        pid="$(recorded_pid "$role" || true)"
        if is_ours "$pid"; then
            echo "$role running, pid $pid"
            running=1
        fi
    done
    if [[ "$running" == 0 ]]; then
        echo "not running ($STATE_DIR)"
        return 1
    fi
}

require_started() {
    [[ -f "$STATE_DIR/env.sh" ]] || die "no RocketMQ started in $STATE_DIR. Run 'rmq.sh start' first."
    # shellcheck source=/dev/null
    source "$STATE_DIR/env.sh"
}

cmd_topic() {
    local type=NORMAL
    local -a names=()
    while (($#)); do
        case "$1" in
            --type)
                (($# >= 2)) || die "topic: --type needs a value"
                type="${2^^}"
                shift
                ;;
            --type=*)
                type="${1#--type=}"
                type="${type^^}"
                ;;
            -*) die "topic: unknown option '$1'" ;;
            *) names+=("$1") ;;
        esac
        shift
    done
    case "$type" in
        NORMAL | FIFO | DELAY | TRANSACTION | MIXED) ;;
        *) die "topic: invalid --type '$type' (expected NORMAL, FIFO, DELAY, TRANSACTION or MIXED)" ;;
    esac
    ((${#names[@]})) || die "topic: missing topic name"
    require_started

    # The proxy rejects a message whose type differs from the topic's message.type
    # attribute (enableTopicMessageTypeCheck, on by default), so every topic gets one.
    # FIFO topics also get the NameServer order configuration (-o true), from which
    # remoting producers build the topic's queue list.
    local -a args=(-a "+message.type=$type")
    [[ "$type" == FIFO ]] && args+=(-o true)

    create_topic() {
        run_admin updateTopic -n "$MQSEAL_RMQ_NAMESRV_ADDR" -c "$CLUSTER" -t "$1" "${args[@]}"
    }
    local output_dir
    output_dir="$(mktemp -d "$STATE_DIR/topic.XXXXXX")"
    run_parallel "$output_dir" create_topic "${names[@]}"

    local index failed=0
    for index in "${!names[@]}"; do
        if grep -qF "create topic to $MQSEAL_RMQ_BROKER_ADDR success" "$output_dir/$index"; then
            log "created topic ${names[$index]} (type $type)"
        else
            cat "$output_dir/$index" >&2
            log "failed to create topic '${names[$index]}' (type $type)"
            failed=1
        fi
    done
    rm -rf -- "$output_dir"
    [[ "$failed" == 0 ]] || die "topic creation failed. The mqadmin output is above."
}

cmd_group() {
    local fifo=false retry_max=""
    local -a names=()
    while (($#)); do
        case "$1" in
            --fifo) fifo=true ;;
            --retry-max)
                (($# >= 2)) || die "group: --retry-max needs a value"
                retry_max="$2"
                shift
                ;;
            -*) die "group: unknown option '$1'" ;;
            *) names+=("$1") ;;
        esac
        shift
    done
    if [[ -n "$retry_max" && ! "$retry_max" =~ ^[0-9]+$ ]]; then
        die "group: --retry-max must be a non-negative integer, got '$retry_max'"
    fi
    ((${#names[@]})) || die "group: missing group name"
    require_started

    # consumeMessageOrderly makes the proxy send FIFO subscription settings to gRPC
    # consumers.
    local -a args=(-o "$fifo")
    [[ -n "$retry_max" ]] && args+=(-r "$retry_max")

    create_group() {
        run_admin updateSubGroup -n "$MQSEAL_RMQ_NAMESRV_ADDR" -c "$CLUSTER" -g "$1" "${args[@]}"
    }
    local output_dir
    output_dir="$(mktemp -d "$STATE_DIR/group.XXXXXX")"
    run_parallel "$output_dir" create_group "${names[@]}"

    local index failed=0
    for index in "${!names[@]}"; do
        if grep -qF "create subscription group to $MQSEAL_RMQ_BROKER_ADDR success" "$output_dir/$index"; then
            log "created consumer group ${names[$index]} (fifo=$fifo${retry_max:+, retryMaxTimes=$retry_max})"
        else
            cat "$output_dir/$index" >&2
            log "failed to create consumer group '${names[$index]}'"
            failed=1
        fi
    done
    rm -rf -- "$output_dir"
    [[ "$failed" == 0 ]] || die "consumer group creation failed. The mqadmin output is above."
}

usage() {
    cat <<'EOF'
Usage: rmq.sh COMMAND [ARGS]

  start [--proxy]       start NameServer + Broker, or NameServer + Proxy (local mode)
                        with --proxy; waits until the broker is registered
  stop                  stop the JVMs this state directory started
  status                list running JVMs; exits 1 when none runs
  topic [--type TYPE] NAME...
                        create topics; TYPE is NORMAL (default), FIFO, DELAY,
                        TRANSACTION or MIXED (accepts every type through the proxy)
  group [--fifo] [--retry-max N] NAME...
                        create consumer groups; --fifo sets consumeMessageOrderly,
                        --retry-max sets the deliveries before the DLQ
  admin SUBCOMMAND [ARGS...]
                        run any mqadmin subcommand with the harness classpath
  env                   print export lines for the running harness
  store-dir             print the broker store directory
  log-dir               print the log directory

State directory: $MQSEAL_RMQ_DIR, default ${TMPDIR:-/tmp}/mqseal-rmq.
EOF
}

main() {
    local command="${1:-}"
    (($#)) && shift
    check_state_dir
    case "$command" in
        start) cmd_start "$@" ;;
        stop) cmd_stop ;;
        status) cmd_status ;;
        topic) cmd_topic "$@" ;;
        group) cmd_group "$@" ;;
        admin)
            mkdir -p "$STATE_DIR"
            run_admin "$@"
            ;;
        env)
            require_started
            cat "$STATE_DIR/env.sh"
            ;;
        store-dir) store_dir ;;
        log-dir) log_dir ;;
        -h | --help | help) usage ;;
        "") usage >&2; exit 2 ;;
        *) usage >&2; die "unknown command '$command'" ;;
    esac
}

main "$@"
