// false_sharing — padded vs unpadded atomic counters. Seed 002, "False
// Sharing": "When goroutines access adjacent memory locations, CPU cache
// lines bounce between cores":
//
//   type Counters struct {
//       a int64 // These are likely on the same cache line
//       b int64
//   }
//   var c Counters
//   // Two goroutines incrementing different fields
//   // but causing cache line contention
//   go func() {
//       for i := 0; i < 1e8; i++ {
//           atomic.AddInt64(&c.a, 1)
//       }
//   }()
//   go func() {
//       for i := 0; i < 1e8; i++ {
//           atomic.AddInt64(&c.b, 1)
//       }
//   }()
//
//   // Fix: Pad to separate cache lines:
//   type Counters struct {
//       a int64
//       _ [56]byte // Padding to push b to next cache line
//       b int64
//   }
//
// Each goroutine adds 1e6 times instead of 1e8, best of three runs (1e5 with
// GORO_DEMO_SCALE=small). The difference shows only when the two goroutines
// run in parallel (GOMAXPROCS >= 2, on two cores).
#include <goro/goro.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "demo.hpp"

namespace {

struct Counters {
  std::atomic<std::int64_t> a;  // These are likely on the same cache line
  std::atomic<std::int64_t> b;
};

struct PaddedCounters {
  std::atomic<std::int64_t> a;
  char _[56];  // Padding to push b to next cache line
  std::atomic<std::int64_t> b;
};

// Two goroutines incrementing different fields; returns the time in ms.
template <class C>
double race_to(C& c, std::int64_t n) {
  const auto t0 = std::chrono::steady_clock::now();
  goro::wait_group wg;
  wg.add(2);
  goro::go([&] {
    for (std::int64_t i = 0; i < n; i++) c.a.fetch_add(1);
    wg.done();
  });
  goro::go([&] {
    for (std::int64_t i = 0; i < n; i++) c.b.fetch_add(1);
    wg.done();
  });
  wg.wait();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

bool demo::false_sharing_main() {
  const std::int64_t n = small_scale() ? 100000 : 1000000;
  static Counters c{};
  static PaddedCounters p{};

  // Best of three: a busy machine makes single runs noisy.
  double shared_ms = 1e300, padded_ms = 1e300;
  for (int round = 0; round < 3; round++) {
    c.a = c.b = 0;
    p.a = p.b = 0;
    shared_ms = std::min(shared_ms, race_to(c, n));
    padded_ms = std::min(padded_ms, race_to(p, n));
  }
  std::printf("same cache line:      %7.1f ms\n", shared_ms);
  std::printf("padded (64 bytes on): %7.1f ms  (%.1fx)\n", padded_ms, shared_ms / padded_ms);

  return check(c.a == n && c.b == n && p.a == n && p.b == n, "all four counters reached %lld",
               static_cast<long long>(n));
}
