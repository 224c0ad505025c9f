// chan_impl.hpp — the channel object and the records of its waiters.
//
// Invariants (guarded by chan_core::lock), as in Go's chan.go:
//   * at least one of sendq and recvq is empty, except for an unbuffered
//     channel whose queues both hold select waiters of one goroutine;
//   * for a buffered channel: qcount > 0 implies recvq is empty (a receiver
//     would have taken the element) and qcount < cap implies sendq is empty;
//   * once closed, nothing enters sendq and recvq holds nothing.
// A Sudog lives on its waiter's stack and is linked into at most one queue;
// `in` (rt::Waiter) says which one, if any. Whoever unlinks a waiter (a matching
// operation or close) completes it: fills `success`, moves the element, and
// wakes it; for a select waiter it first claims the select (CAS on
// SelectState::done), and skips the record if another case already won.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "goro/chan.hpp"
#include "runtime/park.hpp"
#include "runtime/sanitizer.hpp"

namespace goro::detail {

// True if c has more than one handle (for context.cpp: does anyone but the
// canceler itself hold a done channel?).
bool chan_shared(const chan_core* c) noexcept;

struct SelectState {
  std::atomic<std::uint32_t> done{0};
  std::size_t winner = static_cast<std::size_t>(-1);
  bool success = false;
};

struct Sudog : rt::Waiter {
  void* elem = nullptr;  // sender: the value; receiver: destination storage
  chan_core* c = nullptr;
  SelectState* sel = nullptr;  // non-null for select cases
  std::size_t case_index = 0;
  bool success = false;  // completed by a matching operation (not by close)
};

struct SudogQueue {
  rt::WaitQueue q;
  bool empty() const noexcept { return q.empty(); }
  void push(Sudog* s) noexcept { q.push_back(s); }
  // Unlinks s if it is still queued (on whichever queue holds it).
  static void unlink(Sudog* s) noexcept { rt::WaitQueue::unlink(s); }
  // Pops the first waiter that can still be completed (claiming selects).
  Sudog* dequeue() noexcept {
    while (auto* w = q.pop_front()) {
      auto* s = static_cast<Sudog*>(w);
      if (s->sel) {
        std::uint32_t z = 0;
        if (!s->sel->done.compare_exchange_strong(z, 1, std::memory_order_acq_rel)) continue;
        s->sel->winner = s->case_index;
      }
      return s;
    }
    return nullptr;
  }
};

class chan_core {
 public:
  chan_lock_word lock{0};
  std::atomic<std::size_t> refs{1};
  const elem_ops* ops = nullptr;
  std::size_t cap = 0;
  std::size_t slot = 0;                // bytes per buffer slot
  std::atomic<std::size_t> qcount{0};  // elements in the buffer (written under lock)
  std::size_t sendx GORO_GUARDED_BY(lock) = 0;
  std::size_t recvx GORO_GUARDED_BY(lock) = 0;
  std::atomic<bool> closed{false};  // written under lock; read lock-free by fast paths
  SudogQueue sendq GORO_GUARDED_BY(lock);
  SudogQueue recvq GORO_GUARDED_BY(lock);
  unsigned char* buf = nullptr;  // cap * slot bytes, right after the object

  void* at(std::size_t i) noexcept { return buf + i * slot; }
};

// The channel lock. For ThreadSanitizer every operation is a critical
// section of the channel (acquire on lock, release on unlock), and a parked
// operation acquires once more when it wakes: whatever its partner did
// before unlocking (moving the element in) happens before it resumes.
inline void lock_chan(chan_core* c) noexcept GORO_ACQUIRE(c->lock) {
  rt::lock_word(c->lock);
  rt::san::acquire(c);
}
inline void unlock_chan(chan_core* c) noexcept GORO_RELEASE(c->lock) {
  rt::san::release(c);
  rt::unlock_word(c->lock);
}

// Completes a receive from the waiting sender s (lock held): the value goes
// to dst; for a full buffer the head goes to dst and s's value to the tail.
void recv_from_sender(chan_core* c, Sudog* s, void* dst) noexcept GORO_REQUIRES(c->lock);
// Completes a send of src to the waiting receiver r (lock held).
inline void send_to_receiver(chan_core* c, Sudog* r, void* src) noexcept GORO_REQUIRES(c->lock) {
  if (r->elem) c->ops->move(r->elem, src);
  r->success = true;
  if (r->sel) r->sel->success = true;
}

// The buffer's two ends (lock held; q is qcount as the caller read it under
// the lock). buf_put moves src into the tail (q < cap); buf_take moves the
// head to dst (q > 0).
inline void buf_put(chan_core* c, void* src, std::size_t q) GORO_REQUIRES(c->lock) {
  c->ops->move(c->at(c->sendx), src);
  if (++c->sendx == c->cap) c->sendx = 0;
  c->qcount.store(q + 1, std::memory_order_relaxed);
}
inline void buf_take(chan_core* c, void* dst, std::size_t q) GORO_REQUIRES(c->lock) {
  void* head = c->at(c->recvx);
  c->ops->move(dst, head);
  c->ops->destroy(head);
  if (++c->recvx == c->cap) c->recvx = 0;
  c->qcount.store(q - 1, std::memory_order_relaxed);
}

}  // namespace goro::detail
