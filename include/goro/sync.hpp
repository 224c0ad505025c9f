// goro/sync.hpp — Go's sync package (Mutex, RWMutex, Once, Cond) and
// x/sync/semaphore. All of them park the goroutine, never the thread; on a
// plain thread they block the thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <type_traits>
#include <utility>

#include <goro/context.hpp>
#include <goro/detail/wait_list.hpp>
#include <goro/thread_annotations.hpp>

namespace goro {

// sync.Mutex: Lockable (std::lock_guard, std::unique_lock, std::scoped_lock
// work). One CAS when uncontended; brief spinning, then parking in FIFO
// order. A waiter that has waited over 1 ms switches the mutex to
// starvation mode, where unlock hands it straight to the first waiter.
// Unlocking an unlocked mutex is a fatal error, as in Go. A Clang
// thread-safety capability: fields marked GORO_GUARDED_BY(mu) are checked
// under -Wthread-safety (goro/thread_annotations.hpp).
class GORO_CAPABILITY("mutex") mutex {
 public:
  mutex() noexcept = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  void lock() GORO_ACQUIRE() {
    std::int32_t z = 0;
    if (!state_.compare_exchange_strong(z, kLocked, std::memory_order_acquire, std::memory_order_relaxed)) lock_slow();
    annotate_acquire();
  }
  [[nodiscard]] bool try_lock() noexcept GORO_TRY_ACQUIRE(true);
  // TimedLockable. Waits by polling with short sleeps (the lock's own queue
  // has no timeout): fine for occasional use, not for hot paths.
  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_for(std::chrono::duration<Rep, Period> d)
      GORO_TRY_ACQUIRE(true) GORO_NO_THREAD_SAFETY_ANALYSIS {
    return try_lock_until(std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(d));
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_until(std::chrono::time_point<Clock, Duration> tp)
      GORO_TRY_ACQUIRE(true) GORO_NO_THREAD_SAFETY_ANALYSIS {
    return try_lock_until_ns(detail::to_ns(tp - Clock::now()));
  }
  void unlock() noexcept GORO_RELEASE() {
    annotate_release();
    std::int32_t n = state_.fetch_sub(kLocked, std::memory_order_release) - kLocked;
    if (n != 0) unlock_slow(n);
  }

 private:
  friend class rw_mutex;
  static constexpr std::int32_t kLocked = 1;
  // Whose wait a parked locker shows in dumps: a mutex's, or an rw_mutex's
  // writer waiting for the writers' mutex.
  enum class locker : unsigned char { mutex, rw_writer };
  void lock_slow(locker who = locker::mutex);
  bool try_lock_until_ns(std::int64_t rel_ns) GORO_TRY_ACQUIRE(true);
  void unlock_slow(std::int32_t n) noexcept;
  static void discard_waiter(void* self) noexcept;  // run()'s teardown (mutex.cpp)
  void annotate_acquire() noexcept { detail::tsan_acquire(this); }
  void annotate_release() noexcept { detail::tsan_release(this); }
  std::atomic<std::int32_t> state_{0};
  detail::sema sema_;
};

// sync.RWMutex: SharedLockable (std::shared_lock works). A waiting writer
// blocks new readers, so writers cannot starve. A Clang thread-safety
// capability (shared for lock_shared).
class GORO_CAPABILITY("mutex") rw_mutex {
 public:
  rw_mutex() noexcept = default;
  rw_mutex(const rw_mutex&) = delete;
  rw_mutex& operator=(const rw_mutex&) = delete;

  void lock() GORO_ACQUIRE();
  [[nodiscard]] bool try_lock() noexcept GORO_TRY_ACQUIRE(true);
  void unlock() noexcept GORO_RELEASE();
  void lock_shared() GORO_ACQUIRE_SHARED();
  [[nodiscard]] bool try_lock_shared() noexcept GORO_TRY_ACQUIRE_SHARED(true);
  void unlock_shared() noexcept GORO_RELEASE_SHARED();

 private:
  static void discard_reader(void* self) noexcept;  // run()'s teardown (rw_mutex.cpp)
  mutex w_;
  detail::sema writer_sem_, reader_sem_;
  std::atomic<std::int32_t> readers_{0};      // negative while a writer is pending
  std::atomic<std::int32_t> reader_wait_{0};  // departing readers a writer waits for
};

// sync.Once: call(f) runs f once; concurrent callers wait for it. If f
// throws, the exception reaches its caller and the once stays not done.
class once {
 public:
  once() noexcept = default;
  once(const once&) = delete;
  once& operator=(const once&) = delete;

  template <class F, class... Args>
  void call(F&& f, Args&&... args) {
    if (done_.load(std::memory_order_acquire)) return;
    std::lock_guard<mutex> g(m_);
    if (done_.load(std::memory_order_relaxed)) return;
    std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
    done_.store(true, std::memory_order_release);
  }
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> done_{false};
  mutex m_;
};

namespace detail {
// Room for the runtime's record of one condition_variable waiter.
struct cond_node {
  alignas(16) unsigned char storage[128];
};
}  // namespace detail

// sync.Cond: wait(lock) atomically unlocks and parks; notify_one /
// notify_all wake waiters in FIFO order. Works with any lock over a
// goro::mutex (std::unique_lock<goro::mutex>, the mutex itself, ...).
class condition_variable {
 public:
  condition_variable() noexcept = default;
  condition_variable(const condition_variable&) = delete;
  condition_variable& operator=(const condition_variable&) = delete;

  // (Not analysed: the analysis cannot name the mutex behind a generic Lock;
  // the caller holds it before and after, as the analysis assumes.)
  template <class Lock>
  void wait(Lock& lock) GORO_NO_THREAD_SAFETY_ANALYSIS {
    detail::cond_node n;
    enqueue(n);
    unlock_or_cancel(lock, n);
    sleep(n, -1);
    lock.lock();
  }
  template <class Lock, class Pred>
  void wait(Lock& lock, Pred pred) {
    while (!pred()) wait(lock);
  }
  template <class Lock, class Clock, class Duration>
  std::cv_status wait_until(Lock& lock, std::chrono::time_point<Clock, Duration> tp) GORO_NO_THREAD_SAFETY_ANALYSIS {
    detail::cond_node n;
    enqueue(n);
    unlock_or_cancel(lock, n);
    std::int64_t left = detail::to_ns(tp - Clock::now());
    bool woken = sleep(n, left > 0 ? left : 0);
    lock.lock();
    return woken ? std::cv_status::no_timeout : std::cv_status::timeout;
  }
  template <class Lock, class Clock, class Duration, class Pred>
  bool wait_until(Lock& lock, std::chrono::time_point<Clock, Duration> tp, Pred pred) {
    while (!pred())
      if (wait_until(lock, tp) == std::cv_status::timeout) return pred();
    return true;
  }
  template <class Lock, class Rep, class Period>
  std::cv_status wait_for(Lock& lock, std::chrono::duration<Rep, Period> d) {
    return wait_until(
        lock, std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(d));
  }
  template <class Lock, class Rep, class Period, class Pred>
  bool wait_for(Lock& lock, std::chrono::duration<Rep, Period> d, Pred pred) {
    return wait_until(
        lock, std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(d),
        std::move(pred));
  }
  void notify_one() noexcept;
  void notify_all() noexcept;

 private:
  void enqueue(detail::cond_node& n) noexcept;
  void cancel(detail::cond_node& n) noexcept;  // unlinks a record that will not sleep
  template <class Lock>
  void unlock_or_cancel(Lock& lock, detail::cond_node& n) GORO_NO_THREAD_SAFETY_ANALYSIS {
    try {
      lock.unlock();
    } catch (...) {  // e.g. a unique_lock that does not own its mutex: n must leave the queue
      cancel(n);
      throw;
    }
  }
  bool sleep(detail::cond_node& n, std::int64_t rel_ns) noexcept;  // rel_ns < 0: no timeout
  detail::lock_word lock_{0};
  detail::wait_list waiters_ GORO_GUARDED_BY(lock_);
};

// golang.org/x/sync/semaphore.Weighted: acquire(n) waits until n units are
// free (FIFO: a large request is not overtaken by small ones); release(n)
// returns them; releasing more than is held panics.
class semaphore {
 public:
  explicit semaphore(std::int64_t n) noexcept : size_(n) {}
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;

  void acquire(std::int64_t n = 1);
  // Waits for n units or for ctx to end, whichever comes first; returns the
  // context's error in the second case (and takes nothing).
  [[nodiscard]] std::error_code acquire(const context& ctx, std::int64_t n = 1);
  [[nodiscard]] bool try_acquire(std::int64_t n = 1) noexcept;
  void release(std::int64_t n = 1);

 private:
  detail::lock_word lock_{0};
  std::int64_t size_;
  std::int64_t cur_ GORO_GUARDED_BY(lock_) = 0;
  detail::wait_list waiters_ GORO_GUARDED_BY(lock_);
};

}  // namespace goro
