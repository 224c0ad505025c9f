#!/usr/bin/env bash
# scripts/demo.sh — installs what is missing, builds goro with the release
# preset and runs the main demo (build/release/demo/goro-demo): every Go
# program of the seeds, then the seeds' headline program — the HTTP server
# with a worker pool and graceful shutdown (goro-demo --serve) — driven by
# curl: two requests, a slow one left in flight, then SIGINT; the slow one
# still gets its whole answer and the server reports a clean shutdown.
# With arguments, runs only goro-demo with them (goro-demo --list).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/deps.sh
cmake --preset release
cmake --build --preset release -j"$(nproc)"

demo=build/release/demo/goro-demo
if [[ ! -x "$demo" ]]; then
  echo "demo.sh: $demo was not built (does demo/CMakeLists.txt define the goro-demo target?)" >&2
  exit 1
fi
if [[ $# -gt 0 ]]; then
  exec "$demo" "$@"
fi

"$demo"

echo
echo "== the seeds' web server with graceful shutdown (goro-demo --serve), driven by curl =="
log=$(mktemp)
slow=$(mktemp)
trap 'rm -f "$log" "$slow"' EXIT
"$demo" --serve 127.0.0.1:0 >"$log" 2>&1 &
server=$!
addr=
for _ in $(seq 200); do
  addr=$(sed -n 's/.*listening on \(.*\)$/\1/p' "$log" | head -1)
  [[ -n "$addr" ]] && break
  sleep 0.05
done
if [[ -z "$addr" ]]; then
  echo "demo.sh: the server did not start:" >&2
  cat "$log" >&2
  kill "$server" 2>/dev/null || true
  exit 1
fi
echo "\$ curl -s http://$addr/"
curl -s "http://$addr/"
echo
echo "\$ curl -si http://$addr/hello"
curl -si "http://$addr/hello"
echo
echo "\$ curl -s http://$addr/slow &    # still in flight when SIGINT comes"
curl -s "http://$addr/slow" >"$slow" &
client=$!
for _ in $(seq 200); do
  grep -q "request in flight" "$log" && break
  sleep 0.05
done
echo "\$ kill -INT $server              # Ctrl+C"
kill -INT "$server"
wait "$client" || true
status=0
wait "$server" || status=$?
echo "curl /slow got: $(cat "$slow")"
echo "-- the server's output:"
cat "$log"
if [[ $status -ne 0 ]] || ! grep -q "Clean shutdown completed!" "$log" ||
   ! grep -q "Slow request finished in full" "$slow"; then
  echo "== the web server demo FAILED (exit status $status) =="
  exit 1
fi
echo "== the web server served, let its last request finish, and shut down cleanly =="
