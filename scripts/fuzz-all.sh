#!/usr/bin/env bash
# Fuzzes every *FuzzTest target, one at a time (Jazzer fuzzes one target per JVM), each for the inputs in
# FuzzBudget (1,000,000), and prints one line of figures per target from libFuzzer's last status line.
# Usage: scripts/fuzz-all.sh [Target ...]   (default: every *FuzzTest class). Logs: target/fuzz-logs/.
# Not part of the test command; see docs/testing.md, "Fuzzing".
set -uo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(find src/test/java -name '*FuzzTest.java' -printf '%f\n' | sed 's/\.java$//' | sort)
fi
mkdir -p target/fuzz-logs
mvn -B -q test-compile
status=0
for t in "${targets[@]}"; do
  log=target/fuzz-logs/$t.log
  start=$(date +%s)
  # The third-party parsers these targets feed are instrumented too, so the fuzzer learns their grammar.
  case $t in
    SipRequestFuzzTest) instrument='io.webrtcgateway.**,gov.nist.javax.sip.parser.**,gov.nist.javax.sip.header.**,gov.nist.javax.sip.message.**,gov.nist.core.**' ;;
    StunMessageFuzzTest) instrument='io.webrtcgateway.**,org.ice4j.message.**,org.ice4j.attribute.**' ;;
    *) instrument='io.webrtcgateway.**' ;;
  esac
  nice -n 15 mvn -B -o test -Pfuzz -Dtest="$t" -Dfuzz.instrument="$instrument" >"$log" 2>&1
  rc=$?
  end=$(date +%s)
  [ $rc -eq 0 ] || status=1
  last=$(grep -aE '^#[0-9]+' "$log" | tail -1)
  echo "$t rc=$rc wall=$((end - start))s ${last}"
done
exit $status
