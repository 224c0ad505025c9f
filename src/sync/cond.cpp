// cond.cpp — sync.Cond.
//
// wait() links its record into the FIFO *before* it unlocks the caller's
// lock, so a notify that comes after the unlock always finds it. Between
// that and parking the waiter is still running, so a notifier must not
// ready it: the record says whether it has parked (set under lock_ just
// before block_on, which releases lock_ only once the goroutine is off its
// stack). A notifier unlinks the record and marks it notified under lock_;
// it wakes the waiter only if it had parked, and a waiter that had not
// sees the mark and does not park. A timed-out waiter unlinks itself under
// the same lock, so a notification is never spent on a waiter that left.
#include <new>

#include "goro/sync.hpp"
#include "runtime/park.hpp"

namespace goro {

namespace {

struct CondWaiter : rt::Waiter {
  bool parked = false;    // guarded by the condition_variable's lock_
  bool notified = false;  // guarded by the condition_variable's lock_
};
static_assert(sizeof(CondWaiter) <= sizeof(detail::cond_node));
static_assert(alignof(CondWaiter) <= alignof(detail::cond_node));

CondWaiter* of(detail::cond_node& n) { return std::launder(reinterpret_cast<CondWaiter*>(n.storage)); }

}  // namespace

void condition_variable::enqueue(detail::cond_node& n) noexcept {
  auto* w = ::new (n.storage) CondWaiter;
  rt::lock_word(lock_);
  rt::WaitQueue::of(waiters_).push_back(w);
  rt::unlock_word(lock_);
}

void condition_variable::cancel(detail::cond_node& n) noexcept {
  CondWaiter* w = of(n);
  rt::lock_word(lock_);
  if (!w->notified) rt::WaitQueue::of(waiters_).remove(w);
  rt::unlock_word(lock_);
  w->~CondWaiter();
}

bool condition_variable::sleep(detail::cond_node& n, std::int64_t rel_ns) noexcept {
  CondWaiter* w = of(n);
  bool woken = true;
  rt::lock_word(lock_);
  if (w->notified) {
    rt::unlock_word(lock_);
  } else {
    w->parked = true;
    if (rel_ns < 0) rt::block_on(*w, lock_, rt::WaitReason::cond_wait);
    else woken = rt::block_on_until(*w, lock_, rt::WaitReason::cond_wait, rt::nanotime() + rel_ns);
  }
  detail::tsan_acquire(this);
  w->~CondWaiter();
  return woken;
}

void condition_variable::notify_one() noexcept {
  detail::tsan_release(this);
  rt::lock_word(lock_);
  auto* w = static_cast<CondWaiter*>(rt::WaitQueue::of(waiters_).pop_front());
  bool wake = false;
  if (w) {
    w->notified = true;
    wake = w->parked;
  }
  rt::unlock_word(lock_);
  if (wake) rt::wake(w);
}

void condition_variable::notify_all() noexcept {
  detail::tsan_release(this);
  rt::lock_word(lock_);
  rt::WaitQueue& q = rt::WaitQueue::of(waiters_);
  rt::WaitQueue parked;
  while (auto* w = static_cast<CondWaiter*>(q.pop_front())) {
    w->notified = true;
    if (w->parked) parked.push_back(w);
  }
  for (rt::Waiter* w = parked.head; w; w = w->next) w->in = nullptr;
  rt::unlock_word(lock_);
  for (rt::Waiter* w = parked.head; w;) {
    rt::Waiter* next = w->next;
    rt::wake(w);
    w = next;
  }
}

}  // namespace goro
