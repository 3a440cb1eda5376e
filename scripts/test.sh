#!/usr/bin/env bash
# Sets up everything (first run only) and runs every test: formatting, clippy for the server
# (ssr) and browser (hydrate) builds, unit and integration tests on SQLite, Postgres and Redis,
# a minute of fuzzing for each fuzz target, the OpenAPI document through a validator, and the Playwright suite against the release build
# in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

say() { printf '\n\033[1;32m==>\033[0m %s\n' "$*"; }

# Each test creates (and drops) its own database on this server, named with this run's prefix,
# and its own Redis key prefix.
if [[ -z "${ARBOR_TEST_POSTGRES_URL:-}" ]]; then
  for url in postgres://postgres@127.0.0.1:5432/postgres postgres://postgres:postgres@127.0.0.1:5432/postgres; do
    if psql "$url" -qAtc 'SELECT 1' >/dev/null 2>&1; then ARBOR_TEST_POSTGRES_URL=$url; break; fi
  done
fi
[[ -n "${ARBOR_TEST_POSTGRES_URL:-}" ]] || { echo "Postgres on 127.0.0.1:5432 is not reachable" >&2; exit 1; }
export ARBOR_TEST_POSTGRES_URL
export ARBOR_TEST_REDIS_URL="${ARBOR_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
export ARBOR_TEST_DB_PREFIX="arbor_test_$$_"
e2e_dir=$(mktemp -d)

cleanup() {
  rm -rf "$e2e_dir"
  psql "$ARBOR_TEST_POSTGRES_URL" -qAtc \
    "SELECT datname FROM pg_database WHERE datname LIKE '${ARBOR_TEST_DB_PREFIX//_/\\_}%'" 2>/dev/null |
    while read -r db; do psql "$ARBOR_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"; done
}
trap cleanup EXIT

say "cargo fmt --check"
cargo fmt --all --check

say "crate boundaries (cargo tree)"
scripts/check-boundaries.sh

say "clippy (server: ssr)"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "clippy (browser: hydrate, wasm32)"
cargo clippy -p arbor-app -p arbor-frontend -p arbor-editor -p arbor-map -p arbor-types \
  --features arbor-app/hydrate,arbor-frontend/hydrate \
  --target wasm32-unknown-unknown --locked -- -D warnings

say "unit and integration tests (SQLite, Postgres, Redis)"
cargo test --workspace --locked

say "fuzzing: the collab message pipeline and the importers, 60 s each"
# On top of the corpora `cargo test` just replayed: new inputs go to a scratch corpus (the
# clone's corpus is read, never written) and crashes to a scratch folder, named in the output;
# a crash fails the run. Stable toolchain: RUSTC_BOOTSTRAP=1 lets it take cargo-fuzz's -Z
# sanitizer flags. The fuzz crates are outside the workspace, with their own target dir.
fuzz_dir=$(mktemp -d)
for target in collab/fuzz:message_pipeline outline/fuzz:importers; do
  crate=${target%%:*} name=${target##*:}
  mkdir -p "$fuzz_dir/$name/corpus" "$fuzz_dir/$name/crashes"
  (cd "$crate" && RUSTC_BOOTSTRAP=1 cargo fuzz run "$name" \
    --target-dir "${CARGO_TARGET_DIR:-$PWD/target}/fuzz" \
    "$fuzz_dir/$name/corpus" "corpus/$name" -- \
    -max_total_time=60 -max_len=65536 -artifact_prefix="$fuzz_dir/$name/crashes/") ||
    { echo "the fuzzer found a crash in $name: $(ls "$fuzz_dir/$name/crashes")" >&2; exit 1; }
done
rm -rf "$fuzz_dir"

say "OpenAPI document validity (openapi-spec-validator)"
# The binary `cargo test` just built (workspace features): `cargo run -p arbor` would rebuild.
"${CARGO_TARGET_DIR:-target}/debug/arbor" openapi > "$e2e_dir/openapi.json"
"${ARBOR_TEST_VENV:-/var/tmp/arbor-test-venv}/bin/python" -m openapi_spec_validator "$e2e_dir/openapi.json"

say "Playwright end-to-end tests (release build, Chromium)"
# Its own port and database, so a running scripts/run.sh (port 3000) is not disturbed.
export DATABASE_URL="sqlite://$e2e_dir/arbor.db"
export ARBOR_ADDR=127.0.0.1:3100
export ARBOR_E2E_BASE_URL="http://$ARBOR_ADDR"
export ARBOR_SIGNUP_MAX_PER_CLIENT=1000
scripts/build-editor.sh
cargo leptos end-to-end --release --precompress

say "bad-input sweep of the API (schemathesis against the release server)"
scripts/api-sweep.sh 60
