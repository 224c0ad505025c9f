// teardown_leak_test.cpp — timers still pending when run() ends must not
// leak. goro::after(d) and a dropped after_func handle leave the runtime's
// heap as the only owner of the timer; run()'s teardown forgets its pending
// timers, so it must release those references too.
//
// Counted here without a sanitizer: this executable replaces the global
// operator new/delete with counting ones (its own executable, so the other
// time tests are unaffected), and compares the allocations a run leaves
// behind with and without pending timers.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>

#include "test_support.hpp"
#include "watchdog.hpp"

namespace {
std::atomic<long> live_allocations{0};

void* counted_alloc(std::size_t n, std::size_t align) {
  void* p = align <= alignof(std::max_align_t) ? std::malloc(n ? n : 1)
                                               : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (!p) throw std::bad_alloc();
  live_allocations.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void counted_free(void* p) noexcept {
  if (!p) return;
  live_allocations.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }

namespace {

using namespace std::chrono_literals;

// Allocations still live after a run that leaves `n` timers of each kind pending.
long left_behind(int n) {
  long before = live_allocations.load();
  goro::run([n] {
    for (int i = 0; i < n; ++i) {
      (void)goro::after(1h);
      (void)goro::after_func(1h, [] {});
    }
  });
  return live_allocations.load() - before;
}

TEST(TimeTeardown, TimersPendingWhenRunEndsAreReleased) {
  left_behind(0);  // warm-up: whatever the runtime caches across runs
  left_behind(0);
  long baseline = left_behind(0);
  long with_timers = left_behind(100);
  // 100 after() + 100 after_func() pending: nothing of them may stay behind.
  EXPECT_LE(with_timers - baseline, 10) << "allocations left behind by a run with 200 pending timers: " << with_timers
                                        << " (without: " << baseline << ")";
}

// The runtime itself does not grow from run to run. Over 20 runs, with and without pending timers, what stays allocated
// does not grow: a leak of even one allocation per run would leave 20 (the first runs may fill caches the runtime keeps
// for good, so they are not counted).
TEST(TimeTeardown, RepeatedRunsDoNotAccumulateAllocations) {
  for (int i = 0; i < 3; ++i) left_behind(i % 2 ? 100 : 0);
  const long before = live_allocations.load();
  for (int i = 0; i < 20; ++i) left_behind(i % 2 ? 100 : 0);
  EXPECT_LE(live_allocations.load() - before, 2) << "allocations accumulated over 20 runs";
}

}  // namespace
