#include "runtime/lock.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
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

namespace {

#if defined(GORO_TSAN)
// Under TSan a critical section is several times longer (the annotations
// inside it), and a futex wait costs three system calls (the signal mask
// around it, above): spinning a while longer is cheaper than sleeping.
constexpr int kSpinRounds = 40;
int round_pauses() noexcept { return 60; }
#else
constexpr int kSpinRounds = 4;

// A round of the spin lasts about kRoundNs, whatever a pause costs on this
// CPU: 19 ns on the AMD EPYC of our 2-core machines, about 40 on recent
// Intel cores, a few on older ones, about 1 for aarch64's `yield`. A fixed
// 60 pauses made rounds of 1.1 us here, where 4 us rounds ran workerpool at
// 205 instead of 270 ns/job, chan_mpmc at 41 instead of 62 ns/msg and
// select2 at 235 instead of 270 (shorter rounds were worse still: 8 pauses,
// workerpool 530; rounds of 8 us gained nothing more). Measured once, on
// the first contended lock: the least of three timings of 256 pauses (a
// timing the thread was descheduled in would make rounds too short).
constexpr std::int64_t kRoundNs = 4000;
std::atomic<int> round_pauses_cached{0};

int round_pauses() noexcept {
  int n = round_pauses_cached.load(std::memory_order_relaxed);
  if (n != 0) [[likely]]
    return n;
  std::int64_t best = INT64_MAX;
  for (int trial = 0; trial < 3; ++trial) {
    timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 256; ++i) cpu_relax();
    clock_gettime(CLOCK_MONOTONIC, &b);
    std::int64_t ns = (b.tv_sec - a.tv_sec) * 1'000'000'000LL + (b.tv_nsec - a.tv_nsec);
    if (ns < best) best = ns;
  }
  std::int64_t pauses = best > 0 ? kRoundNs * 256 / best : 4096;
  n = static_cast<int>(std::clamp<std::int64_t>(pauses, 16, 4096));
  round_pauses_cached.store(n, std::memory_order_relaxed);
  return n;
}
#endif

}  // namespace

// Contended: a few attempts with long pauses between them (as Go's
// procyield), so that the spinner does not keep pulling the lock's cache line
// away from the holder (100 attempts one pause apart made chan_mpmc 1.4x and
// workerpool 4x slower), then the futex.
void lock_slow(std::atomic<std::uint32_t>& w) noexcept {
  const int pauses = round_pauses();
  for (int round = 0; round < kSpinRounds; ++round) {
    for (int i = 0; i < pauses; ++i) cpu_relax();
    std::uint32_t z = 0;
    if (w.load(std::memory_order_relaxed) == 0 &&
        w.compare_exchange_weak(z, 1, std::memory_order_acquire, std::memory_order_relaxed))
      return;
  }
  while (w.exchange(2, std::memory_order_acquire) != 0) futex_wait(&w, 2);
}

}  // namespace goro::rt

namespace goro::rt {

const char* lock_rank_name(LockRank r) noexcept {
  switch (r) {
    case LockRank::timer_state: return "timer_state::mu";
    case LockRank::poll_desc: return "PollDesc::lock";
    case LockRank::chan: return "chan_core::lock";
    case LockRank::queue: return "queue lock word (sema/cond/semaphore/wait_group)";
    case LockRank::sched: return "sched.lock";
    case LockRank::timers: return "P::timers_lock";
    case LockRank::timers_p0: return "P::timers_lock of P 0";
    case LockRank::allg: return "sched.allg_lock";
    case LockRank::session: return "traceback session_lock";
    case LockRank::ctx: return "ctx_cancel::mu";
    case LockRank::gfree: return "sched.gfree_lock";
    case LockRank::stack_pool: return "stack pool.lock";
    case LockRank::poll_free: return "pollfd free_lock";
    case LockRank::trace_buf: return "TraceBuf::lock";
    case LockRank::tsan_held: return "tsan quarantine lock";
    case LockRank::tsan_pool: return "tsan fiber pool lock";
  }
  return "?";
}

void dcheck_fail(const char* msg) noexcept {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, "fatal error: %s\n", msg);
  if (n > 0) {
    ssize_t r =
        ::write(2, buf, static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n) : sizeof buf - 1);
    (void)r;
  }
  std::abort();
}

#if defined(GORO_DCHECK)

namespace {

// The runtime locks this thread holds, in acquisition order. Kept per
// thread, not per goroutine: a goroutine that parks holding a queue lock
// (block_on, select) switches away on this thread, and the after-switch
// action releases the lock on this same thread before anything else runs
// (switch_out's tail, execute or g_entry call run_after first), so the
// entry leaves this set on the thread that added it. A goroutine never
// resumes on another thread with a runtime lock held; the scheduler loop
// checks that its thread holds none (rank_assert_none_held).
struct Held {
  const void* lock;
  LockRank rank;
};
struct HeldSet {
  static constexpr int kMax = 64;
  Held h[kMax];
  int n = 0;
  int untracked = 0;  // acquired beyond kMax (a select over very many channels)
};
thread_local HeldSet t_held;

[[noreturn]] void rank_fail(const char* what, const Held& held, const void* l, LockRank r) noexcept {
  char msg[400];
  std::snprintf(msg, sizeof msg, "lock rank %s: acquiring %s (%p) while holding %s (%p)", what, lock_rank_name(r), l,
                lock_rank_name(held.rank), held.lock);
  dcheck_fail(msg);
}

}  // namespace

void rank_acquire(const void* l, LockRank r) noexcept {
  HeldSet& s = t_held;
  for (int i = 0; i < s.n; ++i) {
    const Held& h = s.h[i];
    if (h.lock == l) rank_fail("violation (recursive)", h, l, r);
    if (h.rank >= LockRank::leaf_) rank_fail("violation (held lock is a leaf)", h, l, r);
    if (r > h.rank) continue;
    // One rank twice: only channels, in ascending address order.
    if (r == h.rank && r == LockRank::chan && std::less<const void*>()(h.lock, l)) continue;
    rank_fail("inversion", h, l, r);
  }
  if (s.n == HeldSet::kMax) {
    ++s.untracked;
    return;
  }
  s.h[s.n++] = Held{l, r};
}

void rank_release(const void* l) noexcept {
  HeldSet& s = t_held;
  for (int i = s.n; i-- > 0;) {
    if (s.h[i].lock != l) continue;
    for (int j = i; j + 1 < s.n; ++j) s.h[j] = s.h[j + 1];
    --s.n;
    return;
  }
  if (s.untracked > 0) {
    --s.untracked;
    return;
  }
  char msg[200];
  std::snprintf(msg, sizeof msg, "lock rank: releasing lock %p, which this thread does not hold", l);
  dcheck_fail(msg);
}

bool rank_holds(const void* l) noexcept {
  const HeldSet& s = t_held;
  for (int i = 0; i < s.n; ++i)
    if (s.h[i].lock == l) return true;
  return s.untracked > 0;
}

void rank_assert_none_held(const char* where) noexcept {
  HeldSet& s = t_held;
  if (s.n == 0 && s.untracked == 0) return;
  char msg[400];
  std::snprintf(msg, sizeof msg, "lock rank: %s with %s (%p) held", where,
                s.n ? lock_rank_name(s.h[0].rank) : "an untracked lock", s.n ? s.h[0].lock : nullptr);
  dcheck_fail(msg);
}

#endif  // GORO_DCHECK

}  // namespace goro::rt
