#!/usr/bin/env bash
# Every set-up step on a fresh Debian machine: system packages (as root, when missing), npm
# packages, and the builds.
#   scripts/setup.sh               install what is missing, then build the web module (web/src/wasm/)
#   scripts/setup.sh --all         the same, plus every other target: the wasm test program and
#                                  the native build (build/native: tests, benchmark)
#   scripts/setup.sh --build-only  build only (fails with a clear message if a tool is missing)
set -euo pipefail
cd "$(dirname "$0")/.."

install=1 all=0
for arg in "$@"; do
  case $arg in
    --build-only) install=0 ;;
    --all) all=1 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m== %s\033[0m\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

# What the build and the tests need, as "test|package": a command, or a header under /usr/include.
needs=(
  "cmd:emcc|emscripten"
  "cmd:cmake|cmake"
  "cmd:ninja|ninja-build"
  "cmd:c++|g++"
  "cmd:node|nodejs"
  "cmd:npm|npm"
  "cmd:wasm-objdump|wabt"
  "cmd:chromium|chromium"
  "cmd:pdftotext|poppler-utils"
  "hdr:doctest/doctest.h|doctest-dev"
  "hdr:fast_float/fast_float.h|libfast-float-dev"
  "hdr:nlohmann/json.hpp|nlohmann-json3-dev"
  "hdr:simde/wasm/simd128.h|libsimde-dev"
  "py:numpy|python3-numpy"
)
missing=()
for entry in "${needs[@]}"; do
  check=${entry%%|*} pkg=${entry##*|}
  case $check in
    cmd:*) command -v "${check#cmd:}" >/dev/null 2>&1 || missing+=("$pkg") ;;
    hdr:*) [ -f "/usr/include/${check#hdr:}" ] || missing+=("$pkg") ;;
    py:*) /usr/bin/python3 -c "import ${check#py:}" >/dev/null 2>&1 || missing+=("$pkg") ;;
  esac
done

# The tests also regenerate the PyTorch reference file (tests/data/make_torch_golden.py) to
# prove it is what torch computes: Debian's python3-torch, without its recommendations.
if [ $all = 1 ] && [ $install = 1 ] && [ "$(id -u)" = 0 ] && ! /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then
  say "Installing python3-torch (for the PyTorch reference check)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed: is the Debian mirror reachable?"
  apt-get install -y -qq --no-install-recommends python3-torch >/dev/null || die "apt-get install python3-torch failed"
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ $install = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed: is the Debian mirror reachable?"
    apt-get install -y -qq "${missing[@]}" >/dev/null ||
      die "apt-get install ${missing[*]} failed"
  else
    die "missing: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]} (Debian 12), then run this again."
  fi
fi

if [ $install = 1 ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "npm ci"
    # onnxruntime-node (the layer tests' reference) ships its CPU library in the tarball; its
    # install script would only fetch CUDA libraries, which nothing here uses.
    ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
  fi
fi

# A build folder configured for another checkout (this one moved or copied) is made anew, quietly:
# CMake refuses a cache whose source folder is elsewhere.
stale_build() {
  local cache="$1/CMakeCache.txt"
  [ -f "$cache" ] && ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$PWD" "$cache" && rm -rf "$1"
  return 0
}
for dir in build/wasm build/native build/asan; do stale_build "$dir"; done

# emcc's JS optimizer (from -O1 up) needs acorn, which Debian ships under /usr/share/nodejs.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}

say "Building the WebAssembly core (build/wasm → web/src/wasm/)"
[ -f build/wasm/build.ninja ] || emcmake cmake -S . -B build/wasm -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
if [ $all = 1 ]; then cmake --build build/wasm; else cmake --build build/wasm --target quant_wasm quant_wasm_scalar quant_wasm_core quant_wasm_core_scalar; fi

say "Building the page (web/ → dist/)"
[ -d node_modules/vite ] || die "node_modules is missing: run npm ci (or scripts/setup.sh without --build-only)"
npx --no-install vite build --logLevel warn
say "Download sizes (gzip) against the budgets"
node scripts/sizes.js

if [ $all = 1 ]; then
  say "Building the offline single-file page (dist-offline/)"
  node scripts/build-offline.js

  say "Building the native core (build/native)"
  [ -f build/native/build.ninja ] || cmake -S . -B build/native -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build/native
fi
