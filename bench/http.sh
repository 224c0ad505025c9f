#!/usr/bin/env bash
# http.sh — goro::http's hello-world server beside Go's net/http
# (shared/peers/go/cmd/http_hello, WORKLOADS.md #12), side by side in one run:
#
#   keep-alive, 64 connections:    wrk -t1 -c64   -d${DURATION}s --latency
#   keep-alive, 1,000 connections: wrk -t1 -c1000 -d${DURATION}s --latency
#   for each: the server's CPU time per request (utime+stime from /proc, µs)
#   and the CPU wrk used (cores: its user+sys over the run). When wrk is near
#   1.00 core it is the bottleneck (wrk -t1 is one thread), and requests/s
#   understates the server; the server's CPU per request still compares.
#   idle keep-alive connections:   the server's RSS growth with ${IDLE} idle
#                                  keep-alive connections (each made one request),
#                                  per connection
#
# usage: bench/http.sh [OUTDIR]   (default /tmp/goro-http-bench)
# env:   RUNS=1 DURATION=5 IDLE=10000 NO_BUILD=1 GORO_SHARED=DIR
#
# Each server runs alone (GOMAXPROCS unset: one processor per core for both),
# wrk shares the 2 cores with it, as run.sh does. Output: OUTDIR/raw.txt,
# OUTDIR/table.md and the table on stdout (medians over RUNS, min–max).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/.." && pwd))"
shared="${GORO_SHARED:-$repo/../shared}"
out="$(mkdir -p "${1:-/tmp/goro-http-bench}" && cd "${1:-/tmp/goro-http-bench}" && pwd)"
RUNS="${RUNS:-1}" DURATION="${DURATION:-5}" IDLE="${IDLE:-10000}"
mkdir -p "$out/logs" "$out/bin"

if [ -z "${NO_BUILD:-}" ]; then
  cmake -S "$repo" -B "$out/goro-build" -DCMAKE_BUILD_TYPE=Release -DGORO_BUILD_TESTS=OFF -DGORO_BUILD_DEMO=OFF \
    -DGORO_INSTALL=OFF >&2 && cmake --build "$out/goro-build" --target bench_http_hello -j "$(nproc)" >&2 &&
    cp "$out/goro-build/bench/http_hello" "$out/bin/goro" || { echo "http.sh: goro build failed" >&2; exit 1; }
  "$shared/peers/go/build.sh" "$out/go-bin" >&2 && cp "$out/go-bin/http_hello" "$out/bin/go" ||
    { echo "http.sh: Go build failed" >&2; exit 1; }
fi

port=18431
start_server() {  # peer -> sets pid
  "$out/bin/$1" "$port" >"$out/logs/$1-server.txt" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "http.sh: $1 did not start" >&2
  return 1
}
stop_server() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
to_us() {
  awk -v x="$1" 'BEGIN{ v=x+0; if (x ~ /us$/) f=1; else if (x ~ /ms$/) f=1000; else if (x ~ /s$/) f=1000000; else f=1; printf "%.1f", v*f }'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime+stime, clock ticks
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }

: >"$out/raw.txt"
for r in $(seq "$RUNS"); do
  for peer in goro go; do
    for c in 64 1000; do
      start_server "$peer" || continue
      log="$out/logs/$peer-c$c-$r.txt"
      t0="$(cpu_ticks "$pid")"
      TIMEFORMAT="%U %S %R"
      { time wrk -t1 -c"$c" -d"${DURATION}s" --latency "http://127.0.0.1:$port/" >"$log" 2>&1; } 2>"$log.time"
      t1="$(cpu_ticks "$pid")"
      stop_server
      rps="$(awk '/^Requests\/sec:/{print $2}' "$log")"
      p50="$(awk '$1=="50%"{print $2}' "$log")"
      p99="$(awk '$1=="99%"{print $2}' "$log")"
      if [ -z "$rps" ] || grep -q "Non-2xx" "$log"; then echo "$peer c$c failed" >>"$out/raw.txt"; continue; fi
      echo "$peer c$c rps $rps" >>"$out/raw.txt"
      echo "$peer c$c p50 $(to_us "$p50")" >>"$out/raw.txt"
      echo "$peer c$c p99 $(to_us "$p99")" >>"$out/raw.txt"
      reqs="$(awk '/requests in/{print $1}' "$log")"
      hz="$(getconf CLK_TCK)"
      echo "$peer c$c cpu_us_per_req $(awk -v a="$t0" -v b="$t1" -v n="$reqs" -v hz="$hz" 'BEGIN{printf "%.2f", (b-a)/hz*1e6/n}')" >>"$out/raw.txt"
      echo "$peer c$c wrk_cores $(awk '{printf "%.2f", ($1+$2)/$3}' "$log.time")" >>"$out/raw.txt"
    done
    # Idle keep-alive connections: RSS before and after IDLE of them.
    start_server "$peer" || continue
    before="$(rss_kb "$pid")"
    python3 - "$port" "$IDLE" "$pid" >"$out/logs/$peer-idle-$r.txt" 2>&1 <<'PY'
import socket, sys, resource, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    socks.append(s)
for s in socks:
    d = b''
    while b'Hello, World!' not in d:
        d += s.recv(4096)
time.sleep(1)
rss = [l.split()[1] for l in open('/proc/%s/status' % pid) if l.startswith('VmRSS:')][0]
print('rss_kb', rss)
PY
    after="$(awk '/^rss_kb/{print $2}' "$out/logs/$peer-idle-$r.txt")"
    stop_server
    if [ -n "$after" ]; then
      echo "$peer idle bytes_per_conn $(( (after - before) * 1024 / IDLE ))" >>"$out/raw.txt"
    else
      echo "$peer idle failed" >>"$out/raw.txt"
    fi
  done
done

median() { sort -g | awk '{a[NR]=$1} END{ if (NR==0) {print "-"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%g (%g–%g)", m, a[1], a[NR] }'; }
val() { awk -v p="$1" -v k="$2" -v m="$3" '$1==p && $2==k && $3==m {print $4}' "$out/raw.txt" | median; }
num() { awk -v p="$1" -v k="$2" -v m="$3" '$1==p && $2==k && $3==m {print $4}' "$out/raw.txt" | sort -g | awk '{a[NR]=$1} END{ if (NR==0) {print ""; exit} print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a=="" || b=="" || b==0) print "-"; else printf "%.2f", a/b }'; }
{
  echo "<!-- bench/http.sh: RUNS=$RUNS DURATION=${DURATION}s IDLE=$IDLE; goro $(git -C "$repo" describe --always --dirty 2>/dev/null); $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) vCPU -->"
  echo "| measure | goro | Go | goro/Go |"
  echo "|---|---|---|---|"
  for c in 64 1000; do
    echo "| requests/s, $c conns | $(val goro c$c rps) | $(val go c$c rps) | $(ratio "$(num goro c$c rps)" "$(num go c$c rps)") |"
    echo "| p50 µs, $c conns | $(val goro c$c p50) | $(val go c$c p50) | $(ratio "$(num goro c$c p50)" "$(num go c$c p50)") |"
    echo "| p99 µs, $c conns | $(val goro c$c p99) | $(val go c$c p99) | $(ratio "$(num goro c$c p99)" "$(num go c$c p99)") |"
    echo "| server CPU µs per request, $c conns | $(val goro c$c cpu_us_per_req) | $(val go c$c cpu_us_per_req) | $(ratio "$(num goro c$c cpu_us_per_req)" "$(num go c$c cpu_us_per_req)") |"
    echo "| wrk's CPU (cores; 1.00 = wrk saturated), $c conns | $(val goro c$c wrk_cores) | $(val go c$c wrk_cores) | |"
  done
  echo "| RSS bytes per idle keep-alive conn ($IDLE) | $(val goro idle bytes_per_conn) | $(val go idle bytes_per_conn) | $(ratio "$(num goro idle bytes_per_conn)" "$(num go idle bytes_per_conn)") |"
} >"$out/table.md"
cat "$out/table.md"
