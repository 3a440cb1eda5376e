#!/usr/bin/env bash
# Lighthouse (mobile preset, Debian's Chromium) over the four reading pages; see run.mjs.
#   bench/browser/lighthouse/run.sh --server http://127.0.0.1:3300 [--subject distributed-systems] [--runs 3]
# Installs its own node_modules here on first use (Lighthouse is large and only this uses it).
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -d node_modules/lighthouse ]]; then
  npm install --no-audit --no-fund --loglevel=error
fi
exec node run.mjs "$@"
