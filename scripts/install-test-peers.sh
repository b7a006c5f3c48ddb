#!/usr/bin/env bash
# Installs the real peers the integration tests (*IT) drive, and only what is missing:
#   Debian: sip-tester (sipp), chromium, kamailio (+ kamcmd), kamailio-tls-modules (SIP over TLS:
#           SipTlsIT), haproxy, coturn (turnserver), baresip (the desk phone of DeskPhoneCallIT),
#           janus only with --bench (the side-by-side benchmark bench/run.sh; the tests never need it),
#           gcc (webrtc-peer.mjs builds its loopback-only.so shim for Chromium); nodejs/npm when absent
#   npm:    playwright-core into ./node_modules (from package.json / package-lock.json)
# Idempotent and quick when everything is present. Runs unattended (CI=true, no stdin) as root,
# or through passwordless sudo. Never runs `npx playwright install`: tests use /usr/bin/chromium.
#   scripts/install-test-peers.sh [--bench]
set -euo pipefail

packages=(sip-tester chromium kamailio kamailio-tls-modules haproxy coturn baresip gcc nodejs npm)
case "${1:-}" in
    "") ;;
    --bench) packages+=(janus) ;;
    *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."

log() { printf 'install-test-peers: %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        sudo -n "$@"
    fi
}

# Debian package -> a file it installs, checked instead of dpkg's database so that a peer put on the
# PATH some other way counts as present too.
declare -A probe=(
    [sip-tester]=sipp
    [chromium]=chromium
    [kamailio]=kamcmd
    [kamailio-tls-modules]=kamailio-tls.so
    [haproxy]=haproxy
    [coturn]=turnserver
    [baresip]=baresip
    [janus]=janus
    [gcc]=cc
    [nodejs]=node
    [npm]=npm
)

have() {
    if [ "$1" = kamailio-tls.so ]; then
        # a module, not a command: kamailio loads it from its module directory
        compgen -G '/usr/lib/*/kamailio/modules/tls.so' >/dev/null || [ -f /usr/lib/kamailio/modules/tls.so ]
        return
    fi
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

missing=()
for pkg in "${packages[@]}"; do
    have "${probe[$pkg]}" || missing+=("$pkg")
done
# kamcmd alone does not prove the daemon is there.
if have kamcmd && ! have kamailio; then
    missing+=(kamailio)
fi

if [ "${#missing[@]}" -gt 0 ]; then
    log "missing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Only refresh the package lists when they do not know one of the packages (fresh machine).
    need_update=no
    for pkg in "${missing[@]}"; do
        if ! apt-cache show "$pkg" >/dev/null 2>&1; then
            need_update=yes
        fi
    done
    if [ "$need_update" = yes ]; then
        log "apt-get update"
        as_root apt-get update -q </dev/null
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" </dev/null
else
    log "Debian packages present: ${packages[*]}"
fi

# npm: install when node_modules lacks the pinned playwright-core.
wanted=$(node -p 'require("./package.json").devDependencies["playwright-core"]')
installed=$(node -p 'try { require("./node_modules/playwright-core/package.json").version } catch (e) { "" }')
if [ "$installed" = "$wanted" ]; then
    log "playwright-core $installed present"
else
    log "installing playwright-core $wanted (found: ${installed:-none})"
    export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
    if [ -f package-lock.json ]; then
        npm ci --no-audit --no-fund </dev/null
    else
        npm install --no-audit --no-fund </dev/null
    fi
fi
