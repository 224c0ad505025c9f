// rw_mutex.cpp — sync.RWMutex (Go's sync/rwmutex.go design).
//
// readers_ counts active readers; a writer subtracts kMaxReaders from it, so
// a negative count tells arriving readers that a writer is pending: they
// park on reader_sem_ instead of entering, and the writer cannot starve.
// reader_wait_ counts the readers the writer still waits for; the last of
// them releases writer_sem_. Writers exclude each other with w_.
#include "goro/sync.hpp"

#include "runtime/debug.hpp"
#include "runtime/park.hpp"

namespace goro {

namespace {
constexpr std::int32_t kMaxReaders = 1 << 30;
}

void rw_mutex::lock_shared() {
  if (readers_.fetch_add(1, std::memory_order_acquire) + 1 < 0)
    rt::sema_acquire(reader_sem_, false, rt::WaitReason::rwmutex_rlock, &discard_reader, this);
  detail::tsan_acquire(this);
}

// run()'s teardown discarded a reader still queued behind a writer: it
// counted itself in readers_ on arrival, so the writer's unlock would count
// it as a reader it let in (and release a unit for it). It counts itself
// out. (A reader already given its unit holds the read lock, and keeps it:
// API.md's teardown rule.)
void rw_mutex::discard_reader(void* self) noexcept {
  static_cast<rw_mutex*>(self)->readers_.fetch_sub(1, std::memory_order_relaxed);
}

bool rw_mutex::try_lock_shared() noexcept {
  std::int32_t c = readers_.load(std::memory_order_relaxed);
  do {
    if (c < 0) return false;
  } while (!readers_.compare_exchange_weak(c, c + 1, std::memory_order_acquire, std::memory_order_relaxed));
  detail::tsan_acquire(this);
  return true;
}

void rw_mutex::unlock_shared() noexcept {
  detail::tsan_release(&reader_wait_);
  std::int32_t r = readers_.fetch_sub(1, std::memory_order_release) - 1;
  if (r < 0) {
    if (r + 1 == 0 || r + 1 == -kMaxReaders) rt::fatal("sync: RUnlock of unlocked RWMutex");
    // A writer is pending: the last departing reader lets it in.
    if (reader_wait_.fetch_sub(1, std::memory_order_release) - 1 == 0) rt::sema_release(writer_sem_, /*handoff=*/false);
  }
}

void rw_mutex::lock() {
  std::int32_t z = 0;
  if (!w_.state_.compare_exchange_strong(z, mutex::kLocked, std::memory_order_acquire, std::memory_order_relaxed))
    w_.lock_slow(mutex::locker::rw_writer);
  std::int32_t r = readers_.fetch_sub(kMaxReaders, std::memory_order_acq_rel);
  if (r != 0 && reader_wait_.fetch_add(r, std::memory_order_acq_rel) + r != 0)
    rt::sema_acquire(writer_sem_, false, rt::WaitReason::rwmutex_lock);
  detail::tsan_acquire(this);
  detail::tsan_acquire(&reader_wait_);
}

bool rw_mutex::try_lock() noexcept {
  if (!w_.try_lock()) return false;
  std::int32_t z = 0;
  if (!readers_.compare_exchange_strong(z, -kMaxReaders, std::memory_order_acquire, std::memory_order_relaxed)) {
    w_.unlock();
    return false;
  }
  detail::tsan_acquire(this);
  detail::tsan_acquire(&reader_wait_);
  return true;
}

void rw_mutex::unlock() noexcept {
  detail::tsan_release(this);
  std::int32_t r = readers_.fetch_add(kMaxReaders, std::memory_order_release) + kMaxReaders;
  if (r >= kMaxReaders) rt::fatal("sync: Unlock of unlocked RWMutex");
  for (std::int32_t i = 0; i < r; ++i) rt::sema_release(reader_sem_, /*handoff=*/false);
  w_.unlock();
}

}  // namespace goro
