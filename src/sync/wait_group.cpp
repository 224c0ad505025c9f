// wait_group.cpp — sync.WaitGroup.
//
// state_ packs the counter (high 32 bits) and the number of waiters (low 32
// bits), as Go's does, so done() touches only the atomic unless someone
// waits. A waiter registers under lock_ and re-checks the counter there; the
// done() that brings the counter to zero with waiters takes lock_, detaches
// the whole list, clears the state and wakes them after unlocking. It reads
// nothing of the group after that, so a woken waiter may destroy the group
// at once (std::latch's guarantee).
#include "goro/wait_group.hpp"

#include "goro/panic.hpp"
#include "runtime/park.hpp"
#include "runtime/sanitizer.hpp"

namespace goro {

using rt::Waiter;

void wait_group::add(std::ptrdiff_t n) {
  if (n < 0) rt::san::release(this);  // done() happens before wait() returns
  std::uint64_t delta = static_cast<std::uint64_t>(static_cast<std::int64_t>(n)) << 32;
  std::uint64_t s = state_.fetch_add(delta, std::memory_order_acq_rel) + delta;
  auto counter = static_cast<std::int32_t>(s >> 32);
  auto waiters = static_cast<std::uint32_t>(s);
  if (counter < 0) throw panic_error("sync: negative WaitGroup counter");
  if (counter > 0 || waiters == 0) return;
  // Counter reached zero with waiters: release them all.
  rt::lock_word(lock_);
  rt::WaitQueue q = rt::WaitQueue::of(waiters_);
  waiters_ = detail::wait_list{};
  for (Waiter* w = q.head; w; w = w->next) w->in = nullptr;
  state_.store(0, std::memory_order_release);
  rt::unlock_word(lock_);
  for (Waiter* w = q.head; w;) {
    Waiter* next = w->next;
    rt::wake(w);
    w = next;
  }
}

void wait_group::wait() {
  if ((state_.load(std::memory_order_acquire) >> 32) == 0) {
    rt::san::acquire(this);
    return;
  }
  rt::lock_word(lock_);
  // Count ourselves in only while the counter is positive: a done() that
  // zeroes it either sees us (and takes lock_ to wake us) or makes this CAS
  // fail.
  std::uint64_t s = state_.load(std::memory_order_acquire);
  do {
    if ((s >> 32) == 0) {
      rt::unlock_word(lock_);
      rt::san::acquire(this);
      return;
    }
  } while (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire));
  Waiter w;
  rt::WaitQueue::of(waiters_).push_back(&w);
  rt::block_on(w, lock_, rt::WaitReason::waitgroup_wait);
  rt::san::acquire(this);
}

}  // namespace goro
