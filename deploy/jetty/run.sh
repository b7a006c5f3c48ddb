#!/usr/bin/env bash
# Runs the gateway WAR on a standalone Jetty 12.1 distribution, with this directory as the jetty-base.
#
#   deploy/jetty/run.sh [jetty properties...]     e.g.  deploy/jetty/run.sh jetty.http.port=9090
#
# - jetty-home is fetched once through Maven (the same artifact the integration test uses) into
#   ${XDG_CACHE_HOME:-~/.cache}/webrtc-gateway/; set JETTY_HOME to use a distribution you already have.
# - The WAR is target/webrtc-gateway.war (built with `mvn -B package -DskipTests` if missing); set WAR to
#   run another one.
# - The jetty-base is copied to target/jetty-base on every run, so this source directory stays clean.
# - GATEWAY_CONFIG (a HOCON file) is passed through to the gateway; see src/main/resources/reference.conf.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
jetty_version=${JETTY_VERSION:-12.1.12}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/webrtc-gateway
jetty_home=${JETTY_HOME:-$cache/jetty-home-$jetty_version}
war=${WAR:-$repo/target/webrtc-gateway.war}
base=$repo/target/jetty-base

if [[ -z ${JETTY_HOME:-} && ! -f $jetty_home/start.jar ]]; then
  echo "Fetching org.eclipse.jetty:jetty-home:$jetty_version into $cache" >&2
  mkdir -p "$cache"
  # From Maven's local repository or Maven Central (copy, not unpack: unpack leaves "already unpacked"
  # markers in whatever target/ it runs beside). Run outside the project so no pom.xml is involved.
  (cd "$cache" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="org.eclipse.jetty:jetty-home:$jetty_version:tar.gz" -DoutputDirectory="$cache")
  tar -xzf "$cache/jetty-home-$jetty_version.tar.gz" -C "$cache"
  rm -f "$cache/jetty-home-$jetty_version.tar.gz"
fi
[[ -f $jetty_home/start.jar ]] || { echo "no start.jar in $jetty_home" >&2; exit 1; }

if [[ ! -f $war ]]; then
  echo "Building $war" >&2
  mvn -B -q -f "$repo/pom.xml" package -DskipTests
fi

rm -rf "$base"
mkdir -p "$base"
cp -R "$here/." "$base/"
rm -f "$base/run.sh" "$base/README.md"
cp "$war" "$base/webapps/webrtc-gateway.war"
mkdir -p "$base/work"   # Jetty unpacks the WAR here instead of /tmp

cd "$base"
exec java ${JAVA_OPTS:-} -jar "$jetty_home/start.jar" jetty.base="$base" "$@"
