#!/usr/bin/env bash
# Builds (if needed) and runs the gateway on embedded Jetty 12.1 with the default config:
# http://localhost:8086/ , the built-in sandbox SIP server on 127.0.0.1:5080 (demo/dev only).
# Pass a config file with GATEWAY_CONFIG=/path/gateway.conf; extra args go to java.
set -euo pipefail
cd "$(dirname "$0")/.."
jar=target/webrtc-gateway-standalone.jar
if [ ! -f "$jar" ] || [ -n "$(find src pom.xml -newer "$jar" -print -quit)" ]; then
  mvn -B -q package -DskipTests
fi
# AutoBoxCacheMax: the JDK selector boxes ready file descriptors; a larger cache keeps the media path allocation-free.
exec java -XX:AutoBoxCacheMax=65536 "$@" -jar "$jar"
