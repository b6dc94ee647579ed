#!/usr/bin/env bash
# Sets up this machine (Debian 12, as root or with sudo) and runs one of:
#   demo  build kappa and run the main job (kappa tour: NEXMark through the Kappa architecture)
#   test  build and run the whole test suite: under ASan+UBSan, the concurrency tests under
#         TSan, the fuzzers for a bounded time, then the normal build (its ctest summary last)
# Idempotent: packages already installed and builds already done are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in
  demo|test) ;;
  *) echo "usage: tools/run.sh demo|test" >&2; exit 2 ;;
esac

packages=(g++ make cmake ccache libtbb-dev libconcurrentqueue-dev libmimalloc-dev libbenchmark-dev
          libgtest-dev liblz4-dev libzstd-dev librdkafka-dev libsimdjson-dev)
# python3-numpy: the Python reader's columnar export, tested with Debian's interpreter;
# chromium: kappa report's page, rendered headless.
[ "$mode" = test ] && packages+=(clang libclang-rt-14-dev python3 python3-numpy pkg-config chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

jobs=$(nproc)
# Every build directory is configured with every option it relies on, each time: a directory
# configured by the other mode (or by hand) must not carry its choices over.
# The Python tests run on Debian's interpreter when there is one (its packages serve it).
python=()
[ -x /usr/bin/python3 ] && python=(-DPython3_EXECUTABLE=/usr/bin/python3)
configure() {  # configure DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKAPPA_WARNINGS_AS_ERRORS=ON \
    -DKAPPA_BUILD_TESTS=ON -DKAPPA_BUILD_BENCHMARKS=ON -DKAPPA_BUILD_FUZZERS=OFF -DKAPPA_SANITIZE= \
    "${python[@]}" "$@" >/dev/null
}
# A suite that runs no test fails.
run_ctest() { ctest --output-on-failure --no-tests=error -j1 "$@"; }

if [ "$mode" = demo ]; then
  configure build
  cmake --build build -j"$jobs" --target kappa
  exec build/tools/kappa tour
fi

echo "== ASan+UBSan build: whole suite"
configure build-asan -DKAPPA_SANITIZE=address -DKAPPA_BUILD_BENCHMARKS=OFF
cmake --build build-asan -j"$jobs"
(cd build-asan && export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 && run_ctest)

echo "== TSan build: concurrency tests"
configure build-tsan -DKAPPA_SANITIZE=thread -DKAPPA_BUILD_BENCHMARKS=OFF
cmake --build build-tsan -j"$jobs"
(cd build-tsan && export KAPPA_STRESS_SCALE=10 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 &&
  run_ctest -L concurrency)

echo "== libFuzzer: memlog image, archive image, view image, Kafka record and ingest fuzzers, 45 s each"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKAPPA_SANITIZE= \
  -DKAPPA_BUILD_FUZZERS=ON -DKAPPA_BUILD_TESTS=OFF -DKAPPA_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-fuzz -j"$jobs" --target memlog_fuzz archive_fuzz view_fuzz kafka_records_fuzz ingest_fuzz
for target in memlog_fuzz archive_fuzz view_fuzz kafka_records_fuzz ingest_fuzz; do
  mkdir -p "build-fuzz/corpus-$target"
  "build-fuzz/tests/fuzz/$target" -max_total_time=45 -max_len=16384 -print_final_stats=1 \
    "build-fuzz/corpus-$target" 2>&1 | tail -n 5
done

echo "== library-only build (no tests, benchmarks or tools), installed; examples/ built against it and run"
cmake -S . -B build-lib -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKAPPA_WARNINGS_AS_ERRORS=ON \
  -DKAPPA_BUILD_TESTS=OFF -DKAPPA_BUILD_BENCHMARKS=OFF -DKAPPA_BUILD_TOOLS=OFF -DKAPPA_BUILD_FUZZERS=OFF \
  -DKAPPA_SANITIZE= -DCMAKE_INSTALL_PREFIX="$PWD/build-lib/prefix" >/dev/null
cmake --build build-lib -j"$jobs"
rm -rf build-lib/prefix build-examples
cmake --install build-lib >/dev/null
cmake -S examples -B build-examples -DCMAKE_PREFIX_PATH="$PWD/build-lib/prefix" >/dev/null
cmake --build build-examples -j"$jobs"
examples_data=$(mktemp -d /dev/shm/kappa-examples-XXXXXX)
(export KAPPA_DATA_DIR="$examples_data" KAPPA_VIEW_DIR="$examples_data/views" &&
  build-examples/clicks && build-examples/read_clicks &&
  # The C reader again, built with the pkg-config files instead of CMake.
  cc examples/read_clicks.c -o build-examples/read_clicks_pc -Wl,-rpath,"$PWD/build-lib/prefix/lib" \
    $(PKG_CONFIG_PATH="$PWD/build-lib/prefix/lib/pkgconfig" pkg-config --cflags --libs kappa-view kappa-log) &&
  build-examples/read_clicks_pc) || { rm -rf "$examples_data"; exit 1; }
rm -rf "$examples_data"

echo "== normal build: whole suite"
configure build
cmake --build build -j"$jobs"
# NumPy and Chromium were installed above: the tests that need them must run, not skip.
cd build && export KAPPA_REQUIRE_NUMPY=1 KAPPA_REQUIRE_CHROMIUM=1 && run_ctest
