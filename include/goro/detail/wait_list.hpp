// goro/detail/wait_list.hpp — storage the runtime keeps inside public sync
// objects. Not an API: only the runtime reads or writes these fields.
#pragma once

#include <atomic>
#include <cstdint>

#include <goro/thread_annotations.hpp>

#if defined(__SANITIZE_THREAD__) || defined(GORO_TSAN)  // GORO_TSAN: the runtime's own sources
#define GORO_DETAIL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORO_DETAIL_TSAN 1
#endif
#endif
#if defined(GORO_DETAIL_TSAN)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace goro::detail {

// Happens-before annotations for code in headers (ThreadSanitizer builds).
inline void tsan_acquire([[maybe_unused]] const void* addr) noexcept {
#if defined(GORO_DETAIL_TSAN)
  __tsan_acquire(const_cast<void*>(addr));
#endif
}
inline void tsan_release([[maybe_unused]] const void* addr) noexcept {
#if defined(GORO_DETAIL_TSAN)
  __tsan_release(const_cast<void*>(addr));
#endif
}

// A FIFO of parked waiters (the runtime's rt::WaitQueue, same layout).
struct wait_list {
  void* head = nullptr;
  void* tail = nullptr;
};

// A lock word for the runtime's short critical sections (rt::Lock protocol):
// a thread-safety capability, so that what it guards is checked by Clang.
// Its lock rank is its type's (the runtime's lock.hpp): a lock_word is a
// wait queue's (sema, cond, semaphore, wait_group), a chan_lock_word a
// channel's.
struct GORO_CAPABILITY("mutex") lock_word : std::atomic<std::uint32_t> {
  using std::atomic<std::uint32_t>::atomic;
};
struct GORO_CAPABILITY("mutex") chan_lock_word : lock_word {
  using lock_word::lock_word;
};

// A counting semaphore with a FIFO of waiters (Go's runtime sema): the unit
// released goes straight to the first waiter.
struct sema {
  lock_word lock{0};
  std::uint32_t count GORO_GUARDED_BY(lock) = 0;
  wait_list waiters GORO_GUARDED_BY(lock);
};

}  // namespace goro::detail
