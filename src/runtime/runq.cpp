// runq.cpp — per-P run queues and the global run queue.
//
// A P's local queue is a 256-slot ring. Only the owner pushes (stores the
// slot, then publishes with a release store of tail); the owner and thieves
// pop by CAS on head, after reading the slot. A slot is reused only after
// head has moved past it, so a thief that loses the CAS never uses what it
// read. `runnext` holds the goroutine readied most recently by the running
// one: it runs next, so a pair that hands values back and forth stays on
// one P (the waker's time slice is inherited). Thieves take runnext only
// when told to (the last, most desperate rounds of stealing).
#include <cstdint>

#include "runtime/sched.hpp"

namespace goro::rt {

namespace {

// Moves half of the local queue plus g to the global queue (local is full).
bool runqputslow(P* p, G* g, std::uint32_t h, std::uint32_t t) noexcept {
  constexpr std::uint32_t n = kRunqSize / 2;
  G* batch[n + 1];
  for (std::uint32_t i = 0; i < n; ++i) batch[i] = p->runq[(h + i) % kRunqSize].load(std::memory_order_relaxed);
  if (!p->runq_head.compare_exchange_strong(h, h + n, std::memory_order_release, std::memory_order_relaxed))
    return false;
  (void)t;
  batch[n] = g;
  for (std::uint32_t i = 0; i < n; ++i) batch[i]->schedlink = batch[i + 1];
  g->schedlink = nullptr;
  LockGuard l(sched.lock);
  globrunqput_batch(batch[0], g, n + 1);
  return true;
}

}  // namespace

void runqput(P* p, G* g, bool next) noexcept {
  GORO_DCHECK_THAT(g->status.load(std::memory_order_relaxed) == GStatus::runnable, "runqput: a goroutine not runnable");
  if (next) {
    g = p->runnext.exchange(g, std::memory_order_acq_rel);
    if (!g) return;
  }
  for (;;) {
    std::uint32_t h = p->runq_head.load(std::memory_order_acquire);
    std::uint32_t t = p->runq_tail.load(std::memory_order_relaxed);
    GORO_DCHECK_THAT(t - h <= kRunqSize, "runqput: ring holds more than kRunqSize");
    if (t - h < kRunqSize) {
      p->runq[t % kRunqSize].store(g, std::memory_order_relaxed);
      p->runq_tail.store(t + 1, std::memory_order_release);
      return;
    }
    if (runqputslow(p, g, h, t)) return;
  }
}

G* runqget(P* p, bool* inherit) noexcept {
  if (p->runnext.load(std::memory_order_relaxed)) {
    if (G* g = p->runnext.exchange(nullptr, std::memory_order_acq_rel)) {
      if (inherit) *inherit = true;
      return g;
    }
  }
  if (inherit) *inherit = false;
  for (;;) {
    std::uint32_t h = p->runq_head.load(std::memory_order_acquire);
    std::uint32_t t = p->runq_tail.load(std::memory_order_relaxed);
    if (t == h) return nullptr;
    G* g = p->runq[h % kRunqSize].load(std::memory_order_relaxed);
    if (p->runq_head.compare_exchange_weak(h, h + 1, std::memory_order_release, std::memory_order_relaxed)) return g;
  }
}

std::int64_t runq_length(P* p) noexcept {
  auto n = static_cast<std::int32_t>(p->runq_tail.load(std::memory_order_acquire) -
                                     p->runq_head.load(std::memory_order_acquire));
  return (n > 0 ? n : 0) + (p->runnext.load(std::memory_order_relaxed) ? 1 : 0);
}

bool runq_empty(P* p) noexcept {
  return p->runq_head.load(std::memory_order_acquire) == p->runq_tail.load(std::memory_order_acquire) &&
         p->runnext.load(std::memory_order_acquire) == nullptr;
}

bool runq_ring_empty(P* p) noexcept {
  return p->runq_head.load(std::memory_order_acquire) == p->runq_tail.load(std::memory_order_acquire);
}

// Steals half of victim's queue into p's; returns one of the stolen Gs.
G* runqsteal(P* p, P* victim, bool steal_next) noexcept {
  G* batch[kRunqSize / 2];
  std::uint32_t n;
  for (;;) {
    std::uint32_t h = victim->runq_head.load(std::memory_order_acquire);
    std::uint32_t t = victim->runq_tail.load(std::memory_order_acquire);
    n = t - h;
    n -= n / 2;
    if (n == 0) {
      if (steal_next && victim->runnext.load(std::memory_order_relaxed)) {
        if (G* g = victim->runnext.exchange(nullptr, std::memory_order_acq_rel)) return g;
      }
      return nullptr;
    }
    if (n > kRunqSize / 2) continue;  // inconsistent h and t: retry
    for (std::uint32_t i = 0; i < n; ++i) batch[i] = victim->runq[(h + i) % kRunqSize].load(std::memory_order_relaxed);
    if (victim->runq_head.compare_exchange_strong(h, h + n, std::memory_order_acq_rel, std::memory_order_relaxed))
      break;
  }
  G* g = batch[--n];
  if (n == 0) return g;
  std::uint32_t t = p->runq_tail.load(std::memory_order_relaxed);
  GORO_DCHECK_THAT(t + n - p->runq_head.load(std::memory_order_relaxed) <= kRunqSize,
                   "runqsteal: the thief's ring has no room for the stolen half");
  for (std::uint32_t i = 0; i < n; ++i) p->runq[(t + i) % kRunqSize].store(batch[i], std::memory_order_relaxed);
  p->runq_tail.store(t + n, std::memory_order_release);
  return g;
}

void globrunqput_batch(G* head, G* tail, int n) noexcept {
#if defined(GORO_DCHECK)
  {
    int k = 0;
    for (G* x = head; x; x = x == tail ? nullptr : x->schedlink, ++k)
      GORO_DCHECK_THAT(x->status.load(std::memory_order_relaxed) == GStatus::runnable,
                       "globrunqput: a goroutine not runnable");
    GORO_DCHECK_THAT(k == n, "globrunqput_batch: n is not the length of head..tail");
  }
#endif
  tail->schedlink = nullptr;
  if (sched.runq_tail) sched.runq_tail->schedlink = head;
  else sched.runq_head = head;
  sched.runq_tail = tail;
  sched.runq_size.fetch_add(n, std::memory_order_release);
  GORO_DCHECK_THAT(sched.runq_size.load(std::memory_order_relaxed) > 0, "global queue size");
}

void globrunqput(G* g) noexcept {
  LockGuard l(sched.lock);
  globrunqput_batch(g, g, 1);
}

// Takes a fair share of the global queue (at most max) and puts all but the
// first into p's local queue.
G* globrunqget(P* p, int max) noexcept {
  std::int64_t size = sched.runq_size.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  int np = sched.nprocs.load(std::memory_order_relaxed);
  std::int64_t n = size / (np > 0 ? np : 1) + 1;
  if (n > size) n = size;
  if (n > max) n = max;
  if (n > static_cast<std::int64_t>(kRunqSize / 2)) n = kRunqSize / 2;
  sched.runq_size.fetch_sub(n, std::memory_order_relaxed);
  sched.runq_gets.fetch_add(1, std::memory_order_relaxed);
  G* g = sched.runq_head;
  sched.runq_head = g->schedlink;
  for (std::int64_t i = 1; i < n; ++i) {
    G* x = sched.runq_head;
    sched.runq_head = x->schedlink;
    runqput(p, x, /*next=*/false);
  }
  if (!sched.runq_head) sched.runq_tail = nullptr;
  GORO_DCHECK_THAT((sched.runq_head == nullptr) == (sched.runq_size.load(std::memory_order_relaxed) == 0),
                   "globrunqget: global queue list and size disagree");
  GORO_DCHECK_THAT(g->status.load(std::memory_order_relaxed) == GStatus::runnable,
                   "globrunqget: a goroutine not runnable");
  return g;
}

}  // namespace goro::rt
