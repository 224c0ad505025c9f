#!/usr/bin/env bash
# scripts/deps.sh — installs the Debian 12 packages that goro's build, tests,
# benchmarks and demo need. Installs only what is missing, so it costs a few
# dpkg queries when everything is there. Uses sudo only when not root.
#
#   GORO_SKIP_DEPS=1   skip this script entirely (you manage the packages).
set -euo pipefail

if [[ "${GORO_SKIP_DEPS:-0}" == 1 ]]; then
  exit 0
fi

packages=(
  cmake make ninja-build g++           # build
  libgtest-dev libgmock-dev            # tests
  libbenchmark-dev                     # bench/
  clang libclang-rt-14-dev             # Clang 14 builds, its sanitizer runtimes
  clang-format-14                      # the style check (scripts/check-format.sh, ctest's style_clang_format)
  llvm                                 # llvm-symbolizer: Clang's TSan/ASan reports name functions and lines
                                       # (clang installed without its recommends lacks it)
  libdw-dev                            # stack symbolization in goroutine dumps
  zlib1g-dev                           # gzips the pprof profiles
  g++-aarch64-linux-gnu                # aarch64 cross-compile check
  qemu-user                            # runs the aarch64 consumer (qemu-aarch64)
  curl wrk python3                     # goro::http's tests drive the server with real clients
  golang-go                            # go tool pprof reads the goroutine and CPU profiles; the Go peers
  node-llhttp python3-h11              # the HTTP parser's differential test (llhttp's C sources, h11)
  gnuplot-nox                          # bench/soak draws its samples (RSS, descriptors, goroutines) as a PNG
  python3-prometheus-client            # parses metrics_handler's Prometheus exposition in a test
)

missing=()
for p in "${packages[@]}"; do
  # dpkg -s succeeds for removed-but-not-purged packages too: read the status.
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed$'; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "deps: not root and no sudo: install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
