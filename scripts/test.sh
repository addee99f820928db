#!/usr/bin/env bash
# Every test: the doctest suite natively, natively under ASan+UBSan and as wasm under node (all
# through ctest), the download size budgets, then the JS API tests and the page's end-to-end
# tests in Chromium with node --test. Run after scripts/setup.sh --all.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m== %s\033[0m\n' "$*"; }

say "Building the ASan+UBSan native suite (build/asan)"
[ -f build/asan/build.ninja ] || cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DQE_SANITIZE=ON >/dev/null
cmake --build build/asan

for dir in native asan wasm; do
  say "ctest: $dir"
  ctest --test-dir "build/$dir" --output-on-failure
done

say "Download sizes against their budgets (a budget exceeded fails)"
node scripts/sizes.js --strict

say "node --test: JS API and the page in Chromium"
node --test tests/js/ tests/e2e/
