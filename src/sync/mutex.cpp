// mutex.cpp — sync.Mutex (Go's sync/mutex.go design).
//
// state_: bit 0 locked, bit 1 woken (an awake waiter is competing, so
// unlock need not wake another), bit 2 starving, bits 3.. the number of
// parked waiters. Waiters park on sema_.
//
// Normal mode: waiters queue FIFO, but a woken waiter competes with newly
// arriving goroutines, which usually win (they are already on a CPU); that
// gives high throughput. A waiter that loses for more than 1 ms switches the
// mutex to starvation mode: unlock hands ownership straight to the first
// waiter, and arriving goroutines queue at the tail without trying. The
// last waiter, or one that waited less than 1 ms, switches back to normal.
#include "goro/sync.hpp"
#include "goro/time.hpp"

#include "runtime/debug.hpp"
#include "runtime/park.hpp"

namespace goro {

namespace {
constexpr std::int32_t kWoken = 2, kStarving = 4, kShift = 3;  // kLocked (1) is mutex::kLocked
constexpr std::int64_t kStarvationNs = 1'000'000;

bool can_spin(int iter) noexcept {
  if (iter >= 4) return false;
  rt::M* m = rt::current_m();
  if (!m || !m->p || rt::sched.nprocs.load(std::memory_order_relaxed) <= 1) return false;
  return rt::runq_empty(m->p);
}
}  // namespace

bool mutex::try_lock() noexcept {
  std::int32_t old = state_.load(std::memory_order_relaxed);
  if (old & (kLocked | kStarving)) return false;
  if (!state_.compare_exchange_strong(old, old | kLocked, std::memory_order_acquire, std::memory_order_relaxed))
    return false;
  annotate_acquire();
  return true;
}

bool mutex::try_lock_until_ns(std::int64_t rel_ns) {
  std::int64_t deadline = rt::nanotime() + (rel_ns > 0 ? rel_ns : 0);
  std::int64_t pause = 20'000;
  for (;;) {
    if (try_lock()) return true;
    std::int64_t left = deadline - rt::nanotime();
    if (left <= 0) return false;
    detail::sleep_ns(pause < left ? pause : left);
    if (pause < 1'000'000) pause *= 2;
  }
}

void mutex::lock_slow(locker who) {
  rt::WaitReason why = who == locker::rw_writer ? rt::WaitReason::rwmutex_lock : rt::WaitReason::mutex_lock;
  std::int64_t wait_start = 0;
  bool starving = false, awoke = false;
  int iter = 0;
  std::int32_t old = state_.load(std::memory_order_relaxed);
  for (;;) {
    // Spin while the holder is likely to release soon (normal mode only).
    if ((old & (kLocked | kStarving)) == kLocked && can_spin(iter)) {
      if (!awoke && !(old & kWoken) && (old >> kShift) != 0 &&
          state_.compare_exchange_weak(old, old | kWoken, std::memory_order_relaxed))
        awoke = true;
      for (int i = 0; i < 30; ++i) rt::cpu_relax();
      ++iter;
      old = state_.load(std::memory_order_relaxed);
      continue;
    }
    std::int32_t nw = old;
    if (!(old & kStarving)) nw |= kLocked;  // don't grab a starving mutex: queue instead
    if (old & (kLocked | kStarving)) nw += 1 << kShift;
    if (starving && (old & kLocked)) nw |= kStarving;
    if (awoke) nw &= ~kWoken;
    if (state_.compare_exchange_weak(old, nw, std::memory_order_acquire, std::memory_order_relaxed)) {
      if (!(old & (kLocked | kStarving))) return;  // locked with the CAS
      bool lifo = wait_start != 0;                 // waited before: back to the front
      if (wait_start == 0) wait_start = rt::nanotime();
      rt::sema_acquire(sema_, lifo, why, &discard_waiter, this);
      starving = starving || rt::nanotime() - wait_start > kStarvationNs;
      old = state_.load(std::memory_order_relaxed);
      if (old & kStarving) {
        // Ownership was handed to us; the state still says unlocked.
        std::int32_t delta = kLocked - (1 << kShift);
        if (!starving || (old >> kShift) == 1) delta -= kStarving;
        state_.fetch_add(delta, std::memory_order_acquire);
        return;
      }
      awoke = true;
      iter = 0;
    }
  }
}

// run()'s teardown discarded a goroutine still queued on sema_: it counts
// itself out, and, as the last waiter of a starving mutex would on taking
// it, ends starvation mode, so no later unlock hands the lock to nobody.
void mutex::discard_waiter(void* self) noexcept {
  auto* m = static_cast<mutex*>(self);
  std::int32_t old = m->state_.load(std::memory_order_relaxed), nw;
  do {
    nw = old - (1 << kShift);
    if ((nw >> kShift) == 0) nw &= ~kStarving;
  } while (!m->state_.compare_exchange_weak(old, nw, std::memory_order_relaxed));
}

void mutex::unlock_slow(std::int32_t nw) noexcept {
  if (((nw + kLocked) & kLocked) == 0) rt::fatal("sync: unlock of unlocked mutex");
  if (!(nw & kStarving)) {
    std::int32_t old = nw;
    for (;;) {
      // Nobody to wake, or someone is already awake / got the lock.
      if ((old >> kShift) == 0 || (old & (kLocked | kWoken | kStarving))) return;
      nw = (old - (1 << kShift)) | kWoken;
      if (state_.compare_exchange_weak(old, nw, std::memory_order_release, std::memory_order_relaxed)) {
        rt::sema_release(sema_, /*handoff=*/false);
        return;
      }
    }
  }
  // Starvation mode: hand off to the first waiter and let it run.
  rt::sema_release(sema_, /*handoff=*/true);
}

}  // namespace goro
