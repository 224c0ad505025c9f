// goro/metrics.hpp — what a service owner watches (Go's runtime/metrics),
// read in one call:
//
//   goro::metrics m = goro::read_metrics();
//   log("goroutines=%lld p99 wait=%g s", m.goroutines, m.sched_latency.quantile(0.99));
//
// goro::http::metrics_handler() serves the same in Prometheus' text format.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace goro {

// How long goroutines waited between becoming runnable (spawned or woken)
// and starting to run — Go's /sched/latencies:seconds, without a running
// goroutine's own yields and preemptions. Sampled: one wake-up or spawn in
// 32 of each goroutine is timed.
struct sched_latency_histogram {
  static constexpr int kBuckets = 22;
  // Bucket i counts waits of at most upper_bound(i) seconds and more than
  // upper_bound(i - 1): 1 µs · 2^i for i < kBuckets - 1 (1 µs to about 1 s),
  // then +infinity. Not cumulative.
  std::array<std::uint64_t, kBuckets> counts{};
  std::uint64_t count = 0;   // samples
  double sum_seconds = 0;    // their total wait
  static double upper_bound(int i) noexcept;
  // The upper bound of the bucket holding quantile q (0 < q <= 1); 0 without samples.
  double quantile(double q) const noexcept;
};

struct metrics {
  std::int64_t goroutines = 0;              // alive now (goro::num_goroutine())
  std::uint64_t goroutines_created = 0;     // since run() began
  int processors = 0;                       // GOMAXPROCS
  std::int64_t threads = 0;                 // OS threads the runtime started (Ms), run()'s caller included
  std::int64_t runnable = 0;                // goroutines waiting in run queues
  std::int64_t global_run_queue = 0;        // of which in the global queue
  std::vector<std::int64_t> run_queues;     // of which in each processor's queue
  std::uint64_t stack_bytes_in_use = 0;     // stack reservations of living goroutines
  std::uint64_t stack_bytes_pooled = 0;     // free stacks kept warm in the shared pool
  std::uint64_t stack_bytes_released = 0;   // free stacks whose pages were given back
  std::int64_t timers_pending = 0;          // timers, sleeps and deadlines in the heaps
  std::int64_t poller_waiters = 0;          // goroutines parked on the network poller
  std::int64_t blocking_calls = 0;          // goro::blocking calls in flight
  sched_latency_histogram sched_latency;    // since run() began
};

// A snapshot; all zero when no runtime runs. Costs a walk of the goroutine
// registry (stack bytes): milliseconds for a million goroutines.
metrics read_metrics();

}  // namespace goro
