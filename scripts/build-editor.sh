#!/usr/bin/env bash
# Builds the live editor module (crate `editor/`, WebAssembly) into public/editor/{hash}/,
# named by the hash of its content, with the hash in public/editor/current; cargo-leptos copies
# it into the site (served at /editor/, precompressed by `--precompress`, cached `immutable`).
# It is a module of its own so that only editing pages download yrs; their island imports
# /editor/{hash}/editor.js. Run before `cargo leptos build|serve|end-to-end`.
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
# Named by its content, so browsers may keep it for good and a page never pairs with another
# build's module (the glue finds editor_bg.wasm beside itself).
hash=$(cat "$out/editor.js" "$out/editor_bg.wasm" | sha256sum | cut -c1-16)
mkdir "$out/$hash"
mv "$out/editor.js" "$out/editor_bg.wasm" "$out/$hash/"
if [[ -d "$out/snippets" ]]; then mv "$out/snippets" "$out/$hash/"; fi
printf '%s\n' "$hash" > "$out/current"
ls -lR "$out"
