#!/usr/bin/env bash
# scripts/test.sh — installs what is missing, then builds goro and runs every
# check CI runs, in this order:
#
#   release          release preset: build, ctest
#   tsan-clang       tsan-clang preset (Clang 14, -fsanitize=thread, the thread-safety
#                    analysis with -Werror=thread-safety on goro's targets): build, ctest
#   tsan             tsan preset (GCC 12, -fsanitize=thread): build, ctest
#   asan             asan preset (-fsanitize=address,undefined): build, ctest
#   debug            debug preset (-O0, GORO_DCHECK: lock ranks, status transitions,
#                    queue and heap invariants checked): build, ctest
#   install          cmake --install of the release build, then .ci/consumer/find_package
#                    built against it with find_package(goro CONFIG) and run
#   add_subdirectory .ci/consumer/add_subdirectory: goro as a subproject, built and run
#   aarch64          the goro library cross-compiled with cmake/toolchain-aarch64.cmake
#                    (warnings are errors); the consumer built for aarch64 and run
#                    under qemu-aarch64 when qemu-user is installed
#   soak             bench/soak/soak.sh for GORO_SOAK_SECONDS (default 60) on the asan build's
#                    goro-soak: wrk load with misbehaving clients (disconnects mid-request and
#                    mid-response, a client that never reads, a descriptor flood past a low
#                    ulimit -n, a handler that throws); descriptors, goroutines and timers back at
#                    their idle baseline one second after the load, graceful shutdown,
#                    LeakSanitizer clean at exit; RSS growth after the warm-up is reported, not
#                    judged (AddressSanitizer's allocator; docs/BENCHMARKS.md, "Soak")
#   fuzz             the HTTP parser's libFuzzer target (Clang, -fsanitize=fuzzer,address,
#                    undefined) run for GORO_FUZZ_SECONDS (default 60) from its seed corpus
#   clang            (not run by default) Clang 14 build with warnings as errors (and
#                    -Wthread-safety -Werror=thread-safety on goro's targets), its ctest
#
# Environment:
#   GORO_TEST_STEPS="release install"  run only these steps (default: all but clang, in the order above)
#   GORO_TEST_FAIL_FAST=1              stop at the first failing step (default: run them all)
#   GORO_SKIP_DEPS=1                   do not check or install Debian packages
#   CTEST_PARALLEL_LEVEL=N             ctest's own: run N tests at once (default 2; the
#                                      tests allow it: each runs in its own process and
#                                      none depends on the machine being idle)
#
# Each step, and each command in it (configure, build, ctest), prints its
# elapsed time as it ends. Exits non-zero if any step failed; the summary at
# the end lists each step's result and time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
jobs=$(nproc)
export CTEST_PARALLEL_LEVEL=${CTEST_PARALLEL_LEVEL:-2}

default_steps=(release tsan-clang tsan asan soak debug install add_subdirectory aarch64 fuzz)
all_steps=("${default_steps[@]}" clang)
read -r -a steps <<<"${GORO_TEST_STEPS:-${default_steps[*]}}"
for s in "${steps[@]}"; do
  if [[ " ${all_steps[*]} " != *" $s "* ]]; then
    echo "test.sh: unknown step '$s' (steps: ${all_steps[*]})" >&2
    exit 2
  fi
done

# Runs a command and prints how long it took as it ends (whether it passed
# or not); returns its exit status.
timed() {
  local start=$SECONDS rc=0
  "$@" || rc=$?
  echo "-- $* : $((SECONDS - start))s$([[ $rc -eq 0 ]] || echo ", exit status $rc")"
  return "$rc"
}

# Builds and tests one CMake preset.
preset() {
  timed cmake --preset "$1"
  timed cmake --build --preset "$1" -j"$jobs"
  timed ctest --preset "$1"
}

# Configures, builds and runs the consumer program in .ci/consumer/$1 in a
# fresh build directory $2; the remaining arguments go to cmake's configure.
consumer() {
  local src=$root/.ci/consumer/$1 bin=$2
  shift 2
  rm -rf "$bin"
  timed cmake -S "$src" -B "$bin" -DCMAKE_BUILD_TYPE=Release "$@"
  timed cmake --build "$bin" -j"$jobs"
}

step_release() { preset release; }
step_tsan() { preset tsan; }
step_tsan-clang() { preset tsan-clang; }
step_asan() { preset asan; }
step_debug() { preset debug; }

step_soak() {
  if [[ ! -f build/asan/CMakeCache.txt ]]; then
    timed cmake --preset asan
  fi
  timed cmake --build --preset asan -j"$jobs" --target goro-soak
  local secs=${GORO_SOAK_SECONDS:-60}
  ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64} PEERS=goro STRICT=1 RSS_ADVISORY=1 \
    DURATION=$secs WARMUP=$((secs / 3)) GORO_SOAK=build/asan/bench/goro-soak \
    timed bench/soak/soak.sh build/soak
}

step_install() {
  if [[ ! -f build/release/CMakeCache.txt ]]; then
    cmake --preset release
  fi
  cmake --build --preset release -j"$jobs" --target goro
  local prefix=$root/build/install-check/prefix
  rm -rf "$prefix"
  cmake --install build/release --prefix "$prefix"
  consumer find_package build/install-check/consumer -DCMAKE_PREFIX_PATH="$prefix"
  build/install-check/consumer/consumer
}

step_add_subdirectory() {
  consumer add_subdirectory build/consumer-add_subdirectory -DGORO_ROOT="$root"
  build/consumer-add_subdirectory/consumer
}

step_aarch64() {
  local toolchain=$root/cmake/toolchain-aarch64.cmake
  cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=Release \
    -DGORO_BUILD_TESTS=OFF -DGORO_BUILD_BENCH=OFF -DGORO_BUILD_DEMO=OFF -DGORO_WERROR=ON
  cmake --build build/aarch64 -j"$jobs" --target goro
  if ! command -v qemu-aarch64 >/dev/null; then
    echo "aarch64: qemu-aarch64 not installed (apt-get install qemu-user): not running the consumer"
    return 0
  fi
  consumer add_subdirectory build/consumer-aarch64 -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DGORO_ROOT="$root"
  qemu-aarch64 -L /usr/aarch64-linux-gnu build/consumer-aarch64/consumer
}

step_fuzz() {
  CXX=clang++ timed cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGORO_FUZZ=ON \
    -DGORO_BUILD_BENCH=OFF -DGORO_BUILD_DEMO=OFF -DGORO_INSTALL=OFF
  timed cmake --build build/fuzz -j"$jobs" --target http_parse_fuzz
  mkdir -p build/fuzz/corpus
  # New inputs go to build/fuzz/corpus; the seeds in the tree are only read.
  timed build/fuzz/tests/http/fuzz/http_parse_fuzz -max_total_time="${GORO_FUZZ_SECONDS:-60}" \
    -print_final_stats=1 build/fuzz/corpus tests/http/fuzz/corpus
}

step_clang() {
  CXX=clang++ timed cmake -S . -B build/clang -DCMAKE_BUILD_TYPE=Release -DGORO_WERROR=ON
  timed cmake --build build/clang -j"$jobs"
  timed ctest --test-dir build/clang --output-on-failure
}

scripts/deps.sh

# Every step's output is also kept in build/logs/STEP.log; a failed step's
# digest (ctest's list of failed tests, the first assertion failures and
# sanitizer reports) is printed again just above the summary, so the end of
# the output alone says what failed.
logs=$root/build/logs
mkdir -p "$logs"

digest() {
  local log=$1
  echo "-- $(basename "$log" .log): what failed (full output in $log)"
  grep -E -A30 '^The following tests (FAILED|did not run)' "$log" | grep -E '^\s+[0-9]+ - ' | head -40
  grep -E -B2 -A10 ': Failure$|ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:|error: |Assertion .* failed|fatal( error)?: |\*\*\*Timeout|^== .*: FAILED' "$log" | head -100
}

results=()
failed=0
failed_steps=()
for s in "${steps[@]}"; do
  echo
  echo "== $s =="
  start=$(date +%s)
  set +e
  (set -euo pipefail; "step_$s") 2>&1 | tee "$logs/$s.log"
  rc=${PIPESTATUS[0]}
  set -e
  secs=$(($(date +%s) - start))
  if [[ $rc -eq 0 ]]; then
    results+=("$(printf '%-17s ok      %4ds' "$s" "$secs")")
    echo "== $s: ok (${secs}s) =="
  else
    results+=("$(printf '%-17s FAILED  %4ds  (exit %d)' "$s" "$secs" "$rc")")
    echo "== $s: FAILED with exit status $rc (${secs}s) =="
    failed=1
    failed_steps+=("$s")
    if [[ "${GORO_TEST_FAIL_FAST:-0}" == 1 ]]; then
      break
    fi
  fi
done

if ((${#failed_steps[@]})); then
  echo
  echo "== failures =="
  for s in "${failed_steps[@]}"; do
    digest "$logs/$s.log" || true
  done
fi
echo
echo "== summary =="
printf '  %s\n' "${results[@]}"
exit "$failed"
