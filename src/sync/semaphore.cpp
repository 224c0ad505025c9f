// semaphore.cpp — x/sync/semaphore.Weighted.
//
// Waiters queue FIFO with their weight in Waiter::n; release() admits
// waiters from the front while their weight fits, and stops at the first
// that does not, so a large request is never overtaken by small ones.
#include "goro/panic.hpp"
#include "goro/sync.hpp"
#include "runtime/park.hpp"

namespace goro {

using rt::Waiter;
using rt::WaitQueue;

void semaphore::acquire(std::int64_t n) {
  rt::lock_word(lock_);
  WaitQueue& q = WaitQueue::of(waiters_);
  if (size_ - cur_ >= n && q.empty()) {
    cur_ += n;
    rt::unlock_word(lock_);
    detail::tsan_acquire(this);
    return;
  }
  if (n > size_) {
    // Can never succeed: Go waits for the context, which never ends here.
    rt::unlock_word(lock_);
    rt::block_forever(rt::WaitReason::semacquire);
  }
  Waiter w;
  w.n = n;
  q.push_back(&w);
  rt::block_on(w, lock_, rt::WaitReason::semacquire);
  detail::tsan_acquire(this);
}

bool semaphore::try_acquire(std::int64_t n) noexcept {
  rt::lock_word(lock_);
  bool ok = size_ - cur_ >= n && WaitQueue::of(waiters_).empty();
  if (ok) cur_ += n;
  rt::unlock_word(lock_);
  if (ok) detail::tsan_acquire(this);
  return ok;
}

void semaphore::release(std::int64_t n) {
  detail::tsan_release(this);
  rt::lock_word(lock_);
  cur_ -= n;
  if (cur_ < 0) {
    cur_ += n;
    rt::unlock_word(lock_);
    throw panic_error("semaphore: released more than held");
  }
  WaitQueue& q = WaitQueue::of(waiters_);
  WaitQueue ready;
  while (Waiter* w = q.head) {
    if (size_ - cur_ < w->n) break;
    cur_ += w->n;
    q.remove(w);
    ready.push_back(w);
  }
  for (Waiter* w = ready.head; w; w = w->next) w->in = nullptr;
  rt::unlock_word(lock_);
  for (Waiter* w = ready.head; w;) {
    Waiter* next = w->next;
    rt::wake(w);
    w = next;
  }
}

}  // namespace goro
