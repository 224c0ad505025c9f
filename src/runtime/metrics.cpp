// metrics.cpp — goro::read_metrics (goro/metrics.hpp) and the sampling of
// scheduler latency.
//
// Scheduler latency, as Go's /sched/latencies:seconds: casgstatus stamps
// every kTrackPeriod-th wake-up or spawn of a goroutine (not its own yields
// or preemptions) with nanotime() (a per-G counter decides, so the hot path
// pays an increment and a branch), and the transition runnable → running
// that follows records
// the wait in the running M's P: a histogram of power-of-two buckets from
// 1 µs, written by the P's holder only (relaxed loads and stores, no
// read-modify-write) and summed over every P by a reader. The P is reached
// through current_m(): the recording runs on the M that starts the
// goroutine, which holds a P.
//
// The rest is read where it lives: goroutine counts from the Ps' created and
// exited counters, run-queue lengths from the rings (head and tail, plus
// runnext) and the global queue's size, stack bytes from the registry of G
// descriptors (under allg_lock) and the pool, timers from the heaps,
// poller waiters and blocking calls from the scheduler's counters.
#include <bit>
#include <cmath>

#include "goro/introspect.hpp"
#include "goro/metrics.hpp"
#include "goro/runtime.hpp"
#include "runtime/sched.hpp"

namespace goro::rt {

static_assert(kLatBuckets == sched_latency_histogram::kBuckets);

void sched_latency_record(G* g) noexcept {
  std::int64_t wait = nanotime() - g->runnable_since;
  g->runnable_since = 0;
  M* m = current_m();
  P* p = m ? m->p : nullptr;
  if (!p || wait < 0) return;
  auto ns = static_cast<std::uint64_t>(wait);
  int b = static_cast<int>(std::bit_width(ns == 0 ? 0 : (ns - 1) / 1000));
  if (b > kLatBuckets - 1) b = kLatBuckets - 1;
  p->lat_counts[b].store(p->lat_counts[b].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  p->lat_sum_ns.store(p->lat_sum_ns.load(std::memory_order_relaxed) + ns, std::memory_order_relaxed);
}

}  // namespace goro::rt

namespace goro {

double sched_latency_histogram::upper_bound(int i) noexcept {
  if (i >= kBuckets - 1) return HUGE_VAL;
  return 1e-6 * static_cast<double>(std::uint64_t{1} << i);
}

double sched_latency_histogram::quantile(double q) const noexcept {
  if (count == 0) return 0;
  auto want = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count)));
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts[static_cast<std::size_t>(i)];
    if (seen >= want && seen != 0) return upper_bound(i);
  }
  return upper_bound(kBuckets - 1);
}

metrics read_metrics() {
  using namespace rt;
  metrics m;
  if (!sched.running.load(std::memory_order_acquire)) return m;
  m.goroutines = num_goroutine();
  m.processors = sched.nprocs.load(std::memory_order_relaxed);
  m.global_run_queue = sched.runq_size.load(std::memory_order_relaxed);
  m.runnable = m.global_run_queue;
  std::uint64_t created = static_cast<std::uint64_t>(sched.extra_created.load(std::memory_order_relaxed));
  {
    LockGuard l(sched.lock);  // Ps are made under it
    m.threads = static_cast<std::int64_t>(sched.allm.size());
    for (P* p : sched.allp) {
      if (!p) continue;
      created += static_cast<std::uint64_t>(p->created.load(std::memory_order_relaxed));
      for (int i = 0; i < kLatBuckets; ++i)
        m.sched_latency.counts[static_cast<std::size_t>(i)] += p->lat_counts[i].load(std::memory_order_relaxed);
      m.sched_latency.sum_seconds += static_cast<double>(p->lat_sum_ns.load(std::memory_order_relaxed)) * 1e-9;
      if (p->id >= m.processors) continue;  // spare and retired Ps hold no queue of their own
      std::uint32_t h = p->runq_head.load(std::memory_order_acquire);
      std::uint32_t t = p->runq_tail.load(std::memory_order_acquire);
      std::int64_t n = static_cast<std::int32_t>(t - h);
      if (n < 0) n = 0;
      if (p->runnext.load(std::memory_order_relaxed)) ++n;
      m.run_queues.push_back(n);
      m.runnable += n;
    }
  }
  m.goroutines_created = created;
  for (std::uint64_t c : m.sched_latency.counts) m.sched_latency.count += c;
  {
    LockGuard l(sched.allg_lock);
    for (G* g = sched.allg; g; g = g->allnext) {
      GStatus st = g->status.load(std::memory_order_acquire);
      if (st != GStatus::dead && st != GStatus::idle && g->stack_lo) m.stack_bytes_in_use += g->stack_size;
    }
  }
  stacks_pool_bytes(&m.stack_bytes_pooled, &m.stack_bytes_released);
  m.timers_pending = static_cast<std::int64_t>(introspect::pending_timers());
  m.poller_waiters = sched.npollwait.load(std::memory_order_relaxed);
  m.blocking_calls = sched.nexternal.load(std::memory_order_relaxed);
  return m;
}

}  // namespace goro
