#!/usr/bin/env bash
# What race detection costs: every workload of bench/workloads.txt built
# plain and with -fsanitize=thread (goro), beside the Go peers built plain
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
mkdir -p "$out/bin/goro" "$out/bin/goro-tsan" "$out/bin/go" "$out/bin/go-race" "$out/logs"

if [ -z "${NO_BUILD:-}" ]; then
  for v in plain tsan; do
    flags=()
    [ "$v" = tsan ] && flags=(-DCMAKE_CXX_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread
                                -DGORO_SANITIZER=thread)
    cmake -S "$repo" -B "$out/build-$v" -DCMAKE_BUILD_TYPE=Release -DGORO_BUILD_TESTS=OFF \
      -DGORO_BUILD_DEMO=OFF -DGORO_INSTALL=OFF "${flags[@]}" >"$out/logs/cmake-$v.txt" 2>&1 &&
      cmake --build "$out/build-$v" -j"$(nproc)" --target bench_workloads >>"$out/logs/cmake-$v.txt" 2>&1 ||
      { echo "race_overhead: goro $v build failed (see $out/logs/cmake-$v.txt)" >&2; exit 1; }
    dst="$out/bin/goro"; [ "$v" = tsan ] && dst="$out/bin/goro-tsan"
    for w in $ONLY; do [ -x "$out/build-$v/bench/$w" ] && cp "$out/build-$v/bench/$w" "$dst/$w"; done
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
    for v in goro goro-tsan go go-race; do
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
  $3 != "NA" { k = $1 " " $2; vals[k] = vals[k] " " $3; unit[$2] = $4 }
  $3 == "NA" { na[$1 " " $2] = $4 }
  END {
    print "| workload | unit | goro | goro tsan | overhead | Go | Go -race | overhead | goro/Go overhead |"
    print "|---|---|---|---|---|---|---|---|---|"
    n = split(only, ws, " ")
    for (i = 1; i <= n; i++) {
      w = ws[i]; rate = unit[w] ~ /\/s$/
      a = median("goro " w); b = median("goro-tsan " w); c = median("go " w); d = median("go-race " w)
      ga = (a != "" && b != "") ? (rate ? a / b : b / a) : ""
      gb = (c != "" && d != "") ? (rate ? c / d : d / c) : ""
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w, unit[w],
        a != "" ? a : na["goro " w], b != "" ? b : na["goro-tsan " w], ga != "" ? sprintf("%.1f×", ga) : "-",
        c != "" ? c : na["go " w], d != "" ? d : na["go-race " w], gb != "" ? sprintf("%.1f×", gb) : "-",
        (ga != "" && gb != "") ? sprintf("%.2f", ga / gb) : "-"
    }
  }' "$out/raw.txt" | tee "$out/table.md"
