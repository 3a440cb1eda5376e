#!/usr/bin/env bash
# Sets up the build tools (first run only) and serves Arbor on http://127.0.0.1:3000 with SQLite
# at data/arbor.db (created on first run), with the demo subject loaded (set ARBOR_SEED_DEMO=false
# to skip it). The live editor module is built first (scripts/build-editor.sh). Extra arguments
# go to `cargo leptos serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export ARBOR_SEED_DEMO="${ARBOR_SEED_DEMO:-true}"
scripts/build-editor.sh
exec cargo leptos serve --release --precompress "$@"
