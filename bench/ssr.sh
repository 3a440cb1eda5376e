#!/usr/bin/env bash
# SSR throughput of a subject page and a topic page, measured with wrk against a release build
# serving a fresh SQLite database with the demo subject loaded. Prints wrk's figures for:
#   1. signed-out readers (served from the page cache, ETag validated),
#   2. signed-out readers of a URL the cache skips (`?fold=`: a full render every time),
#   3. a signed-in reader (a full render every time, the session checked in the database),
#   4. a signed-out reader of a topic page (cached).
# Usage: bench/ssr.sh [seconds per run, default 15] [connections, default 16]
# Needs: wrk (apt-get install wrk), cargo-leptos (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-15}"
connections="${2:-16}"
port=3190
base="http://127.0.0.1:$port"
dir="$(mktemp -d)"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo leptos build --release --precompress >/dev/null
LEPTOS_SITE_ROOT=target/site ARBOR_SIGNUP_MAX_PER_CLIENT=1000 \
  "${CARGO_TARGET_DIR:-target}/release/arbor" --addr "127.0.0.1:$port" \
  --database-url "sqlite://$dir/bench.db" --seed-demo --log-format json 2>"$dir/server.log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

cookie="$(curl -s -o /dev/null -D - -H 'content-type: application/json' -H "origin: $base" \
  -d '{"username":"bench_reader","password":"mossy granite lantern 42"}' \
  "$base/api/v1/auth/signup" | sed -n 's/^set-cookie: \(arbor_session=[^;]*\).*/\1/ip')"
topic="$(curl -s "$base/api/v1/subjects/distributed-systems" | python3 -c 'import json,sys; print(json.load(sys.stdin)["root"]["children"][0]["id"])')"

run() {
  echo "== $1"
  shift
  wrk -t2 -c"$connections" -d"${duration}s" --latency "$@" | sed -n '/Latency  /p;/50%/p;/99%/p;/Requests\/sec/p;/Non-2xx/p'
}
run "subject page, signed out (page cache)" "$base/s/distributed-systems"
run "subject page, signed out, uncached render" "$base/s/distributed-systems?fold=0"
run "subject page, signed in (render per request)" -H "cookie: $cookie" "$base/s/distributed-systems"
run "topic page, signed out (page cache)" "$base/s/distributed-systems/t/$topic"
echo "page size: $(curl -s "$base/s/distributed-systems" | wc -c) bytes (uncompressed)"
