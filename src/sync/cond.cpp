// cond.cpp — sync.Cond (Go's notifyList design).
//
// wait() takes a ticket before it unlocks the user's lock and parks with
// that ticket afterwards; notify advances the notified-ticket counter and
// wakes parked waiters in FIFO order. A waiter whose ticket was notified
// before it parked returns at once: a notify that lands between unlock and
// park is not lost.
#include "goro/sync.hpp"

#include "runtime/park.hpp"

namespace goro {

using rt::Waiter;
using rt::WaitQueue;

std::uint32_t condition_variable::add_waiter() noexcept {
  rt::lock_word(lock_);
  std::uint32_t t = wait_++;
  rt::unlock_word(lock_);
  return t;
}

void condition_variable::wait_ticket(std::uint32_t t) {
  rt::lock_word(lock_);
  if (static_cast<std::int32_t>(t - notify_) < 0) {
    rt::unlock_word(lock_);
    detail::tsan_acquire(this);
    return;
  }
  Waiter w;
  w.n = t;
  WaitQueue::of(waiters_).push_back(&w);
  rt::block_on(w, lock_, rt::WaitReason::cond_wait);
  detail::tsan_acquire(this);
}

bool condition_variable::wait_ticket_for(std::uint32_t t, std::int64_t rel_ns) {
  rt::lock_word(lock_);
  if (static_cast<std::int32_t>(t - notify_) < 0) {
    rt::unlock_word(lock_);
    detail::tsan_acquire(this);
    return true;
  }
  Waiter w;
  w.n = t;
  WaitQueue::of(waiters_).push_back(&w);
  bool woken = rt::block_on_until(w, lock_, rt::WaitReason::cond_wait, rt::nanotime() + (rel_ns > 0 ? rel_ns : 0));
  detail::tsan_acquire(this);
  return woken;
}

// Wakes the oldest parked waiter. Tickets older than its own belong to
// waiters between add_waiter and parking (they return at once: a spurious
// wake-up, which condition variables allow) or to waiters that timed out,
// so no notification is lost to a waiter that left.
void condition_variable::notify_one() noexcept {
  detail::tsan_release(this);
  rt::lock_word(lock_);
  if (wait_ == notify_) {
    rt::unlock_word(lock_);
    return;
  }
  WaitQueue& q = WaitQueue::of(waiters_);
  Waiter* w = q.pop_front();
  if (w) {
    auto t = static_cast<std::uint32_t>(w->n);
    if (static_cast<std::int32_t>(t + 1 - notify_) > 0) notify_ = t + 1;
  } else {
    ++notify_;
  }
  rt::unlock_word(lock_);
  if (w) rt::wake(w);
}

void condition_variable::notify_all() noexcept {
  detail::tsan_release(this);
  rt::lock_word(lock_);
  if (wait_ == notify_) {
    rt::unlock_word(lock_);
    return;
  }
  notify_ = wait_;
  WaitQueue q = WaitQueue::of(waiters_);
  waiters_ = detail::wait_list{};
  for (Waiter* w = q.head; w; w = w->next) w->in = nullptr;
  rt::unlock_word(lock_);
  for (Waiter* w = q.head; w;) {
    Waiter* next = w->next;
    rt::wake(w);
    w = next;
  }
}

}  // namespace goro
