#!/usr/bin/env bash
# Builds (if needed) and runs the gateway on embedded Jetty 12.1 with the default config:
# http://localhost:8086/ , the built-in sandbox SIP server on 127.0.0.1:5080 (demo/dev only).
# Pass a config file with GATEWAY_CONFIG=/path/gateway.conf; extra args go to java. GATEWAY_JAR=/path/x.jar
# runs that jar and builds nothing.
#
#   ./scripts/run.sh --https        (or GATEWAY_HTTPS=1 ./scripts/run.sh)
# also serves HTTPS on port 8443 (GATEWAY_HTTPS_PORT) with a self-signed certificate for this machine's
# names and addresses (localhost, 127.0.0.1, `hostname`, `hostname -f`, `hostname -I`), so that a browser on
# another machine may use the microphone: open https://<this machine>:8443/demo/ and accept the certificate
# warning once. The certificate is made with the JDK's keytool, once, in ~/.cache/webrtc-gateway/https/
# ($XDG_CACHE_HOME), and made again when the names change or it is 11 months old. Those names are added to
# gateway.http.allowed-hosts; GATEWAY_CONFIG, if set, is read too (its keys win, its allowed-hosts are kept).
# The plain http://...:8086/ stays. With a certificate of your own, set gateway.http.tls.* in your config
# instead (docs/configuration.md, "HTTPS").
set -euo pipefail
cd "$(dirname "$0")/.."

https="${GATEWAY_HTTPS:-0}"
if [ "${1:-}" = "--https" ]; then
  https=1
  shift
fi

jar="${GATEWAY_JAR:-}"
if [ -z "$jar" ]; then
  jar=target/webrtc-gateway-standalone.jar
  if [ ! -f "$jar" ] || [ -n "$(find src pom.xml -newer "$jar" -print -quit)" ]; then
    mvn -B -q package -DskipTests
  fi
fi

if [ "$https" = 1 ]; then
  dir="${XDG_CACHE_HOME:-$HOME/.cache}/webrtc-gateway/https"
  mkdir -p "$dir"
  chmod 700 "$dir"
  # This machine's names and addresses, each once; link-local IPv6 (fe80::, needs a zone) left out.
  names=()
  for n in localhost "$(hostname 2>/dev/null || true)" "$(hostname -f 2>/dev/null || true)"; do
    if [[ "$n" =~ ^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$ ]] && [[ ! " ${names[*]} " =~ " ${n,,} " ]]; then
      names+=("${n,,}")
    fi
  done
  addresses=(127.0.0.1 ::1)
  for a in $(hostname -I 2>/dev/null || true); do
    if [[ "$a" != fe80:* ]] && [[ ! " ${addresses[*]} " =~ " $a " ]]; then
      addresses+=("$a")
    fi
  done
  san=$( (printf 'dns:%s\n' "${names[@]}"; printf 'ip:%s\n' "${addresses[@]}") | paste -sd, -)
  keystore="$dir/demo.p12"
  if [ ! -f "$keystore" ] || [ ! -f "$dir/password" ] || [ "$(cat "$dir/san" 2>/dev/null)" != "$san" ] \
      || [ -n "$(find "$keystore" -mtime +335 -print)" ]; then
    echo "run.sh: making a self-signed certificate for $san in $keystore" >&2
    (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' '-_' > "$dir/password")
    rm -f "$keystore.tmp"
    keytool -genkeypair -alias gateway -keyalg EC -groupname secp256r1 -sigalg SHA256withECDSA -validity 365 \
      -dname "CN=${names[1]:-localhost}, O=WebRTC Gateway demo (self-signed)" -ext "SAN=$san" -ext EKU=serverAuth \
      -keystore "$keystore.tmp" -storetype PKCS12 -storepass:file "$dir/password" -keypass:file "$dir/password" \
      >/dev/null
    mv "$keystore.tmp" "$keystore"
    echo "$san" > "$dir/san"
  fi
  # A config of its own: the HTTPS keys, then the user's file (whose keys win), then this machine's names
  # appended to whatever allowed-hosts that file has (IP addresses and localhost are always allowed).
  conf="$dir/gateway-https.conf"
  (
    umask 077
    echo "# Written by scripts/run.sh --https at every start."
    echo "gateway.http.tls { port = ${GATEWAY_HTTPS_PORT:-8443}, keystore = \"$keystore\", keystore-password = \"$(cat "$dir/password")\" }"
    if [ -n "${GATEWAY_CONFIG:-}" ]; then
      echo "include file(\"$(realpath "$GATEWAY_CONFIG")\")"
    fi
    hosts=$(printf '"%s", ' "${names[@]}")
    echo "gateway.http.allowed-hosts = \${?gateway.http.allowed-hosts} [${hosts%, }]"
  ) > "$conf"
  export GATEWAY_CONFIG="$conf"
  shown=$(printf '%s\n' "${addresses[@]}" | grep -v -e '^127\.' -e '^::1$' | head -1 || true)
  [[ "$shown" == *:* ]] && shown="[$shown]"
  echo "run.sh: HTTPS demo at https://${shown:-localhost}:${GATEWAY_HTTPS_PORT:-8443}/demo/ (self-signed: accept the warning once)" >&2
fi

# AutoBoxCacheMax: the JDK selector boxes ready file descriptors; a larger cache keeps the media path allocation-free.
exec java -XX:AutoBoxCacheMax=65536 "$@" -jar "$jar"
