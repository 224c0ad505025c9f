#!/usr/bin/env bash
# scripts/demo.sh — installs what is missing, builds goro with the release
# preset and runs the main demo (build/release/demo/goro-demo).
# Arguments are passed to the demo.
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
exec "$demo" "$@"
