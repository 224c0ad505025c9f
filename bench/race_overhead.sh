#!/usr/bin/env bash
# What race detection costs: every workload of bench/workloads.txt built
# plain and with -fsanitize=thread (goro: with GCC, and with Clang where
# clang++ exists — two different TSan runtimes), beside the Go peers built plain
# and with -race, run alternately in the same passes. Prints, per workload,
# each program's figure and the overhead factor (instrumented / plain; for
# the time-like units; throughput units are inverted), and goro's factor
# over Go's (the target: at most 2).
#
# usage: bench/race_overhead.sh [OUTDIR]     (default /tmp/goro-race)
# env:   RUNS=1            passes (the table shows medians)
#        ONLY="spawn ..."  workloads (default: bench/workloads.txt)
#        GORO_SHARED=DIR   the shared/ folder (default: <repo>/../shared)
#        TIMEOUT=300       seconds per program run
#        NO_BUILD=1        reuse OUTDIR's binaries
#
# Output: OUTDIR/raw.txt (one line per run: <variant> <workload> <value> <unit>
# or NA), OUTDIR/table.md and the table on stdout. Debian's golang-go carries
# the race runtime; -race needs cgo (CGO_ENABLED=1, gcc).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
shared="${GORO_SHARED:-$repo/../shared}"
out="$(mkdir -p "${1:-/tmp/goro-race}" && cd "${1:-/tmp/goro-race}" && pwd)"
RUNS="${RUNS:-1}"
TIMEOUT="${TIMEOUT:-300}"
ONLY="${ONLY:-$(grep -E '^[A-Za-z0-9_]+$' "$here/workloads.txt" | tr '\n' ' ')}"
# The instrumented goro is built twice: with GCC (libtsan, TSan's older
# runtime) and, where clang++ exists, with Clang (compiler-rt's newer one).
variants="goro goro-tsan"
command -v clang++ >/dev/null && variants="$variants goro-tsan-clang"
mkdir -p "$out/logs"
for v in $variants go go-race; do mkdir -p "$out/bin/$v"; done

if [ -z "${NO_BUILD:-}" ]; then
  for v in $variants; do
    flags=()
    [ "$v" != goro ] && flags=(-DCMAKE_CXX_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread
                                -DGORO_SANITIZER=thread)
    [ "$v" = goro-tsan-clang ] && flags+=(-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang)
    cmake -S "$repo" -B "$out/build-$v" -DCMAKE_BUILD_TYPE=Release -DGORO_BUILD_TESTS=OFF \
      -DGORO_BUILD_DEMO=OFF -DGORO_INSTALL=OFF "${flags[@]}" >"$out/logs/cmake-$v.txt" 2>&1 &&
      cmake --build "$out/build-$v" -j"$(nproc)" --target bench_workloads >>"$out/logs/cmake-$v.txt" 2>&1 ||
      { echo "race_overhead: $v build failed (see $out/logs/cmake-$v.txt)" >&2; exit 1; }
    for w in $ONLY; do [ -x "$out/build-$v/bench/$w" ] && cp "$out/build-$v/bench/$w" "$out/bin/$v/$w"; done
  done
  export GOFLAGS=-mod=mod GOPROXY=off GONOSUMDB='*' GOSUMDB=off GO111MODULE=on
  export GOCACHE="${GOCACHE:-/tmp/peers-go-cache}" GOPATH="${GOPATH:-/tmp/peers-gopath}"
  (cd "$shared/peers/go" && for w in $ONLY; do
     [ -d "cmd/$w" ] || continue
     CGO_ENABLED=0 go build -trimpath -o "$out/bin/go/$w" "./cmd/$w" &&
       CGO_ENABLED=1 go build -race -trimpath -o "$out/bin/go-race/$w" "./cmd/$w"
   done) >"$out/logs/go-build.txt" 2>&1 || { echo "race_overhead: go build failed" >&2; exit 1; }
fi

: >"$out/raw.txt"
for r in $(seq 1 "$RUNS"); do
  for w in $ONLY; do
    for v in $variants go go-race; do
      bin="$out/bin/$v/$w"
      [ -x "$bin" ] || { echo "$v $w NA missing" >>"$out/raw.txt"; continue; }
      log="$out/logs/$v-$w-$r.txt"
      timeout "$TIMEOUT" "$bin" >"$log" 2>&1
      rc=$?
      res="$(grep -v '^#' "$log" | awk -v w="$w" '$1==w && NF==3' | tail -1)"
      if [ $rc -ne 0 ] || [ -z "$res" ]; then
        why=failed; [ $rc -eq 124 ] && why=timeout
        echo "$v $w NA $why" >>"$out/raw.txt"
      else
        echo "$v $res" >>"$out/raw.txt"
      fi
    done
  done
done

# Medians per (variant, workload); factors. Units ending in /s are rates.
awk -v only="$ONLY" '
  function median(k,   n, i, j, t, a) {
    n = split(vals[k], a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n ? a[int((n + 1) / 2)] : ""
  }
  function fig(v, w,   x) { x = median(v " " w); return x != "" ? x : (na[v " " w] != "" ? na[v " " w] : "-") }
  function over(p, q, w,   a, b) {  # instrumented q over plain p
    a = median(p " " w); b = median(q " " w)
    if (a == "" || b == "") return ""
    return (unit[w] ~ /\/s$/) ? a / b : b / a
  }
  function x(f) { return f != "" ? sprintf("%.1f×", f) : "-" }
  function r(f, g) { return (f != "" && g != "") ? sprintf("%.2f", f / g) : "-" }
  $3 != "NA" { k = $1 " " $2; vals[k] = vals[k] " " $3; unit[$2] = $4 }
  $3 == "NA" { na[$1 " " $2] = $4 }
  END {
    print "| workload | unit | goro | goro tsan GCC | overhead | goro tsan Clang | overhead | Go | Go -race | overhead | GCC/Go | Clang/Go |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|"
    n = split(only, ws, " ")
    for (i = 1; i <= n; i++) {
      w = ws[i]
      og = over("goro", "goro-tsan", w); oc = over("goro", "goro-tsan-clang", w); o = over("go", "go-race", w)
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w, unit[w],
        fig("goro", w), fig("goro-tsan", w), x(og), fig("goro-tsan-clang", w), x(oc),
        fig("go", w), fig("go-race", w), x(o), r(og, o), r(oc, o)
    }
  }' "$out/raw.txt" | tee "$out/table.md"
