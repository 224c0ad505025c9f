// semaphore.cpp — x/sync/semaphore.Weighted.
//
// Waiters queue FIFO with their weight in Waiter::n; release() admits
// waiters from the front while their weight fits, and stops at the first
// that does not, so a large request is never overtaken by small ones.
#include "chan/chan_impl.hpp"
#include "goro/panic.hpp"
#include "goro/select.hpp"
#include "goro/sync.hpp"
#include "runtime/park.hpp"

namespace goro {

using rt::Waiter;
using rt::WaitQueue;

namespace {

// A waiter of acquire(ctx): it selects on its context and on `ready`, which
// release() closes instead of readying it. Heap-allocated and shared by
// the queue and the waiter (refs), since the waiter may give up first.
struct CtxWaiter : Waiter {
  chan<std::monostate> ready = make_chan<std::monostate>();
  std::atomic<int> refs{2};
  detail::lock_word* lock = nullptr;  // the semaphore's
  WaitQueue* queue = nullptr;
};

void drop(CtxWaiter* w) noexcept {
  if (w->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete w;
}

// run() teardown, for a goroutine discarded inside acquire(ctx): its waiter
// leaves the queue (a later release() must not grant units to a goroutine
// that is gone). Units granted before teardown stay taken, as a plain
// acquire's do (the contract's teardown rule).
void discard_ctx_waiter(void* a) noexcept {
  auto* w = static_cast<CtxWaiter*>(a);
  rt::lock_word(*w->lock);
  if (w->in) {
    w->queue->remove(w);
    w->in = nullptr;
    drop(w);  // the queue's reference
  }
  rt::unlock_word(*w->lock);
  drop(w);  // the waiter's
}

// Grants waiters from the front while their weight fits (lock_ held);
// returns them, unlinked, for waking after unlocking.
Waiter* admit(WaitQueue& q, std::int64_t size, std::int64_t& cur) noexcept {
  WaitQueue ready;
  while (Waiter* w = q.head) {
    if (size - cur < w->n) break;
    cur += w->n;
    q.remove(w);
    ready.push_back(w);
  }
  for (Waiter* w = ready.head; w; w = w->next) w->in = nullptr;
  return ready.head;
}

void wake_all(Waiter* w) noexcept {
  while (w) {
    Waiter* next = w->next;
    if (w->data) {
      auto* cw = static_cast<CtxWaiter*>(w);
      cw->ready.close();
      drop(cw);
    } else {
      rt::wake(w);
    }
    w = next;
  }
}

}  // namespace

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
  Waiter* ready = admit(WaitQueue::of(waiters_), size_, cur_);
  rt::unlock_word(lock_);
  wake_all(ready);
}

std::error_code semaphore::acquire(const context& ctx, std::int64_t n) {
  auto done = ctx.done();
  if (done.is_nil()) {
    acquire(n);
    return {};
  }
  if (auto e = ctx.err()) return e;
  rt::lock_word(lock_);
  WaitQueue& q = WaitQueue::of(waiters_);
  if (size_ - cur_ >= n && q.empty()) {
    cur_ += n;
    rt::unlock_word(lock_);
    detail::tsan_acquire(this);
    return {};
  }
  if (n > size_) {
    rt::unlock_word(lock_);
    done.recv();
    return ctx.err();
  }
  auto* w = new CtxWaiter;
  w->n = n;
  w->data = w;
  w->lock = &lock_;
  w->queue = &q;
  q.push_back(w);
  rt::unlock_word(lock_);
  auto ready = w->ready;
  rt::G* g = rt::current_g();  // null on a plain thread (never discarded)
  if (g) {
    g->discard = &discard_ctx_waiter;
    g->discard_arg = w;
  }
  std::size_t chosen = goro::select(case_recv(done), case_recv(ready));
  if (g) {
    g->discard = nullptr;
    g->discard_arg = nullptr;
  }
  if (chosen == 1) {
    drop(w);
    detail::tsan_acquire(this);
    return {};
  }
  // Cancelled. If release() granted us the units meanwhile, give them back.
  rt::lock_word(lock_);
  Waiter* woken = nullptr;
  if (!w->in) {
    cur_ -= n;
    woken = admit(q, size_, cur_);
  } else {
    bool front = q.head == w;
    q.remove(w);
    drop(w);  // the queue's reference
    if (front && size_ > cur_) woken = admit(q, size_, cur_);
  }
  rt::unlock_word(lock_);
  drop(w);
  wake_all(woken);
  return ctx.err();
}

}  // namespace goro
