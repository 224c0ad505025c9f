// lock.hpp — futex primitives and the runtime's internal lock.
//
// rt::Lock guards short critical sections inside the runtime (wait queues,
// the global run queue, idle lists). It is a three-state futex mutex
// (0 free, 1 held, 2 held with sleepers) that spins briefly before sleeping.
// It blocks the thread, never the goroutine, so it is never held across a
// park: parking releases it from the scheduler side (see park.hpp).
//
// Both rt::Lock and the bare lock words (goro::detail::lock_word, embedded
// in channels and public sync objects) are Clang thread-safety capabilities
// (thread_safety.hpp). Every lock has a rank (LockRank: DESIGN.md §17's
// nesting graph as code); in GORO_DCHECK builds each thread records the
// ranks it holds and an acquisition out of order is fatal (lock.cpp).
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>

#include "goro/detail/wait_list.hpp"
#include "runtime/thread_safety.hpp"

namespace goro::rt {

// Lock ranks, outer to inner (DESIGN.md §17). A thread may acquire a lock
// only if its rank is above the rank of every lock it holds; nothing may be
// acquired while holding a leaf. Two locks of one rank nest only where the
// code orders them: channels (select locks them in ascending address order;
// checked) and P::timers_lock (timers_move: a retired P's, then P 0's, which
// has a rank of its own).
enum class LockRank : std::uint8_t {
  timer_state,  // goro::timer's timer_state::mu (fire: send; stop/reset: drain, timer_del/add)
  poll_desc,    // PollDesc::lock (deadline timers; readying a waiter)
  chan,         // chan_core::lock; several at once in select, ascending address
  queue,        // sema, cond, semaphore and wait_group lock words (block_on_until: timer_add)
  sched,        // sched.lock
  timers,       // P::timers_lock
  timers_p0,    // P 0's timers_lock (timers_move: a retired P's heap, then P 0's)
  allg,         // sched.allg_lock (dumps: then session)
  // Leaves: nothing is acquired while one is held.
  leaf_,
  session = leaf_,  // traceback.cpp's libdw session
  ctx,              // ctx_cancel::mu
  gfree,            // sched.gfree_lock
  stack_pool,       // stack.cpp's pool
  poll_free,        // pollfd.cpp's free list
  trace_buf,        // a thread's trace buffer
  tsan_held,        // tsan_reuse.cpp's quarantine
  tsan_pool,        // tsan_reuse.cpp's fiber pool
};
const char* lock_rank_name(LockRank r) noexcept;

// Prints "fatal error: msg" and aborts, taking no lock (lock.cpp).
[[noreturn]] void dcheck_fail(const char* msg) noexcept;

// GORO_DCHECK_THAT(cond, msg): in GORO_DCHECK builds, fatal with msg unless
// cond holds; elsewhere cond is not evaluated.
#if defined(GORO_DCHECK)
#define GORO_DCHECK_THAT(cond, msg)                                     \
  do {                                                                  \
    if (!(cond)) [[unlikely]]                                           \
      ::goro::rt::dcheck_fail("invariant failed: " msg " (" #cond ")"); \
  } while (0)
#else
#define GORO_DCHECK_THAT(cond, msg) \
  do {                              \
    (void)sizeof(!(cond));          \
  } while (0)
#endif

// A rank kept only for the DCHECK builds' checks (rank_acquire is empty
// otherwise): a LockRank there, an empty object in release builds, where
// get() is never checked. For records on hot paths ([[no_unique_address]]).
struct dcheck_rank {
#if defined(GORO_DCHECK)
  LockRank r;
  constexpr dcheck_rank(LockRank rank) noexcept : r(rank) {}
  constexpr LockRank get() const noexcept { return r; }
#else
  constexpr dcheck_rank(LockRank) noexcept {}
  constexpr LockRank get() const noexcept { return LockRank::leaf_; }  // unchecked
#endif
};

#if defined(GORO_DCHECK)
// This thread acquires / released lock `l` (DCHECK builds). Out of line on
// purpose: the held set is thread-local, and a goroutine may resume on
// another thread (the caller must not cache the TLS address, DESIGN §4).
void rank_acquire(const void* l, LockRank r) noexcept;
void rank_release(const void* l) noexcept;
// Whether this thread holds lock l (as Go's assertLockHeld). A lock taken
// beyond the held set's capacity (a select over very many channels) is
// not recorded: then any lock counts as held.
bool rank_holds(const void* l) noexcept;
// Fatal unless this thread holds no runtime lock (the scheduler loop).
void rank_assert_none_held(const char* where) noexcept;
#else
inline void rank_acquire(const void*, LockRank) noexcept {}
inline void rank_release(const void*) noexcept {}
inline void rank_assert_none_held(const char*) noexcept {}
#endif

void futex_wait(std::atomic<std::uint32_t>* addr, std::uint32_t expected) noexcept;
// Waits at most timeout_ns (< 0: forever).
void futex_wait_for(std::atomic<std::uint32_t>* addr, std::uint32_t expected, std::int64_t timeout_ns) noexcept;
void futex_wake(std::atomic<std::uint32_t>* addr, int n) noexcept;

inline void cpu_relax() noexcept {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

void lock_slow(std::atomic<std::uint32_t>& w) noexcept;

#if defined(GORO_TSAN)
// The runtime is not instrumented (sanitizer.hpp): its locks tell TSan that
// what one holder did happens before the next holder, which covers the
// memory the runtime allocates and frees under them.
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

// The lock protocol on a bare word, outside the analysis: lock_word,
// unlock_word and Lock below are the annotated entry points.
inline void acquire_word(std::atomic<std::uint32_t>& w, [[maybe_unused]] LockRank r) noexcept {
  rank_acquire(&w, r);
  std::uint32_t z = 0;
  if (!w.compare_exchange_strong(z, 1, std::memory_order_acquire, std::memory_order_relaxed)) lock_slow(w);
#if defined(GORO_TSAN)
  __tsan_acquire(&w);
#endif
}
inline void release_word(std::atomic<std::uint32_t>& w) noexcept {
#if defined(GORO_TSAN)
  __tsan_release(&w);
#endif
  if (w.exchange(0, std::memory_order_release) == 2) futex_wake(&w, 1);
  rank_release(&w);
}

// The bare lock words, ranked by their type: a wait queue's word
// (detail::lock_word: sema, cond, semaphore, wait_group) is LockRank::queue,
// a channel's (detail::chan_lock_word) LockRank::chan. The caller never
// chooses a word's rank.
constexpr LockRank rank_of(const detail::lock_word&) noexcept { return LockRank::queue; }
constexpr LockRank rank_of(const detail::chan_lock_word&) noexcept { return LockRank::chan; }

// The two types of bare lock word.
template <class W>
concept bare_lock_word = std::same_as<W, detail::lock_word> || std::same_as<W, detail::chan_lock_word>;

template <bare_lock_word W>
inline void lock_word(W& w) noexcept GORO_ACQUIRE(w) GORO_NO_THREAD_SAFETY_ANALYSIS {
  acquire_word(w, rank_of(w));
}
inline void unlock_word(detail::lock_word& w) noexcept GORO_RELEASE(w) GORO_NO_THREAD_SAFETY_ANALYSIS {
  release_word(w);
}

// Escape (1) of thread_safety.hpp: the unlock an after-switch action does
// for a goroutine that parked holding w (its unlockf): the acquisition was
// in the parking function, which the analysis cannot connect to this one.
inline void unlock_after_switch(detail::lock_word& w) noexcept GORO_NO_THREAD_SAFETY_ANALYSIS { release_word(w); }

// Escape (2) of thread_safety.hpp: w is held by this code by construction
// (e.g. through select's lock array). DCHECK builds check that this thread
// holds it.
inline void held_by_construction(detail::lock_word& w) noexcept
    GORO_ASSERT_CAPABILITY(w) GORO_NO_THREAD_SAFETY_ANALYSIS {
#if defined(GORO_DCHECK)
  if (!rank_holds(&w)) dcheck_fail("held_by_construction: this thread does not hold the lock word");
#endif
  (void)w;
}

class Lock;
// Escape (2) for an rt::Lock (e.g. the heap lock timers.cpp's lock_owner
// returns held).
void held_by_construction(Lock& l) noexcept GORO_ASSERT_CAPABILITY(l);

class GORO_CAPABILITY("mutex") Lock {
 public:
  constexpr explicit Lock(LockRank r) noexcept : rank_(r) {}
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  void lock() noexcept GORO_ACQUIRE() { acquire_word(w_, rank_); }
  void unlock() noexcept GORO_RELEASE() { release_word(w_); }
  LockRank rank() const noexcept { return rank_; }
  bool locked() const noexcept { return w_.load(std::memory_order_relaxed) != 0; }
  const void* word() const noexcept { return &w_; }  // the address the held set records

 private:
  std::atomic<std::uint32_t> w_{0};
  LockRank rank_;
};

inline void held_by_construction(Lock& l) noexcept GORO_NO_THREAD_SAFETY_ANALYSIS {
#if defined(GORO_DCHECK)
  if (!l.locked() || !rank_holds(l.word())) dcheck_fail("held_by_construction: this thread does not hold the lock");
#endif
  (void)l;
}

struct GORO_SCOPED_CAPABILITY LockGuard {
  explicit LockGuard(Lock& l) noexcept GORO_ACQUIRE(l) : l_(l) { l_.lock(); }
  ~LockGuard() GORO_RELEASE() { l_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;
  Lock& l_;
};

}  // namespace goro::rt
