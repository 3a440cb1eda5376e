#!/usr/bin/env bash
# Sets up everything (first run only) and runs every test: formatting, clippy for the server
# (ssr) and browser (hydrate) builds, unit and integration tests on SQLite, Postgres and Redis,
# and the Playwright suite against the release build in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

say() { printf '\n\033[1;32m==>\033[0m %s\n' "$*"; }

# Each test creates (and drops) its own database on this server, and its own Redis key prefix.
export ARBOR_TEST_POSTGRES_URL="${ARBOR_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export ARBOR_TEST_REDIS_URL="${ARBOR_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
psql "$ARBOR_TEST_POSTGRES_URL" -qAtc 'SELECT 1' >/dev/null \
  || { echo "Postgres at $ARBOR_TEST_POSTGRES_URL is not reachable" >&2; exit 1; }

drop_test_databases() {
  psql "$ARBOR_TEST_POSTGRES_URL" -qAtc \
    "SELECT datname FROM pg_database WHERE datname LIKE 'arbor\_test\_%'" 2>/dev/null |
    while read -r db; do psql "$ARBOR_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"; done
}
trap drop_test_databases EXIT

say "cargo fmt --check"
cargo fmt --all --check

say "clippy (server: ssr)"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "clippy (browser: hydrate, wasm32)"
cargo clippy -p arbor-app -p arbor-frontend --features arbor-app/hydrate,arbor-frontend/hydrate \
  --target wasm32-unknown-unknown --locked -- -D warnings

say "unit and integration tests (SQLite, Postgres, Redis)"
cargo test --workspace --locked

say "OpenAPI document validity (openapi-spec-validator)"
openapi=$(mktemp --suffix=.json)
cargo run --quiet --locked -p arbor -- openapi > "$openapi"
"${ARBOR_TEST_VENV:-/var/tmp/arbor-test-venv}/bin/python" -m openapi_spec_validator "$openapi"
rm -f "$openapi"

say "Playwright end-to-end tests (release build, Chromium)"
e2e_dir=$(mktemp -d)
export DATABASE_URL="sqlite://$e2e_dir/arbor.db"
export ARBOR_ADDR=127.0.0.1:3000
cargo leptos end-to-end --release
rm -rf "$e2e_dir"
