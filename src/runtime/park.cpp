// park.cpp — blocking on goro objects from goroutines and plain threads.
#include "runtime/park.hpp"

#include "goro/runtime.hpp"

namespace goro::rt {

namespace {

bool unlock_after_park(G*, void* lockword) {
  unlock_word(*static_cast<std::atomic<std::uint32_t>*>(lockword));
  return true;
}

struct QueueWait {
  Waiter* w;
  std::atomic<std::uint32_t>* lock;
};

// run() teardown: take a discarded goroutine off the queue it waits on.
void unlink_queued(G* g) {
  auto* qw = static_cast<QueueWait*>(g->wait_obj);
  lock_word(*qw->lock);
  WaitQueue::unlink(qw->w);
  unlock_word(*qw->lock);
}

}  // namespace

void block_on(Waiter& w, std::atomic<std::uint32_t>& lockword, WaitReason reason) {
  if (G* g = w.g) {
    QueueWait qw{&w, &lockword};
    g->wait_obj = &qw;
    g->unlink = &unlink_queued;
    park(reason, &unlock_after_park, &lockword);
    g->unlink = nullptr;
    g->wait_obj = nullptr;
    return;
  }
  unlock_word(lockword);
  while (w.woken.load(std::memory_order_acquire) == 0) futex_wait(&w.woken, 0);
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

void sema_acquire(goro::detail::sema& s, bool lifo, WaitReason reason) {
  lock_word(s.lock);
  if (s.count > 0) {
    --s.count;
    unlock_word(s.lock);
    return;
  }
  Waiter w;
  WaitQueue& q = WaitQueue::of(s.waiters);
  if (lifo)
    q.push_front(&w);
  else
    q.push_back(&w);
  block_on(w, s.lock, reason);
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
