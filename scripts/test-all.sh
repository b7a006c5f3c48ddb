#!/usr/bin/env bash
# Runs every test: unit tests, then integration tests against real peers (SIPp, Kamailio, Chromium,
# a standalone Jetty 12.1). Installs the peers first when missing (idempotent; needs root for apt).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-peers.sh
exec mvn -B verify "$@"
