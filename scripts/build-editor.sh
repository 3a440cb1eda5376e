#!/usr/bin/env bash
# Builds the live editor module (crate `editor/`, WebAssembly) into public/editor/, which
# cargo-leptos copies into the site (served at /editor/, precompressed by `--precompress`).
# It is a module of its own so that only editing pages download yrs; the topic edit page
# imports /editor/editor.js. Run before `cargo leptos build|serve|end-to-end`.
#
#   scripts/build-editor.sh            release build (opt-level z, LTO, wasm-opt -Oz)
#   scripts/build-editor.sh --debug    unoptimised, quicker to build
set -euo pipefail
cd "$(dirname "$0")/.."

profile=wasm-release
[[ "${1:-}" == "--debug" ]] && profile=dev
target_dir="${CARGO_TARGET_DIR:-target}"
out=public/editor

cargo build -p arbor-editor --lib --target wasm32-unknown-unknown --profile "$profile" --locked
artifact_dir=$([[ $profile == dev ]] && echo debug || echo "$profile")
wasm="$target_dir/wasm32-unknown-unknown/$artifact_dir/arbor_editor.wasm"

rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name editor "$wasm"
if [[ $profile != dev ]]; then
  # The features rustc enables by default for wasm32 (wasm-opt refuses them otherwise).
  node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$out/editor_bg.wasm" -o "$out/editor_bg.wasm"
fi
ls -l "$out"
