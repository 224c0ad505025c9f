// pollfd.cpp — waiting on a PollDesc (the slot protocol of netpoll.hpp),
// deadlines and eviction on close.
#include <cerrno>
#include <cstdint>

#include "goro/errc.hpp"
#include "net/netpoll.hpp"

namespace goro::rt {

namespace {

std::atomic<std::uintptr_t>& slot(PollDesc* pd, PollMode mode) { return mode == PollMode::read ? pd->rg : pd->wg; }

bool expired(PollDesc* pd, PollMode mode) {
  std::int64_t d = (mode == PollMode::read ? pd->rd : pd->wd).load(std::memory_order_acquire);
  return d < 0 || (d > 0 && d <= nanotime());
}

struct ParkOn {
  PollDesc* pd;
  PollMode mode;
};

// Teardown hook of a goroutine discarded while parked on a PollDesc slot:
// takes it out of the slot (if it is still there), so that closing a socket
// that outlives run(), or an event on it in a later run, does not ready a
// recycled G. PollDescs are never freed, so the slot is always there.
void poll_unlink(G* g) {
  auto* s = static_cast<std::atomic<std::uintptr_t>*>(g->wait_obj);
  auto me = reinterpret_cast<std::uintptr_t>(g);
  s->compare_exchange_strong(me, 0, std::memory_order_acq_rel);
}

// park's unlock function: publish ourselves in the slot unless readiness
// (or an eviction) got there first.
bool commit_wait(G* g, void* a) {
  auto* po = static_cast<ParkOn*>(a);
  std::uintptr_t w = kPdWait;
  auto& s = slot(po->pd, po->mode);
  g->wait_obj = &s;  // (set before the G can be seen in the slot)
  g->unlink = &poll_unlink;
  sched.npollwait.fetch_add(1, std::memory_order_acq_rel);
  if (s.compare_exchange_strong(w, reinterpret_cast<std::uintptr_t>(g), std::memory_order_acq_rel)) return true;
  g->unlink = nullptr;
  // Readiness or a wake-up arrived meanwhile: don't sleep.
  sched.npollwait.fetch_sub(1, std::memory_order_acq_rel);
  return false;
}

Lock free_lock{LockRank::poll_free};
PollDesc* free_list GORO_GUARDED_BY(free_lock) = nullptr;

void deadline_fired(Timer* t, std::uint64_t) {
  auto* pd = static_cast<PollDesc*>(t->arg);
  PollMode mode = (t == &pd->read_timer) ? PollMode::read : PollMode::write;
  if (G* g = poll_unblock(pd, mode, false)) ready(g);
}

}  // namespace

PollDesc* poll_alloc() {
  {
    LockGuard l(free_lock);
    if (PollDesc* pd = free_list) {
      free_list = pd->link;
      return pd;
    }
  }
  return new PollDesc;
}

void poll_free(PollDesc* pd) noexcept {
  pd->fd = -1;
  pd->rg.store(0, std::memory_order_relaxed);
  pd->wg.store(0, std::memory_order_relaxed);
  pd->closing.store(false, std::memory_order_relaxed);
  pd->hup.store(false, std::memory_order_relaxed);
  pd->rd.store(0, std::memory_order_relaxed);
  pd->wd.store(0, std::memory_order_relaxed);
  LockGuard l(free_lock);
  pd->link = free_list;
  free_list = pd;
}

int poll_wait(PollDesc* pd, PollMode mode) {
  auto& s = slot(pd, mode);
  for (;;) {
    std::uintptr_t r = kPdReady;
    // seq_cst, as poll_unblock's load and the poller's store of hup: a
    // reader that consumed a token sees every hup stored before an event
    // that found the token still there (DESIGN §9, "Short reads").
    if (s.compare_exchange_strong(r, 0, std::memory_order_seq_cst)) return 0;
    if (pd->closing.load(std::memory_order_acquire)) return static_cast<int>(errc::closed);
    if (expired(pd, mode)) return static_cast<int>(errc::deadline_exceeded);
    if (!current_g()) return -1;  // a plain thread: the caller poll(2)s
    std::uintptr_t z = 0;
    if (!s.compare_exchange_strong(z, kPdWait, std::memory_order_acq_rel)) continue;  // became ready
    std::atomic_thread_fence(std::memory_order_seq_cst);  // (pairs with poll_set_deadline's and poll_evict's)
    if (pd->closing.load(std::memory_order_acquire) || expired(pd, mode)) {
      std::uintptr_t w = kPdWait;
      s.compare_exchange_strong(w, 0, std::memory_order_acq_rel);
      continue;  // report the error at the top
    }
    ParkOn po{pd, mode};
    park(WaitReason::io_wait, &commit_wait, &po);
  }
}

G* poll_unblock(PollDesc* pd, PollMode mode, bool io_ready) noexcept {
  auto& s = slot(pd, mode);
  std::uintptr_t old = s.load(std::memory_order_seq_cst);  // (see poll_wait)
  for (;;) {
    if (old == kPdReady) return nullptr;
    if (old == 0 && !io_ready) return nullptr;
    // Readiness leaves a token; a deadline or close just wakes the waiter.
    std::uintptr_t nw = io_ready ? kPdReady : 0;
    if (s.compare_exchange_weak(old, nw, std::memory_order_acq_rel)) break;
  }
  if (old > kPdWait) {
    // The last I/O waiter gone: a sleeper waiting only for I/O must
    // recompute (it may now sleep for good and let the deadlock check run).
    if (sched.npollwait.fetch_sub(1, std::memory_order_acq_rel) == 1 &&
        sched.sleep_until.load(std::memory_order_relaxed) == INT64_MAX)
      netpoll_break();
    return reinterpret_cast<G*>(old);
  }
  return nullptr;  // nobody, or a waiter whose commit will now fail
}

void poll_set_deadline(PollDesc* pd, std::int64_t when, PollMode mode) {
  LockGuard l(pd->lock);
  for (PollMode m : {PollMode::read, PollMode::write}) {
    if (mode != PollMode::both && mode != m) continue;
    Timer& t = m == PollMode::read ? pd->read_timer : pd->write_timer;
    timer_del(&t);
    (m == PollMode::read ? pd->rd : pd->wd).store(when, std::memory_order_release);
    if (when > 0) {
      t.f = &deadline_fired;
      t.arg = pd;
      timer_add(&t, when);
    }
    // An already-passed deadline wakes the current waiter now. The fence
    // orders the deadline's store before the slot's load, as poll_wait's
    // orders its claim of the slot before its deadline check: of a waiter
    // claiming the slot and this call, at least one sees the other (without
    // it, x86 may let this load pass the store: both miss, and the waiter
    // sleeps past its deadline for good). A future deadline loads no slot
    // here (its timer does, later), so it needs no fence.
    if (when < 0 || (when > 0 && when <= nanotime())) {
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (G* g = poll_unblock(pd, m, false)) ready(g);
    }
  }
}

void poll_evict(PollDesc* pd) noexcept {
  pd->closing.store(true, std::memory_order_release);
  std::atomic_thread_fence(std::memory_order_seq_cst);  // closing before the slots' loads (see above)
  {
    LockGuard l(pd->lock);
    timer_del(&pd->read_timer);
    timer_del(&pd->write_timer);
  }
  if (G* g = poll_unblock(pd, PollMode::read, false)) ready(g);
  if (G* g = poll_unblock(pd, PollMode::write, false)) ready(g);
}

}  // namespace goro::rt
