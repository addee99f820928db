#!/usr/bin/env bash
# npm run fuzz: libFuzzer on the tensor-file readers and on the value parser against strtod
# (tests/fuzz), with AddressSanitizer and UBSan, each starting from its committed corpus
# (tests/fuzz/corpus, tests/fuzz/parse-corpus; new finds are added there).
#   FUZZ_SECONDS=600 npm run fuzz     run each longer (default 60 s)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m== %s\033[0m\n' "$*"; }

if ! command -v clang++-14 >/dev/null 2>&1 || [ ! -f /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "Installing clang-14 and libFuzzer (libclang-rt-14-dev)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null
  else
    echo "fuzz: needs clang-14 and libclang-rt-14-dev (sudo apt-get install clang-14 libclang-rt-14-dev)" >&2
    exit 1
  fi
fi

mkdir -p build/fuzz
say "Building build/fuzz/tensor_files_fuzz"
clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc/core \
  tests/fuzz/tensor_files_fuzz.cpp src/core/tensor_files.cpp src/core/gguf_quants.cpp src/core/formats.cpp src/core/scheme.cpp \
  -o build/fuzz/tensor_files_fuzz

say "Building build/fuzz/parse_fuzz"
clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc/core \
  tests/fuzz/parse_fuzz.cpp src/core/parse.cpp -o build/fuzz/parse_fuzz

say "Fuzzing the tensor-file readers for ${FUZZ_SECONDS:-60} s"
build/fuzz/tensor_files_fuzz -max_total_time="${FUZZ_SECONDS:-60}" -max_len=4096 -print_final_stats=1 tests/fuzz/corpus
say "Fuzzing the value parser against strtod for ${FUZZ_SECONDS:-60} s"
build/fuzz/parse_fuzz -max_total_time="${FUZZ_SECONDS:-60}" -max_len=4096 -print_final_stats=1 tests/fuzz/parse-corpus
