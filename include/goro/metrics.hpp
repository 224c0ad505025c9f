// goro/metrics.hpp — what a service owner watches (Go's runtime/metrics),
// read in one call:
//
//   goro::metrics m = goro::read_metrics();
//   log("goroutines=%lld runnable=%lld", m.goroutines, m.runnable);
//
// goro::http::metrics_handler() serves the same in Prometheus' text format.
#pragma once

#include <cstdint>
#include <vector>

namespace goro {

// A histogram: counts[i] samples fell in (bounds[i-1], bounds[i]]; the last
// count, one more than there are bounds, is above every bound.
struct metrics_histogram {
  std::vector<double> bounds;         // upper bounds, seconds, increasing
  std::vector<std::uint64_t> counts;  // bounds.size() + 1 buckets
  std::uint64_t count = 0;            // samples
  double sum = 0;                     // seconds, all samples together
};

struct metrics {
  std::int64_t goroutines = 0;             // alive now (goro::num_goroutine())
  std::uint64_t goroutines_created = 0;    // since run() began
  int processors = 0;                      // GOMAXPROCS
  std::int64_t threads = 0;                // OS threads the runtime started (Ms), run()'s caller included
  std::int64_t runnable = 0;               // goroutines waiting in run queues (a lent spare processor's too)
  std::int64_t global_run_queue = 0;       // of which in the global queue
  std::vector<std::int64_t> run_queues;    // of which in each processor's queue
  std::uint64_t stack_bytes_in_use = 0;    // stack reservations of living goroutines
  std::uint64_t stack_bytes_pooled = 0;    // free stacks kept warm in the shared pool
  std::uint64_t stack_bytes_released = 0;  // free stacks whose pages were given back
  std::int64_t timers_pending = 0;         // timers, sleeps and deadlines in the heaps
  std::int64_t poller_waiters = 0;         // goroutines parked on the network poller
  std::int64_t blocking_calls = 0;         // goro::blocking calls in flight
  // Scheduler latency (Go's /sched/latencies:seconds): how long goroutines
  // waited runnable before they ran. Sampled (every 16th wait of each
  // goroutine; Go times every 8th), from the first read_metrics() call of
  // the process on, so a program that never reads metrics never pays for it.
  metrics_histogram sched_latency;
};

// A snapshot; all zero when no runtime runs. Costs a walk of the goroutine
// registry (stack bytes): milliseconds for a million goroutines. The first
// call starts the scheduler-latency sampling (its histogram is empty then).
metrics read_metrics();

}  // namespace goro
