// metrics.cpp — goro::read_metrics (goro/metrics.hpp).
//
// Everything is read where it lives: goroutine counts from the Ps' created
// and exited counters, run-queue lengths from the rings (tail - head, plus
// runnext) and the global queue's size, stack bytes from the registry of G
// descriptors (under allg_lock) and the pool, timers from the heaps, poller
// waiters and blocking calls from the scheduler's counters. Nothing is
// added to the scheduler's paths. (A sampled scheduler-latency histogram,
// stamped in casgstatus, cost pingpong_p1 2-4 ns of 117 and was left out:
// DESIGN §15.)
#include "goro/introspect.hpp"
#include "goro/metrics.hpp"
#include "goro/runtime.hpp"
#include "runtime/sched.hpp"

namespace goro {

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
