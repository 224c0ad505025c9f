// bench/common.hpp — helpers shared by goro's workload programs.
//
// Each program implements one workload of shared/peers/WORKLOADS.md, with the
// same rules as the Go and Boost.Fiber peers: optional first argument N, one
// result line `<workload> <value> <unit>` on stdout, extra lines starting
// with '#', the result verified (exit non-zero without a result line when it
// is wrong), a steady_clock timed region that excludes runtime set-up and
// tear-down.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace bench {

using clock_type = std::chrono::steady_clock;

// The workload's N: the first argument if it is a positive integer, else def.
inline long long arg_n(int argc, char** argv, long long def) {
  if (argc > 1) {
    char* end = nullptr;
    long long v = std::strtoll(argv[1], &end, 10);
    if (end != argv[1] && *end == '\0' && v > 0) return v;
  }
  return def;
}

inline double ns_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
}

// VmRSS from /proc/self/status, in bytes (-1 on failure).
inline long long vm_rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoll(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return -1;
}

// Reports a wrong result on stderr; the caller then exits non-zero without
// printing its result line.
[[nodiscard]] inline int fail(const char* workload, const char* what) {
  std::fprintf(stderr, "%s: wrong result: %s\n", workload, what);
  return 1;
}

}  // namespace bench
