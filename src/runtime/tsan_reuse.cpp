// tsan_reuse.cpp — what an exited goroutine leaves, reused late (TSan builds).
//
// A goroutine that returns leaves three things the next goroutines reuse:
// its descriptor (with the closure buffer), its stack and its TSan fiber.
// The first two carry happens-before edges to their next user (goexit
// releases on the G and on the stack, g_entry and spawn_begin acquire), as
// they must: the next user writes where the previous one read. And a reused
// fiber keeps its clock. Any of the three orders the next goroutine after
// the one that exited, so a race between those two would go unreported —
// and with the per-P caches, which are LIFO, the next goroutine started on
// that P is exactly the one that gets them: a goroutine that writes and
// returns, and one started after it that reads, are the common racy pair.
//
// So in a TSan build an exited G, with its stack, waits in a FIFO
// quarantine until kQuarantine goroutines have exited after it, as TSan
// itself reuses a finished thread's id only after a quarantine; only then
// are its descriptor and stack cached for reuse. Its fiber goes at once to
// a FIFO pool and is handed out, oldest first, only while more than
// kFiberQuarantine fibers are pooled behind it. Races with a goroutine that
// returned that many goroutine exits earlier go unreported when the new
// goroutine happens to get its leftovers; the README states the limit.
//
// Fibers are pooled rather than destroyed because creating one is what made
// spawn-heavy code unaffordable under TSan: Clang's runtime maps a 512 KiB
// shadow stack per fiber and unmaps it at destruction (an munmap and a TLB
// shoot-down per goroutine); GCC 12's zeroes a ~130 KiB thread state and
// maps a trace for each new thread id; both take a global registry lock
// twice. skynet 10^5 spent 55% of its time in the kernel doing that. An
// exited goroutine's frames have all returned (its shadow stack is back at
// the bottom) and it holds no lock, so its fiber is as good as new but for
// its clock, which the quarantine has made old.
//
// Discarded goroutines (run()'s teardown) never returned from their frames,
// so their fibers are destroyed, not pooled; teardown empties the
// quarantine and destroys the pool.
#include "runtime/sanitizer.hpp"

#if defined(GORO_TSAN)

#include "runtime/lock.hpp"

namespace goro::rt::san {

namespace {

constexpr int kQuarantine = 256;  // exited Gs (with their stacks) held back from reuse
// Fibers: a FIFO of those of goroutines that returned, reused oldest first
// once more than kFiberQuarantine are pooled behind it. Clang's runtime
// gives each thread or fiber one of 256 slots of its vector clock while it
// exists; past 256, a new one takes over a slot in use and is then ordered
// after that slot's earlier accesses, so a race with them goes unreported.
// A pooled fiber keeps its slot, so the pool is kept well below 256 (the
// threads and the live goroutines need theirs): beyond kFiberPoolMax the
// oldest pooled fiber is destroyed.
constexpr int kFiberQuarantine = 64;
constexpr int kFiberPoolMax = 128;

struct Quarantine {
  Lock lock{LockRank::tsan_held};
  G* ring[kQuarantine] GORO_GUARDED_BY(lock);
  int head GORO_GUARDED_BY(lock) = 0;  // oldest
  int count GORO_GUARDED_BY(lock) = 0;
};

struct FiberPool {
  Lock lock{LockRank::tsan_pool};
  void* ring[kFiberPoolMax] GORO_GUARDED_BY(lock);
  int head GORO_GUARDED_BY(lock) = 0;  // oldest
  int count GORO_GUARDED_BY(lock) = 0;
};

Quarantine held;
FiberPool fiber_pool;

}  // namespace

G* hold_exited(G* g) noexcept {
  LockGuard l(held.lock);
  if (held.count < kQuarantine) {
    held.ring[(held.head + held.count) % kQuarantine] = g;
    ++held.count;
    return nullptr;
  }
  G* oldest = held.ring[held.head];
  held.ring[held.head] = g;
  held.head = (held.head + 1) % kQuarantine;
  return oldest;
}

void for_each_held(void (*f)(G*)) noexcept {
  LockGuard l(held.lock);
  for (int i = 0; i < held.count; ++i) f(held.ring[(held.head + i) % kQuarantine]);
}

G* release_held() noexcept {
  LockGuard l(held.lock);
  if (held.count == 0) return nullptr;
  G* g = held.ring[held.head];
  held.head = (held.head + 1) % kQuarantine;
  --held.count;
  return g;
}

void* fiber_take() noexcept {
  {
    LockGuard l(fiber_pool.lock);
    if (fiber_pool.count > kFiberQuarantine) {
      void* f = fiber_pool.ring[fiber_pool.head];
      fiber_pool.head = (fiber_pool.head + 1) % kFiberPoolMax;
      --fiber_pool.count;
      return f;
    }
  }
  return __tsan_create_fiber(0);
}

void fiber_give(void* fiber) noexcept {
  void* evicted = nullptr;
  {
    LockGuard l(fiber_pool.lock);
    if (fiber_pool.count == kFiberPoolMax) {
      evicted = fiber_pool.ring[fiber_pool.head];
      fiber_pool.head = (fiber_pool.head + 1) % kFiberPoolMax;
      --fiber_pool.count;
    }
    fiber_pool.ring[(fiber_pool.head + fiber_pool.count) % kFiberPoolMax] = fiber;
    ++fiber_pool.count;
  }
  if (evicted) __tsan_destroy_fiber(evicted);
}

void fibers_drain() noexcept {
  for (;;) {
    void* f;
    {
      LockGuard l(fiber_pool.lock);
      if (fiber_pool.count == 0) return;
      f = fiber_pool.ring[fiber_pool.head];
      fiber_pool.head = (fiber_pool.head + 1) % kFiberPoolMax;
      --fiber_pool.count;
    }
    __tsan_destroy_fiber(f);
  }
}

}  // namespace goro::rt::san

#endif  // GORO_TSAN
