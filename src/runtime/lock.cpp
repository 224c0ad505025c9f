#include "runtime/lock.hpp"

#include <ctime>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace goro::rt {

namespace {

// ThreadSanitizer runs an asynchronous signal's handler at once only on a
// thread it knows to be blocked (inside an intercepted call such as read or
// epoll_wait); on any other thread it holds the signal until the thread's
// next intercepted call. A raw futex system call is not intercepted, so a
// process-directed SIGUSR1 or SIGQUIT that the kernel hands to an idle M
// would wait as long as the M sleeps, possibly for ever. In TSan builds a
// futex wait therefore blocks the asynchronous signals a program waits for,
// and the kernel picks another thread (the signal thread always has them
// unblocked). Thread-directed and synchronous signals are left alone.
// Elsewhere the mask is not touched: a plain futex wait is interrupted by
// a signal and its handler runs at once.
#if defined(GORO_TSAN)
// Raw rt_sigprocmask on the kernel's 64-bit mask: TSan intercepts
// sigemptyset and pthread_sigmask and checks the sets they write (here on
// goroutine stacks, which many fibers use) like instrumented stores.
constexpr std::uint64_t bit(int sig) { return std::uint64_t{1} << (sig - 1); }
constexpr std::uint64_t kAsyncSignals = bit(SIGHUP) | bit(SIGINT) | bit(SIGQUIT) | bit(SIGUSR1) | bit(SIGUSR2) |
                                        bit(SIGALRM) | bit(SIGTERM) | bit(SIGCHLD) | bit(SIGURG) | bit(SIGWINCH) |
                                        bit(SIGIO);
struct AsyncSignalsBlocked {
  std::uint64_t saved = 0;
  AsyncSignalsBlocked() noexcept {
    std::uint64_t set = kAsyncSignals;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &saved, sizeof set);
  }
  ~AsyncSignalsBlocked() { syscall(SYS_rt_sigprocmask, SIG_SETMASK, &saved, nullptr, sizeof saved); }
};
#else
struct AsyncSignalsBlocked {};
#endif

}  // namespace

void futex_wait(std::atomic<std::uint32_t>* addr, std::uint32_t expected) noexcept {
  [[maybe_unused]] AsyncSignalsBlocked blocked;
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

void futex_wait_for(std::atomic<std::uint32_t>* addr, std::uint32_t expected, std::int64_t timeout_ns) noexcept {
  if (timeout_ns < 0) return futex_wait(addr, expected);
  timespec ts{static_cast<time_t>(timeout_ns / 1000000000), static_cast<long>(timeout_ns % 1000000000)};
  [[maybe_unused]] AsyncSignalsBlocked blocked;
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), FUTEX_WAIT_PRIVATE, expected, &ts, nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>* addr, int n) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
}

#if defined(GORO_TSAN)
// Under TSan a critical section is several times longer (the annotations
// inside it), and a futex wait costs three system calls (the signal mask
// around it, above): spinning a while longer is cheaper than sleeping.
constexpr int kSpinRounds = 40;
#else
constexpr int kSpinRounds = 4;
#endif

// Contended: a few attempts with long pauses between them (as Go's
// procyield), so that the spinner does not keep pulling the lock's cache line
// away from the holder (100 attempts one pause apart made chan_mpmc 1.4x and
// workerpool 4x slower), then the futex.
void lock_slow(std::atomic<std::uint32_t>& w) noexcept {
  for (int round = 0; round < kSpinRounds; ++round) {
    for (int i = 0; i < 60; ++i) cpu_relax();
    std::uint32_t z = 0;
    if (w.load(std::memory_order_relaxed) == 0 &&
        w.compare_exchange_weak(z, 1, std::memory_order_acquire, std::memory_order_relaxed))
      return;
  }
  while (w.exchange(2, std::memory_order_acquire) != 0) futex_wait(&w, 2);
}

}  // namespace goro::rt
