// goro/wait_group.hpp — sync.WaitGroup.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <goro/detail/wait_list.hpp>
#include <goro/thread_annotations.hpp>

namespace goro {

// sync.WaitGroup: add(n) before starting the work, done() when each part
// ends, wait() until the counter is zero. A negative counter panics with
// "sync: negative WaitGroup counter". The group may be destroyed as soon as
// wait() returns (as a std::latch may) and reused afterwards.
class wait_group {
 public:
  wait_group() noexcept = default;
  wait_group(const wait_group&) = delete;
  wait_group& operator=(const wait_group&) = delete;

  void add(std::ptrdiff_t n);
  void done() { add(-1); }
  void wait();

 private:
  // High 32 bits: the counter; low 32 bits: the number of waiters.
  std::atomic<std::uint64_t> state_{0};
  detail::lock_word lock_{0};
  detail::wait_list waiters_ GORO_GUARDED_BY(lock_);  // parked waiters (runtime-owned)
};

}  // namespace goro
