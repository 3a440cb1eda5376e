#!/usr/bin/env bash
# Installs what building (and, with --test, testing) Arbor needs, skipping whatever is already
# there, so a second run takes seconds. Safe to run on a fresh Debian machine as root.
#
#   scripts/setup.sh          build tools: wasm32 target, cargo-leptos, wasm-bindgen-cli, npm tools
#   scripts/setup.sh --test   also Chromium, Playwright, cargo-fuzz, PostgreSQL and Redis (started
#                             if stopped)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=false
[[ "${1:-}" == "--test" ]] && want_test=true

CARGO_LEPTOS_VERSION=0.3.10
say() { printf '\033[1;32m==>\033[0m %s\n' "$*"; }

apt_updated=false
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  if ! $apt_updated; then
    say "apt-get update"
    $sudo apt-get update -qq
    apt_updated=true
  fi
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- C toolchain (bundled SQLite, cargo install) ------------------------------------------------
command -v cc >/dev/null || apt_install build-essential pkg-config
# A font for the labels of PNG map exports (drawn on the server with resvg).
apt_install fonts-dejavu-core

# --- Rust toolchain pieces --------------------------------------------------------------------
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  say "cargo install cargo-leptos@$CARGO_LEPTOS_VERSION (about 13 minutes on 2 cores)"
  cargo install "cargo-leptos@$CARGO_LEPTOS_VERSION" --locked
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb_version\$"; then
  say "cargo install wasm-bindgen-cli $wb_version"
  # Not --locked: its lockfile pins a crate version the registry here lacks.
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

# --- Node tools (Tailwind CLI, wasm-opt from binaryen) ----------------------------------------
command -v npm >/dev/null || apt_install nodejs npm
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "Node.js $node_major is too old: the Tailwind CLI needs 20 or newer." >&2
  exit 1
fi
stamp=node_modules/.arbor-lock
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  say "npm install (Tailwind, binaryen)"
  # `npm ci` trips over the optional per-platform packages of Tailwind's oxide in this npm.
  npm install --no-audit --no-fund --no-save --loglevel=error
  cp package-lock.json "$stamp"
fi

$want_test || exit 0

# --- Test-only: browser, Playwright, databases -----------------------------------------------
# Debian's chromium; never Debian's binaryen (its wasm-opt breaks hydration).
apt_install chromium
stamp=end2end/node_modules/.arbor-lock
if [[ ! -f $stamp ]] || ! cmp -s end2end/package-lock.json "$stamp"; then
  say "npm install in end2end/ (Playwright, without its browser download)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --no-save --loglevel=error)
  cp end2end/package-lock.json "$stamp"
fi

stamp=interop/node_modules/.arbor-lock
if [[ ! -f $stamp ]] || ! cmp -s interop/package-lock.json "$stamp"; then
  say "npm ci in interop/ (the stock yjs + y-websocket clients the collaboration tests drive)"
  (cd interop && npm ci --no-audit --no-fund --loglevel=error)
  cp interop/package-lock.json "$stamp"
fi

# cargo-fuzz for scripts/test.sh's bounded fuzz runs (built from crates.io; no nightly needed).
if ! command -v cargo-fuzz >/dev/null; then
  say "cargo install cargo-fuzz --locked (about 2 minutes)"
  cargo install cargo-fuzz --locked
fi

# A Python venv for checking the OpenAPI document with a real validator, and for the
# bad-input sweep of the API (schemathesis, scripts/api-sweep.sh).
venv=${ARBOR_TEST_VENV:-/var/tmp/arbor-test-venv}
if ! "$venv/bin/python" -c 'import openapi_spec_validator' 2>/dev/null \
  || [[ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != *" 4.32.5" ]]; then
  command -v python3 >/dev/null || apt_install python3 python3-venv
  say "python venv with openapi-spec-validator and schemathesis ($venv)"
  [[ -x "$venv/bin/pip" ]] || python3 -m venv "$venv" || { apt_install python3-venv && python3 -m venv "$venv"; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "openapi-spec-validator==0.9.0" "schemathesis==4.32.5"
fi
command -v curl >/dev/null || apt_install curl

if ! command -v pg_isready >/dev/null || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  apt_install postgresql
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
# Debian's default asks for a password over TCP; give the throwaway test role a known one
# unless the server already trusts local connections (scripts/test.sh tries both).
if ! psql postgres://postgres@127.0.0.1:5432/postgres -qAtc 'SELECT 1' >/dev/null 2>&1 \
  && ! psql postgres://postgres:postgres@127.0.0.1:5432/postgres -qAtc 'SELECT 1' >/dev/null 2>&1; then
  say "setting a password for the postgres role (tests connect over TCP)"
  runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD 'postgres'"
fi

command -v redis-server >/dev/null || apt_install redis-server
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
