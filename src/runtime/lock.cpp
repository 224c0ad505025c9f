#include "runtime/lock.hpp"

#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace goro::rt {

void futex_wait(std::atomic<std::uint32_t>* addr, std::uint32_t expected) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

void futex_wait_for(std::atomic<std::uint32_t>* addr, std::uint32_t expected, std::int64_t timeout_ns) noexcept {
  if (timeout_ns < 0) return futex_wait(addr, expected);
  timespec ts{static_cast<time_t>(timeout_ns / 1000000000), static_cast<long>(timeout_ns % 1000000000)};
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), FUTEX_WAIT_PRIVATE, expected, &ts, nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>* addr, int n) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
}

void lock_slow(std::atomic<std::uint32_t>& w) noexcept {
  for (int i = 0; i < 100; ++i) {
    std::uint32_t z = 0;
    if (w.load(std::memory_order_relaxed) == 0 &&
        w.compare_exchange_weak(z, 1, std::memory_order_acquire, std::memory_order_relaxed))
      return;
    cpu_relax();
  }
  while (w.exchange(2, std::memory_order_acquire) != 0) futex_wait(&w, 2);
}

}  // namespace goro::rt
