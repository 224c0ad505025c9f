#!/usr/bin/env bash
# soak.sh — a goroutine-per-request service under steady load for a long
# time, beside Go's net/http doing the same (issue 23).
#
# For each peer (goro: bench/soak/soak.cpp; go: bench/soak/go/main.go) it
#   1. starts the server under `ulimit -n $NOFILE`, sampling itself every
#      second into OUTDIR/<peer>.csv (RSS, descriptors, goroutines, pending
#      timers, requests served);
#   2. takes an idle probe (SIGUSR1), then runs wrk -c$CONNS for $DURATION s,
#      with faults.py's misbehaving clients beside it when FAULTS=1;
#   3. one second after the load stopped, takes a second probe while the last
#      never-reading client still holds its connection;
#   4. shuts the server down with SIGINT (graceful) and records its exit
#      status — in an AddressSanitizer build, LeakSanitizer's verdict;
#   5. judges the samples with check.py.
# Then it draws OUTDIR/soak.png (gnuplot): RSS, descriptors, goroutines and
# requests per second over time, both peers on each panel.
#
# usage: bench/soak/soak.sh [OUTDIR]          (default /tmp/goro-soak)
# env:   DURATION=1800  seconds of load
#        WARMUP=60      seconds of load before RSS is held to +1 %
#        CONNS=64       wrk's connections
#        FAULTS=1       run faults.py beside the load (0: steady load only)
#        NOFILE=256     the servers' descriptor limit (the flood exceeds it)
#        PEERS="goro go"
#        GORO_SOAK=PATH a goro-soak binary to use (default: a release build in OUTDIR)
#        STRICT=1       exit 1 unless goro passes every criterion
#        RSS_ADVISORY=1 report the RSS criterion without failing on it
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$(mkdir -p "${1:-/tmp/goro-soak}" && cd "${1:-/tmp/goro-soak}" && pwd)"
DURATION="${DURATION:-1800}" WARMUP="${WARMUP:-60}" CONNS="${CONNS:-64}" FAULTS="${FAULTS:-1}"
NOFILE="${NOFILE:-256}" PEERS="${PEERS:-goro go}" STRICT="${STRICT:-0}"
port=18517
write_timeout_ms=2000
mkdir -p "$out/bin"
now_ms() { date +%s%3N; }

build() {
  if [[ " $PEERS " == *" goro "* ]]; then
    if [ -n "${GORO_SOAK:-}" ]; then
      cp "$GORO_SOAK" "$out/bin/goro" || return 1
    else
      cmake -S "$repo" -B "$out/goro-build" -DCMAKE_BUILD_TYPE=Release -DGORO_BUILD_TESTS=OFF \
        -DGORO_BUILD_DEMO=OFF -DGORO_INSTALL=OFF >&2 &&
        cmake --build "$out/goro-build" --target goro-soak -j "$(nproc)" >&2 &&
        cp "$out/goro-build/bench/goro-soak" "$out/bin/goro" || return 1
    fi
  fi
  if [[ " $PEERS " == *" go "* ]]; then
    (cd "$here/go" && GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off CGO_ENABLED=0 \
      GOCACHE="${GOCACHE:-/tmp/goro-soak-gocache}" go build -trimpath -o "$out/bin/go" .) || return 1
  fi
}
build || { echo "soak.sh: build failed" >&2; exit 1; }

status=0
for peer in $PEERS; do
  csv="$out/$peer.csv" ev="$out/$peer.events" log="$out/$peer.log"
  rm -f "$csv" "$ev" "$out/$peer.faults"
  (ulimit -n "$NOFILE" && exec "$out/bin/$peer" --addr "127.0.0.1:$port" --csv "$csv" \
    --write-timeout-ms "$write_timeout_ms") 2>"$log" &
  pid=$!
  up=0
  for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
    sleep 0.05
  done
  if [ "$up" != 1 ]; then echo "soak.sh: $peer did not start" >&2; kill "$pid" 2>/dev/null; status=1; continue; fi
  sleep 2
  kill -USR1 "$pid"  # the idle baseline
  sleep 0.5
  start=$(now_ms)
  echo "load_start $start" >"$ev"
  echo "warm $((start + WARMUP * 1000))" >>"$ev"
  fpid=""
  if [ "$FAULTS" = 1 ]; then
    python3 "$here/faults.py" "$port" "$DURATION" "$out/$peer.faults" "$((write_timeout_ms / 1000))" \
      2>"$out/$peer.faults.log" &
    fpid=$!
  fi
  echo "soak.sh: $peer: ${DURATION}s of load (wrk -c$CONNS$([ "$FAULTS" = 1 ] && echo ', faults'))" >&2
  wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$port/" >"$out/$peer.wrk" 2>&1
  if [ -n "$fpid" ]; then  # the faults' last never-reader is in place and its deadline passed
    for _ in $(seq 600); do [ -f "$out/$peer.faults" ] && break; sleep 0.1; done
  fi
  echo "load_end $(now_ms)" >>"$ev"
  sleep 1
  kill -USR1 "$pid"  # one second after the load
  sleep 0.5
  [ -n "$fpid" ] && { kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null; }
  kill -INT "$pid"
  wait "$pid"
  rc=$?
  echo "== $peer" | tee "$out/$peer.verdict"
  {
    grep -E "^Requests/sec|Non-2xx|Socket errors" "$out/$peer.wrk"
    [ -f "$out/$peer.faults" ] && echo "faults     $(cat "$out/$peer.faults")"
    echo "accept     $(grep -c -i "accept error" "$log") 'Accept error' lines logged (Go's server logs each backoff;" \
      "goro::net's accept backs off inside accept, silently)"
    echo "exit       $([ "$rc" = 0 ] && echo "ok  " || echo "FAIL") status $rc (graceful shutdown$(
      [ "$rc" = 0 ] || echo "; see $log"))"
    python3 "$here/check.py" "$csv" "$ev" $([ "${RSS_ADVISORY:-0}" = 1 ] && echo --rss-advisory)
  } | tee -a "$out/$peer.verdict"
  if [ "$peer" = goro ]; then
    if [ "$rc" != 0 ] || grep -q "FAIL" "$out/$peer.verdict"; then status=1; fi
    if [ -f "$out/$peer.faults" ] && grep -q '"not_recovered": [1-9]' "$out/$peer.faults"; then
      echo "soak.sh: goro did not recover from a descriptor flood" | tee -a "$out/$peer.verdict"
      status=1
    fi
  fi
done

if command -v gnuplot >/dev/null; then
  {
    echo "set terminal png size 1200,900; set output '$out/soak.png'"
    echo "set datafile separator ','; set multiplot layout 2,2 title 'soak: ${DURATION} s of load, wrk -c${CONNS}'"
    echo "set key top left; set xlabel 'seconds'; set grid"
    for panel in "RSS (MiB):(\$3/1024)" "open descriptors:4" "goroutines:5" "requests per second:(d=\$7-p, p=\$7, d)"; do
      title="${panel%%:*}" expr="${panel#*:}"
      echo "set title '$title'"
      plots=()
      for peer in $PEERS; do
        [ -f "$out/$peer.csv" ] || continue
        t0=$(awk '/^load_start/{print $2}' "$out/$peer.events")
        plots+=("p=0, '$out/$peer.csv' using (strcol(2) eq 'tick' ? (\$1-$t0)/1000.0 : 1/0):$expr with lines title '$peer'")
      done
      [ "${#plots[@]}" -gt 0 ] && (IFS=','; echo "plot ${plots[*]}")
    done
    echo "unset multiplot"
  } >"$out/soak.gp"
  gnuplot "$out/soak.gp" && echo "soak.sh: plot in $out/soak.png" >&2
else
  echo "soak.sh: gnuplot not installed (apt-get install gnuplot-nox): no plot" >&2
fi
[ "$STRICT" = 1 ] && exit "$status"
exit 0
