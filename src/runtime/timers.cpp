// timers.cpp — per-P timer heaps (Go 1.14+ design).
//
// Each P has a 4-ary min-heap of pending timers, guarded by its
// timers_lock. A timer is added to the heap of the P that adds it, so
// goroutines on different Ps do not contend. Expired timers are run by
// whichever M holds the P (at scheduling points: switch_out, findrunnable)
// or by an M stealing work (it runs other Ps' expired timers too). When the
// runtime is idle, one M sleeps until the earliest timer of all Ps (the
// timer sleeper, sched.cpp); adding an earlier timer wakes it.
//
// A timer's callback runs outside every timer lock. t->seq is bumped by
// each del/mod under the lock of the heap that held it and handed to the
// callback as it was when the timer was popped, so a callback can tell that
// it was stopped or reset in the meantime (goro::timer's no-stale-value rule).
#include <algorithm>

#include "net/netpoll.hpp"
#include "runtime/sched.hpp"

namespace goro::rt {

namespace {

void set_idx(std::vector<Timer*>& h, std::size_t i) { h[i]->idx = static_cast<int>(i); }

// GORO_DCHECK: the heap order around slot i (its parent and its children),
// checked where a sift ends.
void heap_check([[maybe_unused]] const std::vector<Timer*>& h, [[maybe_unused]] std::size_t i) {
#if defined(GORO_DCHECK)
  GORO_DCHECK_THAT(h[i]->idx == static_cast<int>(i), "timer heap: idx out of date");
  if (i > 0) GORO_DCHECK_THAT(h[(i - 1) / 4]->when <= h[i]->when, "timer heap: parent later than child");
  for (std::size_t k = 4 * i + 1; k < 4 * i + 5 && k < h.size(); ++k)
    GORO_DCHECK_THAT(h[i]->when <= h[k]->when, "timer heap: child earlier than parent");
#endif
}

void sift_up(std::vector<Timer*>& h, std::size_t i) {
  Timer* t = h[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / 4;
    if (h[parent]->when <= t->when) break;
    h[i] = h[parent];
    set_idx(h, i);
    i = parent;
  }
  h[i] = t;
  set_idx(h, i);
  heap_check(h, i);
}

void sift_down(std::vector<Timer*>& h, std::size_t i) {
  Timer* t = h[i];
  std::size_t n = h.size();
  for (;;) {
    std::size_t c = 4 * i + 1;
    if (c >= n) break;
    std::size_t best = c;
    for (std::size_t k = c + 1; k < c + 4 && k < n; ++k)
      if (h[k]->when < h[best]->when) best = k;
    if (h[best]->when >= t->when) break;
    h[i] = h[best];
    set_idx(h, i);
    i = best;
  }
  h[i] = t;
  set_idx(h, i);
  heap_check(h, i);
}

void update_timer0(P* p) GORO_REQUIRES(p->timers_lock) {
  p->timer0_when.store(p->timers.empty() ? 0 : p->timers[0]->when, std::memory_order_release);
}

// Removes h[i].
void heap_remove(P* p, std::size_t i) GORO_REQUIRES(p->timers_lock) {
  auto& h = p->timers;
  Timer* t = h[i];
  Timer* last = h.back();
  h.pop_back();
  if (i < h.size()) {
    h[i] = last;
    set_idx(h, i);
    if (i > 0 && h[(i - 1) / 4]->when > last->when) sift_up(h, i);
    else sift_down(h, i);
  }
  t->idx = -1;
  t->p.store(nullptr, std::memory_order_relaxed);
}

// Locks the heap that holds t, if any; returns it (locked) or null. The
// analysis cannot express "returns p with p->timers_lock held": the caller
// says so with held_by_construction (thread_safety.hpp, escape 2).
P* lock_owner(Timer* t) GORO_NO_THREAD_SAFETY_ANALYSIS {
  for (;;) {
    P* p = t->p.load(std::memory_order_acquire);
    if (!p) return nullptr;
    p->timers_lock.lock();
    if (t->p.load(std::memory_order_relaxed) == p) return p;
    p->timers_lock.unlock();
  }
}

P* home_p() {
  M* m = current_m();
  if (m && m->p && !m->p->spare) return m->p;
  return sched.allp.empty() ? nullptr : sched.allp[0];
}

}  // namespace

void timer_add(Timer* t, std::int64_t when) {
  P* p = home_p();
  if (!p) fatal("timer used with no goro runtime running");
  if (when <= 0) when = 1;
  {
    LockGuard l(p->timers_lock);
    t->when = when;
    t->p.store(p, std::memory_order_release);
    p->timers.push_back(t);
    sift_up(p->timers, p->timers.size() - 1);
    update_timer0(p);
  }
  std::int64_t until = sched.sleep_until.load(std::memory_order_acquire);
  if (until == 0 || when < until) wake_timer_sleeper(when);
}

bool timer_del(Timer* t) {
  P* p = lock_owner(t);
  if (!p) {
    ++t->seq;
    return false;
  }
  held_by_construction(p->timers_lock);  // lock_owner
  heap_remove(p, static_cast<std::size_t>(t->idx));
  ++t->seq;
  update_timer0(p);
  p->timers_lock.unlock();
  // The idle sleeper may be waiting for exactly this timer: let it
  // recompute (it may have nothing left to wait for).
  if (sched.sleep_until.load(std::memory_order_acquire) == t->when) netpoll_break();
  return true;
}

bool timer_mod(Timer* t, std::int64_t when) {
  bool pending = timer_del(t);
  timer_add(t, when);
  return pending;
}

std::int64_t run_timers(P* p, std::int64_t now) {
  p->timers_lock.lock();
  while (!p->timers.empty() && p->timers[0]->when <= now) {
    Timer* t = p->timers[0];
    std::uint64_t seq = t->seq;
    bool periodic = t->period > 0;
    if (periodic) {
      // Periodic: next expiry after now, without drift.
      std::int64_t delta = t->when - now;
      t->when += t->period * (1 + (-delta) / t->period);
      sift_down(p->timers, 0);
      if (t->pin) t->pin(t);
    } else {
      if (t->counted) t->running.fetch_add(1, std::memory_order_relaxed);
      heap_remove(p, 0);
    }
    update_timer0(p);
    p->timers_lock.unlock();
    t->f(t, seq);  // a counted f ends `running` itself; a pinned one releases its pin
    p->timers_lock.lock();
  }
  std::int64_t next = p->timers.empty() ? 0 : p->timers[0]->when;
  p->timers_lock.unlock();
  return next;
}

std::int64_t next_timer_when() noexcept {
  std::int64_t next = 0;
  int np = sched.nprocs.load(std::memory_order_acquire);
  for (int i = 0; i < np; ++i) {
    P* p = sched.allp[i];
    if (!p) continue;
    std::int64_t w = p->timer0_when.load(std::memory_order_acquire);
    if (w != 0 && (next == 0 || w < next)) next = w;
  }
  return next;
}

// Both heaps are locked at once, so a moving timer always has a heap:
// timer_del and lock_owner never see it "not pending" in between. Only
// timers_move holds two heap locks, always a retired P's and then P0's
// (from != P0), so no lock cycle is possible.
void timers_move(P* from, P* to) noexcept GORO_REQUIRES(sched.lock) {
  if (from == to) return;
  LockGuard lf(from->timers_lock);
  if (from->timers.empty()) return;
  LockGuard lt(to->timers_lock);
  for (Timer* t : from->timers) {
    t->p.store(to, std::memory_order_release);
    to->timers.push_back(t);
    sift_up(to->timers, to->timers.size() - 1);
  }
  from->timers.clear();
  update_timer0(from);
  update_timer0(to);
  // The idle sleeper may be waiting past the earliest moved timer. (Callers
  // hold sched.lock, so it is broken directly, not via wake_timer_sleeper.)
  std::int64_t until = sched.sleep_until.load(std::memory_order_acquire);
  if (until != 0 && to->timers[0]->when < until) netpoll_break();
}

// run() teardown: pending timers are forgotten (their owners may outlive run).
// Their forget hooks run after the heap lock is dropped (a hook may free
// the timer and close a channel).
void timers_teardown(P* p) noexcept {
  std::vector<Timer*> forgotten;
  {
    LockGuard l(p->timers_lock);
    for (Timer* t : p->timers) {
      t->idx = -1;
      ++t->seq;
      t->p.store(nullptr, std::memory_order_relaxed);
      if (t->forget) forgotten.push_back(t);
    }
    p->timers.clear();
    update_timer0(p);
  }
  for (Timer* t : forgotten) t->forget(t);
}

}  // namespace goro::rt
