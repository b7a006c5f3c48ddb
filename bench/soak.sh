#!/usr/bin/env bash
# Soak (issue 13 item 9, docs/performance.md "Soak"): SoakBench, the standalone gateway at 80 % of this machine's
# capacity for an hour, calls and sessions coming and going, with a background of bad input; one line a minute,
# a verdict at the end (the build fails when threads, heap, open files or UDP sockets grow, something is left over
# once the calls ended, or a bad input did not get its documented answer).
#
#   bench/soak.sh                                                  60 minutes, 320 calls (80 % of 400)
#   bench/soak.sh -Dbench.soak.minutes=3 -Dbench.soak.calls=40     a short check of the harness
#   bench/soak.sh -Dbench.soak.capacity=600                        80 % of another machine's capacity
#
# Runs in a private network namespace with its own loopback (unshare --net; root, or sudo without a password):
# the gateway's RTP range (12 ports per call) and the phones' sockets cannot collide with other jobs' ports.
# SOAK_NETNS=0 runs it on the machine's loopback instead. Needs sipp (scripts/install-test-peers.sh) and
# target/webrtc-gateway-standalone.jar (mvn -B -o package -DskipTests). Output: stdout, target/bench/soak.md and
# target/bench/soak.csv; the gateway's log under target/it-logs, its GC log in target/bench.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${SOAK_NETNS:-1}" = 1 ] && [ "${SOAK_IN_NETNS:-}" != 1 ]; then
    command -v sipp >/dev/null || { echo "bench/soak.sh: sipp missing: run scripts/install-test-peers.sh" >&2; exit 2; }
    if [ "$(id -u)" -ne 0 ]; then
        exec sudo -n env SOAK_IN_NETNS= "$0" "$@"
    fi
    exec unshare --net env SOAK_IN_NETNS=1 "$0" "$@"
fi
if [ "${SOAK_IN_NETNS:-}" = 1 ]; then
    ip link set lo up
fi
# 320 calls hold about 1,500 descriptors in the gateway and 1,000 in the load client.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true

# Offline: the namespace has no route anywhere.
exec mvn -B -o -Pbench test-compile failsafe:integration-test failsafe:verify \
    -Dit.test=SoakBench -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false "$@"
