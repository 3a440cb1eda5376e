#!/usr/bin/env bash
# The crates' boundaries, as docs/architecture.md draws them, checked on the dependency graph
# itself (`cargo tree`, normal dependencies, any depth): a crate that must not reach a layer
# above it fails the run, naming the path.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
# forbid CRATE PATTERN WHY [TARGET]: CRATE must not depend, at any depth, on a crate matching
# PATTERN, on any platform (or on TARGET only).
forbid() {
  local crate=$1 pattern=$2 why=$3 target=${4:-all} tree found
  # A graph that cannot be read fails the check rather than passing it empty.
  tree=$(cargo tree -p "$crate" -e normal --target "$target" --prefix none --locked) ||
    { echo "✗ cargo tree failed for $crate" >&2; status=1; return; }
  found=$(awk '{print $1}' <<<"$tree" | sort -u | grep -E "^($pattern)$" || true)
  if [[ -n $found ]]; then
    echo "✗ $crate depends on $(echo $found | tr '\n' ' ')— $why" >&2
    status=1
  else
    echo "✓ $crate: no $pattern"
  fi
}

web='leptos|leptos_axum|leptos_router|leptos_meta|axum|tower-http|arbor-app|arbor'
forbid arbor-collab "$web|tokio|sqlx|redis|arbor-db|arbor-live" "the protocol core does no I/O"
forbid arbor-map "$web|tokio|sqlx|redis|arbor-db|arbor-live" "the map's schema and layout do no I/O"
forbid arbor-outline "$web|tokio|sqlx|redis|arbor-db|arbor-live" "the importers do no I/O"
forbid arbor-db "$web|redis|arbor-live|arbor-collab" "storage knows nothing above it"
forbid arbor-live "$web" "the live side has no HTTP and no Leptos: the server hands it frames"
forbid arbor-types "$web|server_fn|tokio|sqlx|redis|arbor-db|arbor-live|arbor-services" "the shared types build for the browser and do no I/O" wasm32-unknown-unknown
forbid arbor-services "$web|server_fn|tower|hyper" "the services know no HTTP framework and no Leptos: the edges (app, server) call them"
forbid arbor-editor "leptos|axum|sqlx|tokio|redis|arbor-db|arbor-live|arbor-app" "the editor module is its own small bundle" wasm32-unknown-unknown
exit $status
