// lock.hpp — futex primitives and the runtime's internal lock.
//
// rt::Lock guards short critical sections inside the runtime (wait queues,
// the global run queue, idle lists). It is a three-state futex mutex
// (0 free, 1 held, 2 held with sleepers) that spins briefly before sleeping.
// It blocks the thread, never the goroutine, so it is never held across a
// park: parking releases it from the scheduler side (see park.hpp).
#pragma once

#include <atomic>
#include <cstdint>

namespace goro::rt {

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

inline void lock_word(std::atomic<std::uint32_t>& w) noexcept {
  std::uint32_t z = 0;
  if (!w.compare_exchange_strong(z, 1, std::memory_order_acquire, std::memory_order_relaxed)) lock_slow(w);
#if defined(GORO_TSAN)
  __tsan_acquire(&w);
#endif
}
inline void unlock_word(std::atomic<std::uint32_t>& w) noexcept {
#if defined(GORO_TSAN)
  __tsan_release(&w);
#endif
  if (w.exchange(0, std::memory_order_release) == 2) futex_wake(&w, 1);
}

class Lock {
 public:
  void lock() noexcept { lock_word(w_); }
  void unlock() noexcept { unlock_word(w_); }
  std::atomic<std::uint32_t>& word() noexcept { return w_; }

 private:
  std::atomic<std::uint32_t> w_{0};
};

struct LockGuard {
  explicit LockGuard(Lock& l) noexcept : l_(l) { l_.lock(); }
  ~LockGuard() { l_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;
  Lock& l_;
};

}  // namespace goro::rt
