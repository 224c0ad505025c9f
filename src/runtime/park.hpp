// park.hpp — waiting on a goro object from a goroutine or a plain thread.
//
// Every blocking operation follows the same protocol (Go's gopark):
//   1. lock the object's wait-queue lock (an rt::Lock word);
//   2. check the condition; if it must wait, link a Waiter into the queue;
//   3. block_on(w, lock, reason): the lock is released only after the
//      goroutine is off its stack (park's after-switch action), so a waker,
//      which must take the same lock to unlink the Waiter, can never ready
//      a goroutine that is still running: no lost and no early wake-up.
// A waker unlinks the Waiter under the lock, fills in its result, and calls
// wake(w) (after unlocking, preferably). On a plain thread, block_on
// releases the lock and sleeps on the Waiter's futex word instead.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/sched.hpp"

namespace goro::rt {

struct Waiter {
  G* g = current_g();                     // null: a plain thread
  std::atomic<std::uint32_t> woken{0};    // futex word for a plain thread
  Waiter* next = nullptr;
  Waiter* prev = nullptr;
  Waiter* notify = this;                  // whose futex word wake() sets (select: shared)
};

void block_on(Waiter& w, std::atomic<std::uint32_t>& lockword, WaitReason reason);
void wake(Waiter* w) noexcept;

// An intrusive FIFO of Waiters (guarded by the owner's lock).
struct WaitQueue {
  Waiter* head = nullptr;
  Waiter* tail = nullptr;

  bool empty() const noexcept { return head == nullptr; }
  void push_back(Waiter* w) noexcept {
    w->next = nullptr;
    w->prev = tail;
    if (tail)
      tail->next = w;
    else
      head = w;
    tail = w;
  }
  void push_front(Waiter* w) noexcept {
    w->prev = nullptr;
    w->next = head;
    if (head)
      head->prev = w;
    else
      tail = w;
    head = w;
  }
  Waiter* pop_front() noexcept {
    Waiter* w = head;
    if (w) remove(w);
    return w;
  }
  void remove(Waiter* w) noexcept {
    if (w->prev)
      w->prev->next = w->next;
    else
      head = w->next;
    if (w->next)
      w->next->prev = w->prev;
    else
      tail = w->prev;
    w->next = w->prev = nullptr;
  }
};

}  // namespace goro::rt
