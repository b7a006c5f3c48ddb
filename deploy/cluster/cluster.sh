#!/usr/bin/env bash
# Starts N+M WebRTC Gateway instances on this machine behind HAProxy, all on loopback, and stops them.
# For trying failover, drain and sizing by hand (docs/deployment.md); production runs one instance per host.
#
#   deploy/cluster/cluster.sh start N M [options]   N instances for the load plus M spares (N+M started)
#   deploy/cluster/cluster.sh status [--run-dir DIR]
#   deploy/cluster/cluster.sh stop [--run-dir DIR]  SIGTERM every gateway (they un-REGISTER), then HAProxy
#
# Options of start:
#   --sip-server HOST:PORT[;transport=tcp]  SIP Server for every instance (repeat for a backup). Default:
#                     each instance runs its own sandbox SIP server (demo only: the instances then do not
#                     share a registrar, so calls cannot follow a DN that moved).
#   --lb-port P       HAProxy listens on 127.0.0.1:P (default 8086)
#   --base-port B     instance i (1..N+M) uses HTTP B+i, SIP B+100+i, sandbox B+200+i (default 18000)
#   --rtp-base R      instance i uses the UDP media ports R+S*(i-1) .. R+S*i-1 (default 30000)
#   --rtp-span S      media ports per instance (default 1000)
#   --run-dir DIR     configs, logs and pid files (default target/cluster)
#   --jar FILE        the standalone jar (default target/webrtc-gateway-standalone.jar)
#   --set KEY=VALUE   an extra gateway config line for every instance (HOCON), e.g. --set gateway.limits.max-sessions=500
#                     (tokens are off, gateway.auth.mode = none, unless set here: e.g. --set gateway.auth.mode=token
#                     --set 'gateway.auth.token.hmac-secrets=["<32+ bytes>"]')
#
# Instance i is "gw<i>" (gateway.instance-id, HAProxy server name and cookie value). Needs java (17+),
# haproxy and curl. Nothing listens outside 127.0.0.1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
die() { echo "cluster.sh: $*" >&2; exit 1; }

cmd=${1:-}; [ -n "$cmd" ] || usage; shift
run_dir=$project/target/cluster
lb_port=8086
base_port=18000
rtp_base=30000
rtp_span=1000
jar=$project/target/webrtc-gateway-standalone.jar
sip_servers=()
extra=()
n=""; m=""
if [ "$cmd" = start ]; then
    [ $# -ge 2 ] || usage
    n=$1; m=$2; shift 2
    [[ "$n" =~ ^[0-9]+$ && "$m" =~ ^[0-9]+$ && $((n + m)) -ge 1 && $((n + m)) -le 50 ]] \
        || die "N and M must be numbers with 1 <= N+M <= 50"
fi
while [ $# -gt 0 ]; do
    case "$1" in
        --sip-server) sip_servers+=("$2"); shift 2 ;;
        --lb-port) lb_port=$2; shift 2 ;;
        --base-port) base_port=$2; shift 2 ;;
        --rtp-base) rtp_base=$2; shift 2 ;;
        --rtp-span) rtp_span=$2; shift 2 ;;
        --run-dir) run_dir=$2; shift 2 ;;
        --jar) jar=$2; shift 2 ;;
        --set) extra+=("$2"); shift 2 ;;
        *) usage ;;
    esac
done

# Whole seconds / milliseconds since an $EPOCHREALTIME value.
elapsed() { awk -v now="$EPOCHREALTIME" -v then="$1" 'BEGIN { printf "%d", now - then }'; }
elapsed_ms() { awk -v now="$EPOCHREALTIME" -v then="$1" 'BEGIN { printf "%d", (now - then) * 1000 }'; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Waits until $1 is gone (SIGTERM sent), then SIGKILL after $2 seconds.
stop_pid_file() {
    local pid_file=$1 grace=$2 pid
    alive "$pid_file" || { rm -f "$pid_file"; return 0; }
    pid=$(cat "$pid_file")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq $((grace * 10))); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$pid_file"; return 0; }
        sleep 0.1
    done
    echo "cluster.sh: pid $pid did not stop within ${grace}s of SIGTERM: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pid_file"
}

# The shipped HAProxy config with loopback addresses, this run's servers and a private runtime socket.
render_haproxy() {
    local servers=$1
    awk -v bind="    bind 127.0.0.1:$lb_port" -v sock="$run_dir/haproxy.sock" -v servers="$servers" '
        /^[ \t]*bind / && !done_bind { print bind; done_bind = 1; next }
        /^[ \t]*stats socket / { sub(/stats socket [^ ]+/, "stats socket " sock); print; next }
        /^[ \t]*# BEGIN servers/ { print; printf "%s", servers; skip = 1; next }
        /^[ \t]*# END servers/ { skip = 0 }
        !skip { print }
    ' "$project/deploy/haproxy/haproxy.cfg"
}

start() {
    command -v java >/dev/null || die "java not found"
    command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || die "haproxy not installed (apt-get install haproxy)"
    command -v curl >/dev/null || die "curl not found"
    [ -f "$jar" ] || die "$jar not found: run mvn -B package -DskipTests first"
    mkdir -p "$run_dir"
    for f in "$run_dir"/*.pid; do
        [ -e "$f" ] || continue
        alive "$f" && die "already running (see $f): run cluster.sh stop first"
        rm -f "$f"
    done
    local total=$((n + m)) servers="" i
    local started_at=$EPOCHREALTIME
    for i in $(seq 1 "$total"); do
        local id=gw$i http=$((base_port + i)) sip=$((base_port + 100 + i)) sandbox=$((base_port + 200 + i))
        local rtp_low=$((rtp_base + rtp_span * (i - 1)))
        local conf=$run_dir/$id.conf
        {
            echo "# generated by deploy/cluster/cluster.sh"
            echo "gateway.instance-id = \"$id\""
            echo "gateway.http.host = \"127.0.0.1\""
            echo "gateway.http.port = $http"
            echo "gateway.http.trusted-proxies = [\"127.0.0.1\"]  # HAProxy on this host: its X-Forwarded-For names the browser"
            echo "gateway.sip.listen = \"127.0.0.1:$sip\""
            echo "gateway.sip.sandbox.listen = \"127.0.0.1:$sandbox\""
            if [ ${#sip_servers[@]} -gt 0 ]; then
                local list="" s
                for s in "${sip_servers[@]}"; do list+="${list:+, }\"$s\""; done
                echo "gateway.sip.servers = [$list]"
            fi
            echo "gateway.media.rtp-port-range = \"$rtp_low-$((rtp_low + rtp_span - 1))\""
            # Loopback only, for trying things by hand: no browser tokens unless --set gateway.auth.* says so
            # (later lines win).
            echo "gateway.auth.mode = \"none\""
            for kv in "${extra[@]}"; do echo "${kv%%=*} = ${kv#*=}"; done
        } > "$conf"
        GATEWAY_CONFIG=$conf nohup java ${JAVA_OPTS:--Xmx512m} -jar "$jar" > "$run_dir/$id.log" 2>&1 < /dev/null &
        echo $! > "$run_dir/$id.pid"
        servers+="    server $id 127.0.0.1:$http cookie $id"$'\n'
    done
    for i in $(seq 1 "$total"); do
        local id=gw$i http=$((base_port + i))
        until curl -fs -o /dev/null "http://127.0.0.1:$http/health/ready"; do
            alive "$run_dir/$id.pid" || die "$id exited; see $run_dir/$id.log"
            [ "$(elapsed "$started_at")" -lt 90 ] \
                || die "$id not ready after 90 s: $(curl -s "http://127.0.0.1:$http/health/ready")"
            sleep 0.1
        done
        echo "cluster.sh: $id ready on http://127.0.0.1:$http/ $(elapsed_ms "$started_at") ms after the start"
    done
    render_haproxy "$servers" > "$run_dir/haproxy.cfg"
    haproxy -c -q -f "$run_dir/haproxy.cfg" || die "rendered $run_dir/haproxy.cfg is invalid"
    nohup haproxy -db -f "$run_dir/haproxy.cfg" > "$run_dir/haproxy.log" 2>&1 < /dev/null &
    echo $! > "$run_dir/haproxy.pid"
    until curl -fs -o /dev/null "http://127.0.0.1:$lb_port/health/live"; do
        alive "$run_dir/haproxy.pid" || die "haproxy exited; see $run_dir/haproxy.log"
        sleep 0.1
    done
    echo "cluster.sh: $total instances ($n + $m spare) behind HAProxy at http://127.0.0.1:$lb_port/ (run dir $run_dir)"
}

status() {
    local any=0 f
    for f in "$run_dir"/*.pid; do
        [ -e "$f" ] || continue
        any=1
        if alive "$f"; then echo "$(basename "$f" .pid): running (pid $(cat "$f"))"
        else echo "$(basename "$f" .pid): not running"; fi
    done
    [ $any = 1 ] || echo "nothing started from $run_dir"
    if [ -S "$run_dir/haproxy.sock" ] && alive "$run_dir/haproxy.pid" && command -v socat >/dev/null; then
        echo "show servers state gateways" | socat stdio "unix-connect:$run_dir/haproxy.sock"
    fi
}

stop() {
    local f pids=()
    # Gateways first, in parallel: each drains and un-REGISTERs its DNs (gateway.cluster.shutdown-timeout).
    for f in "$run_dir"/gw*.pid; do
        [ -e "$f" ] || continue
        stop_pid_file "$f" 30 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    [ -e "$run_dir/haproxy.pid" ] && stop_pid_file "$run_dir/haproxy.pid" 10
    echo "cluster.sh: stopped (logs in $run_dir)"
}

case "$cmd" in
    start) start ;;
    status) status ;;
    stop) stop ;;
    *) usage ;;
esac
