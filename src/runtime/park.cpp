// park.cpp — blocking on goro objects from goroutines and plain threads.
#include "runtime/park.hpp"

#include "goro/runtime.hpp"

namespace goro::rt {

namespace {

bool unlock_after_park(G*, void* lockword) {
  unlock_after_switch(*static_cast<detail::lock_word*>(lockword));
  return true;
}

}  // namespace

struct QueueWait {
  Waiter* w;
  detail::lock_word* lock;
  [[no_unique_address]] dcheck_rank rank;  // the word's (rank_of): a queue's or a channel's
  void (*undo)(void*) noexcept = nullptr;
  void* undo_arg = nullptr;
};

// run() teardown: take a discarded goroutine off the queue it waits on.
void unlink_queued(G* g) {
  auto* qw = static_cast<QueueWait*>(g->wait_obj);
  acquire_word(*qw->lock, qw->rank.get());
  bool linked = qw->w->in != nullptr;
  WaitQueue::unlink(qw->w);
  if (linked && qw->undo) qw->undo(qw->undo_arg);
  release_word(*qw->lock);
}

namespace {

// block_on's body; inlined into both entry points, so the common park
// (no undo hook) pays no extra call.
[[gnu::always_inline]] inline void block_queued(Waiter& w, detail::lock_word& lockword, dcheck_rank rank,
                                                WaitReason reason, void (*undo)(void*) noexcept, void* undo_arg)
    GORO_RELEASE(lockword) {
  if (G* g = w.g) {
    QueueWait qw{&w, &lockword, rank, undo, undo_arg};
    g->wait_obj = &qw;
    g->unlink = &unlink_queued;
    park(reason, &unlock_after_park, &lockword);
    released_by_scheduler(lockword);  // by unlock_after_park, after the switch
    g->unlink = nullptr;
    g->wait_obj = nullptr;
    return;
  }
  unlock_word(lockword);
  while (w.woken.load(std::memory_order_acquire) == 0) futex_wait(&w.woken, 0);
}

}  // namespace

void block_on_ranked(Waiter& w, detail::lock_word& lockword, dcheck_rank rank, WaitReason reason) {
  block_queued(w, lockword, rank, reason, nullptr, nullptr);
}

void block_on_undo(Waiter& w, detail::lock_word& lockword, WaitReason reason, void (*undo)(void*) noexcept,
                   void* undo_arg) {
  block_queued(w, lockword, rank_of(lockword), reason, undo, undo_arg);
}

namespace {

// The timer of a timed wait: whoever unlinks the waiter under the queue's
// lock (a waker or this timer) completes it. `fired` tells the waiter the
// callback has finished touching the frame.
struct TimedWait {
  Timer t;
  Waiter* w;
  detail::lock_word* lock;
  bool timed_out = false;
  std::atomic<std::uint32_t> fired{0};
};

void timed_wait_expired(Timer* t, std::uint64_t) {
  auto* tw = static_cast<TimedWait*>(t->arg);
  Waiter* w = tw->w;
  lock_word(*tw->lock);
  bool mine = w->in != nullptr;
  if (mine) {
    WaitQueue::unlink(w);
    tw->timed_out = true;
  }
  unlock_word(*tw->lock);
  G* g = w->g;
  tw->fired.store(1, std::memory_order_release);  // the frame may go away after this
  if (mine) {
    if (g) ready(g);
    else wake(w);
  }
}

bool arm_after_park(G*, void* a) {
  auto* tw = static_cast<TimedWait*>(a);
  detail::lock_word* lock = tw->lock;
  timer_add(&tw->t, tw->t.when);
  unlock_after_switch(*lock);
  return true;
}

}  // namespace

bool block_on_until(Waiter& w, detail::lock_word& lockword, WaitReason reason, std::int64_t deadline) {
  if (G* g = w.g) {
    TimedWait tw;
    tw.t.f = &timed_wait_expired;
    tw.t.arg = &tw;
    tw.t.when = deadline;
    tw.w = &w;
    tw.lock = &lockword;
    QueueWait qw{&w, &lockword, rank_of(lockword)};
    g->wait_obj = &qw;
    g->unlink = &unlink_queued;
    park(reason, &arm_after_park, &tw);
    released_by_scheduler(lockword);  // by arm_after_park, after the switch
    g->unlink = nullptr;
    g->wait_obj = nullptr;
    if (!timer_del(&tw.t)) {
      // The timer fired: wait until its callback is done with this frame.
      while (tw.fired.load(std::memory_order_acquire) == 0) cpu_relax();
    }
    return !tw.timed_out;
  }
  unlock_word(lockword);
  for (;;) {
    if (w.woken.load(std::memory_order_acquire)) return true;
    std::int64_t left = deadline - nanotime();
    if (left <= 0) break;
    futex_wait_for(&w.woken, 0, left);
  }
  lock_word(lockword);
  bool queued = w.in != nullptr;
  if (queued) WaitQueue::unlink(&w);
  unlock_word(lockword);
  if (queued) return false;
  while (w.woken.load(std::memory_order_acquire) == 0) futex_wait(&w.woken, 0);
  return true;
}

void wake(Waiter* w) noexcept {
  if (G* g = w->g) {
    ready(g);
    return;
  }
  w = w->notify;
  w->woken.store(1, std::memory_order_release);
  futex_wake(&w->woken, 1);
}

[[noreturn]] void block_forever(WaitReason reason) {
  if (current_g()) {
    for (;;) park(reason, nullptr, nullptr);
  }
  std::atomic<std::uint32_t> never{0};
  for (;;) futex_wait(&never, 0);
}

void sema_acquire(goro::detail::sema& s, bool lifo, WaitReason reason, void (*undo)(void*) noexcept, void* undo_arg) {
  lock_word(s.lock);
  if (s.count > 0) {
    --s.count;
    unlock_word(s.lock);
    return;
  }
  Waiter w;
  WaitQueue& q = WaitQueue::of(s.waiters);
  if (lifo) q.push_front(&w);
  else q.push_back(&w);
  block_on_undo(w, s.lock, reason, undo, undo_arg);
  // The releaser gave us its unit directly.
}

bool sema_try_acquire(goro::detail::sema& s) noexcept {
  lock_word(s.lock);
  bool ok = s.count > 0;
  if (ok) --s.count;
  unlock_word(s.lock);
  return ok;
}

void sema_release(goro::detail::sema& s, bool handoff) {
  lock_word(s.lock);
  Waiter* w = WaitQueue::of(s.waiters).pop_front();
  if (!w) ++s.count;
  unlock_word(s.lock);
  if (w) {
    wake(w);
    if (handoff && current_g()) goro::yield();
  }
}

}  // namespace goro::rt
