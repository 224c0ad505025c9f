// metrics.cpp — goro::read_metrics (goro/metrics.hpp).
//
// Everything is read where it lives: goroutine counts from the Ps' created
// and exited counters, run-queue lengths from the rings (tail - head, plus
// runnext) and the global queue's size, stack bytes from the registry of G
// descriptors (under allg_lock) and the pool, timers from the heaps, poller
// waiters and blocking calls from the scheduler's counters.
//
// Scheduler latency, as Go's runtime measures it (casgstatus: trackingSeq,
// runnableTime): every 16th transition of a G to runnable (Go: 8th) stamps
// G::runnable_since; the transition to running that follows counts
// now - runnable_since in the bucket array of the P that runs it (only its
// holder writes it). On, it costs yield ~3.5 ns of 22 and pingpong_p1 ~8 of
// 116 (the clock reads, mostly: DESIGN §15), so it starts with the first
// read_metrics() of the process (latency_on); until then casgstatus pays
// one relaxed load, at the transitions into and out of runnable only.
#include "goro/introspect.hpp"
#include "goro/metrics.hpp"
#include "goro/runtime.hpp"
#include "runtime/sched.hpp"

namespace goro::rt {

std::atomic<bool> latency_on{false};

void latency_stamp(G* g) noexcept { g->runnable_since = nanotime(); }

void latency_record(G* g) noexcept {
  std::int64_t since = g->runnable_since;
  g->runnable_since = 0;
  M* m = current_m();
  P* p = m ? m->p : nullptr;
  if (!p) return;
  std::int64_t d = nanotime() - since;
  if (d < 0) d = 0;
  int i = 0;
  while (i < kLatencyBuckets - 1 && d > kLatencyBounds[i]) ++i;
  auto bump = [](std::atomic<std::uint64_t>& c, std::uint64_t by) {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  };
  bump(p->latency_counts[i], 1);
  bump(p->latency_sum_ns, static_cast<std::uint64_t>(d));
}

}  // namespace goro::rt

namespace goro {

metrics read_metrics() {
  using namespace rt;
  metrics m;
  // (Stored once: casgstatus reads this line at every transition.)
  if (!latency_on.load(std::memory_order_relaxed)) latency_on.store(true, std::memory_order_relaxed);
  m.sched_latency.bounds.reserve(kLatencyBuckets - 1);
  for (std::int64_t b : kLatencyBounds) m.sched_latency.bounds.push_back(static_cast<double>(b) / 1e9);
  m.sched_latency.counts.assign(kLatencyBuckets, 0);
  if (!sched.running.load(std::memory_order_acquire)) return m;
  m.goroutines = num_goroutine();
  m.processors = sched.nprocs.load(std::memory_order_relaxed);
  m.global_run_queue = sched.runq_size.load(std::memory_order_relaxed);
  m.runnable = m.global_run_queue;
  std::uint64_t created = static_cast<std::uint64_t>(sched.extra_created.load(std::memory_order_relaxed));
  {
    LockGuard l(sched.lock);  // Ps are made under it
    m.threads = static_cast<std::int64_t>(sched.allm.size());
    std::uint64_t sum_ns = 0;
    for (P* p : sched.allp) {
      if (!p) continue;
      created += static_cast<std::uint64_t>(p->created.load(std::memory_order_relaxed));
      for (int i = 0; i < kLatencyBuckets; ++i) {
        std::uint64_t c = p->latency_counts[i].load(std::memory_order_relaxed);
        m.sched_latency.counts[static_cast<std::size_t>(i)] += c;
        m.sched_latency.count += c;
      }
      sum_ns += p->latency_sum_ns.load(std::memory_order_relaxed);
      const std::int64_t n = runq_length(p);
      // A spare P lent by sysmon holds what it stole from a busy P, and a P
      // beyond a shrunk GOMAXPROCS what it had until it retires: runnable,
      // but not one of the GOMAXPROCS queues.
      if (!p->spare && p->id < m.processors) m.run_queues.push_back(n);
      m.runnable += n;
    }
    m.sched_latency.sum = static_cast<double>(sum_ns) / 1e9;
  }
  m.goroutines_created = created;
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
