#!/usr/bin/env bash
# Gateway vs Janus side by side (issue 7, docs/performance.md). Runs GatewayVsJanusBench inside a private
# network namespace: Janus gathers no ICE candidate on loopback, so a veth pair (bench0 10.77.0.1 for both
# gateways' ICE, bench1 10.77.0.2 for the load client) carries the WebRTC side; SIP, RTP echo and signaling
# stay on 127.0.0.1 of the namespace. Nothing in the namespace can reach any other host.
#
#   bench/run.sh                                  all scenarios (slice,setup,incoming,capacity,percall,idle)
#   bench/run.sh -Dbench.scenarios=slice          one call through each
#   bench/run.sh -Dbench.rounds=5 -Dbench.idle.sessions=5000 ...   (see GatewayVsJanusBench)
#
# Needs root (or CAP_SYS_ADMIN + CAP_NET_ADMIN) for unshare -n, the Debian packages sip-tester and janus
# (installed first by scripts/install-test-peers.sh --bench), and target/webrtc-gateway-standalone.jar (mvn -B -o package -DskipTests).
# Output: target/bench/gateway-vs-janus.md and target/bench/gateway-vs-janus-*.csv.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${BENCH_IN_NETNS:-}" != 1 ]; then
    # Outside the namespace: apt may need the network.
    scripts/install-test-peers.sh --bench
    if [ "$(id -u)" -ne 0 ]; then
        exec sudo -n env BENCH_IN_NETNS= "$0" "$@"
    fi
    exec unshare --net env BENCH_IN_NETNS=1 "$0" "$@"
fi

ip link set lo up
ip link add bench0 type veth peer name bench1
ip addr add 10.77.0.1/24 dev bench0
ip addr add 10.77.0.2/24 dev bench1
ip link set bench0 up
ip link set bench1 up
# libnice sends out of the interface its candidate belongs to (bench0), so Janus's packets to the load client
# cross the veth and arrive on bench1 with a source address of this same host: accept them (accept_local;
# rp_filter would call them martians otherwise).
for dev in all default bench0 bench1; do
    sysctl -q -w "net.ipv4.conf.$dev.accept_local=1" "net.ipv4.conf.$dev.rp_filter=0"
done

# Janus's SIP plugin holds about four descriptors per registered session (Sofia socket pair, SIP socket, wake-up
# pipe) plus its WebSocket: 5,000 idle sessions ran out of 20,000 ("Too many open files", then a GLib abort).
# Root may raise the hard limit; everything started below inherits it.
ulimit -Hn 262144 && ulimit -Sn 262144 || echo "bench/run.sh: could not raise the open-files limit ($(ulimit -n))" >&2
# A crashing Janus would leave a core file of tens of GB (its address space) in the working tree.
ulimit -c 0

# Maven offline: the namespace has no route anywhere.
exec mvn -B -o -Pbench test-compile failsafe:integration-test failsafe:verify \
    -Dit.test=GatewayVsJanusBench -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false "$@"
