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

#include "goro/detail/wait_list.hpp"
#include "runtime/sched.hpp"

namespace goro::rt {

struct WaitQueue;

struct Waiter {
  G* g = current_g();                   // null: a plain thread
  std::atomic<std::uint32_t> woken{0};  // futex word for a plain thread
  Waiter* next = nullptr;
  Waiter* prev = nullptr;
  Waiter* notify = this;    // whose futex word wake() sets (select: shared)
  WaitQueue* in = nullptr;  // the queue it is linked into, if any
  std::int64_t n = 0;       // per-use datum (semaphore weight, ticket)
  void* data = nullptr;     // per-use datum (semaphore: a ready channel)
};

// Parks on a queue: lockword is held on entry and released once the caller
// sleeps. If the goroutine is discarded by run()'s teardown while parked, it
// is unlinked from whichever queue w->in names, under lockword (taken with
// the word's own rank: a queue's or a channel's, lock.hpp).
void block_on_ranked(Waiter& w, detail::lock_word& lockword, dcheck_rank rank, WaitReason reason)
    GORO_RELEASE(lockword);
template <bare_lock_word W>
inline void block_on(Waiter& w, W& lockword, WaitReason reason) GORO_RELEASE(lockword) {
  block_on_ranked(w, lockword, rank_of(lockword), reason);
}
// block_on, and if the goroutine is discarded while still linked,
// undo(undo_arg) runs after the unlink, under lockword.
void block_on_undo(Waiter& w, detail::lock_word& lockword, WaitReason reason, void (*undo)(void*) noexcept,
                   void* undo_arg) GORO_RELEASE(lockword);
void block_on_undo(Waiter&, detail::chan_lock_word&, WaitReason, void (*)(void*) noexcept, void*) = delete;
void wake(Waiter* w) noexcept;
// block_on with a deadline (monotonic ns): returns false if it expired
// first, in which case w has been unlinked from its queue.
bool block_on_until(Waiter& w, detail::lock_word& lockword, WaitReason reason, std::int64_t deadline)
    GORO_RELEASE(lockword);
bool block_on_until(Waiter&, detail::chan_lock_word&, WaitReason, std::int64_t) = delete;  // queues' only
// Blocks the caller forever (nil channel, select {}).
[[noreturn]] void block_forever(WaitReason reason);

// An intrusive FIFO of Waiters (guarded by the owner's lock). Layout-
// compatible with goro::detail::wait_list, which public objects embed.
struct WaitQueue {
  Waiter* head = nullptr;
  Waiter* tail = nullptr;

  static WaitQueue& of(goro::detail::wait_list& l) noexcept { return *reinterpret_cast<WaitQueue*>(&l); }

  bool empty() const noexcept { return head == nullptr; }
  void push_back(Waiter* w) noexcept {
    w->in = this;
    w->next = nullptr;
    w->prev = tail;
    if (tail) tail->next = w;
    else head = w;
    tail = w;
  }
  void push_front(Waiter* w) noexcept {
    w->in = this;
    w->prev = nullptr;
    w->next = head;
    if (head) head->prev = w;
    else tail = w;
    head = w;
  }
  Waiter* pop_front() noexcept {
    Waiter* w = head;
    if (w) remove(w);
    return w;
  }
  void remove(Waiter* w) noexcept {
    if (w->prev) w->prev->next = w->next;
    else head = w->next;
    if (w->next) w->next->prev = w->prev;
    else tail = w->prev;
    w->next = w->prev = nullptr;
    w->in = nullptr;
  }
  // Unlinks w if it is still queued, from whichever queue holds it.
  static void unlink(Waiter* w) noexcept {
    if (w->in) w->in->remove(w);
  }
};
static_assert(sizeof(WaitQueue) == sizeof(goro::detail::wait_list));

// goro::detail::sema operations (Go's semacquire/semrelease).
// A caller that counted itself in a waiter count of its object before
// parking passes `undo`: if run()'s teardown discards it while it is still
// queued (no unit was given to it), undo(undo_arg) runs under the sema's
// lock, so the count matches the queue again and no later release leaves a
// unit nobody was owed (API.md: nothing is handed to a goroutine that is gone).
void sema_acquire(goro::detail::sema& s, bool lifo, WaitReason reason, void (*undo)(void*) noexcept = nullptr,
                  void* undo_arg = nullptr);
bool sema_try_acquire(goro::detail::sema& s) noexcept;
// Gives one unit to the first waiter, or to the count. handoff: the caller
// yields so that the waiter runs at once (mutex starvation mode).
void sema_release(goro::detail::sema& s, bool handoff);

}  // namespace goro::rt
