#!/usr/bin/env bash
# Runs goro's workload programs beside the Go and Boost.Fiber peers and prints
# one comparison table (markdown).
#
# usage: bench/compare.sh [OUTDIR]   (default OUTDIR: /tmp/goro-compare)
# env:   RUNS=1                  passes over the suite (table shows the median)
#        ONLY="spawn yield"      workloads (default: bench/workloads.txt);
#                                tcp_echo (bench/tcp_echo.sh) runs only when named
#        NO_BUILD=1              reuse the binaries already in OUTDIR
#        GORO_SHARED=DIR         the shared/ folder (default: <repo>/../shared)
#        PORT, WRK_DURATION      passed on to run.sh (http_hello)
#
# goro's programs are built (CMake Release, OUTDIR/goro-build) and copied to
# OUTDIR/run/goro/<workload>, next to OUTDIR/run/go/ and OUTDIR/run/boost-fiber/,
# so that the peers' own runner, shared/peers/run.sh, runs all three in the
# same passes with the same timeout, result parsing and logs
# (OUTDIR/run/logs/<peer>-<workload>-<pass>.txt). Nothing is downloaded; run.sh
# apt-installs Go, Boost.Fiber and wrk if they are missing.
#
# Output: OUTDIR/raw.txt (run.sh's lines, all passes), OUTDIR/table.md, and the
# table on stdout. A workload goro does not implement yet shows `-`.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/.." && pwd))"
shared="${GORO_SHARED:-$repo/../shared}"
peers="$shared/peers"
[ -x "$peers/run.sh" ] || { echo "compare.sh: $peers/run.sh not found (set GORO_SHARED)" >&2; exit 1; }
out="$(mkdir -p "${1:-/tmp/goro-compare}" && cd "${1:-/tmp/goro-compare}" && pwd)"
RUNS="${RUNS:-1}"
rev="$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"

# goro's workloads: the single list, bench/workloads.txt.
GORO_WORKLOADS="$(grep -E '^[A-Za-z0-9_]+$' "$here/workloads.txt" | tr '\n' ' ')"
ONLY="${ONLY:-$GORO_WORKLOADS}"

# Build goro's programs; one that fails to build is reported and shows as `-`.
bdir="$out/goro-build"
bin="$out/run/goro"
mkdir -p "$bin"
if [ -z "${NO_BUILD:-}" ]; then
  # An OUTDIR reused from another checkout: start its build tree afresh.
  if [ -f "$bdir/CMakeCache.txt" ] &&
     [ "$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$bdir/CMakeCache.txt")" != "$repo" ]; then
    rm -rf "$bdir"
  fi
  cmake -S "$repo" -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DGORO_BUILD_TESTS=OFF \
    -DGORO_BUILD_DEMO=OFF -DGORO_INSTALL=OFF >&2 || { echo "compare.sh: cmake configure failed" >&2; exit 1; }
  for w in $ONLY; do
    rm -f "$bin/$w"
    [ -f "$here/$w.cpp" ] || continue
    if cmake --build "$bdir" --target "bench_$w" -j "$(nproc)" >&2; then
      cp "$bdir/bench/$w" "$bin/$w"
    else
      echo "compare.sh: goro $w failed to build" >&2
    fi
  done
fi

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
# Build the peers (first call) and run every peer, goro included, RUNS times.
# tcp_echo is a server pair, not a program run.sh runs: bench/tcp_echo.sh
# measures it (OUTDIR/tcp_echo) and its lines join run.sh's.
RUN_ONLY="$(for w in $ONLY; do [ "$w" = tcp_echo ] || printf '%s ' "$w"; done)"
: >"$out/raw.txt"
[ -n "$RUN_ONLY" ] && RUNS="$RUNS" ONLY="$RUN_ONLY" PEERS="go boost-fiber goro" "$peers/run.sh" "$out/run" | tee "$out/raw.txt" >&2
case " $ONLY " in
  *" tcp_echo "*) RUNS="$RUNS" GORO_SHARED="$shared" "$here/tcp_echo.sh" "$out/tcp_echo" >&2 &&
    tee -a "$out/raw.txt" <"$out/tcp_echo/raw.txt" >&2 ;;
esac

machine="$(nproc) vCPU, $(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
{
  echo "<!-- bench/compare.sh: RUNS=$RUNS ONLY=\"$(echo $ONLY)\"; goro $rev; $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "     $machine; load average before $load_before, after $load_after -->"
  echo "<!-- cells: median (min–max) over $RUNS pass(es); \`-\`: not implemented; goro/Go = median ratio:"
  echo "     lower is better for time and size units, higher is better for rate units (req/s, msgs/s) -->"
  awk -v order="$ONLY" '
    function fmt(x,   s, neg, i, r) {
      if (x >= 1000 || x <= -1000) {
        s = sprintf("%.0f", x); neg = (substr(s, 1, 1) == "-"); if (neg) s = substr(s, 2)
        r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
        return (neg ? "-" : "") s r
      }
      if (x >= 100 || x <= -100) return sprintf("%.0f", x)
      if (x >= 10 || x <= -10) return sprintf("%.1f", x)
      return sprintf("%.2f", x)
    }
    function median(k, c,   a, b, t, x) {
      for (a = 1; a <= c; a++) x[a] = v[k, a]
      for (a = 1; a <= c; a++) for (b = a + 1; b <= c; b++) if (x[b] < x[a]) { t = x[a]; x[a] = x[b]; x[b] = t }
      lo[k] = x[1]; hi[k] = x[c]
      return (c % 2) ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2
    }
    function cell(p, w,   k) {
      k = p SUBSEP w
      if (n[k] > 0) return (n[k] > 1 && lo[k] != hi[k]) ? fmt(med[k]) " (" fmt(lo[k]) "–" fmt(hi[k]) ")" : fmt(med[k])
      if (k in failed) return "failed"
      if (p == "goro" || !(k in na)) return "-"
      return na[k]
    }
    $3 == "NA" { k = $1 SUBSEP $2; na[k] = $4; if ($4 == "failed") failed[k] = 1; addrow($2); next }
    NF == 4 { k = $1 SUBSEP $2; v[k, ++n[k]] = $3 + 0; unit[$2] = $4; addrow($2) }
    function addrow(w) { if (!(w in seen)) { seen[w] = 1; rows[++m] = w } }
    END {
      for (k in n) med[k] = median(k, n[k])
      print "| workload | unit | goro | Go | Boost.Fiber | goro/Go |"
      print "|---|---|---|---|---|---|"
      for (i = 1; i <= m; i++) {
        w = rows[i]; kg = "goro" SUBSEP w; kgo = "go" SUBSEP w
        ratio = (n[kg] > 0 && n[kgo] > 0 && med[kgo] != 0) ? sprintf("%.2f", med[kg] / med[kgo]) : "-"
        u = (w in unit) ? unit[w] : "-"
        printf "| %s | %s | %s | %s | %s | %s |\n", w, u, cell("goro", w), cell("go", w), cell("boost-fiber", w), ratio
      }
    }' "$out/raw.txt"
} | tee "$out/table.md"
