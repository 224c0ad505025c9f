// spawn_test.cpp — goro::go at scale, from goroutines and from plain threads.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using goro_test::scaled;

TEST(Spawn, MillionGoroutinesJoinWithChecksum) {
  const std::int64_t n = scaled<std::int64_t>(1'000'000, 2'000);
  std::atomic<std::int64_t> sum{0};
  std::atomic<std::int64_t> ran{0};
  goro::run([&] {
    goro::wait_group wg;
    wg.add(n);
    for (std::int64_t i = 0; i < n; ++i) {
      goro::go(
          [&](std::int64_t x) {
            sum.fetch_add(x, std::memory_order_relaxed);
            ran.fetch_add(1, std::memory_order_relaxed);
            wg.done();
          },
          i);
    }
    wg.wait();
  });
  EXPECT_EQ(ran.load(), n);
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
}

// A spawner that runs for more than 10 ms without parking is asked to yield
// by sysmon (preempt_check at go()), which may meanwhile have lent a spare
// processor that stole it. Requeued globally from the spare processor while
// both regular processors slept, it was never run again (a hang, about one
// run in twenty); after_requeue now wakes one of them.
TEST(Spawn, APreemptedSpawnerIsAlwaysResumed) {
  // Small scale: a sanitizer build spawns ~100x slower, so 1,000 spawns
  // still keep main busy well past sysmon's 10 ms.
  const int rounds = goro_test::scaled(20, 2);
  const std::int64_t n = scaled<std::int64_t>(1'000'000, 1'000);
  for (int r = 0; r < rounds; ++r) {
    std::atomic<std::int64_t> ran{0};
    goro::run(
        [&] {
          goro::wait_group wg;
          wg.add(n);
          for (std::int64_t i = 0; i < n; ++i)
            goro::go([&] {
              ran.fetch_add(1, std::memory_order_relaxed);
              wg.done();
            });
          wg.wait();
        },
        goro::config{.procs = 2});
    ASSERT_EQ(ran.load(), n) << "round " << r;
  }
}

TEST(Spawn, GoroutinesSpawnedByGoroutines) {
  // A two-level tree: main spawns parents, each parent spawns children.
  const int parents = scaled(1000, 20), children = 100;
  std::atomic<std::int64_t> sum{0};
  goro::run([&] {
    goro::wait_group wg;
    wg.add(parents * (children + 1));
    for (int p = 0; p < parents; ++p) {
      goro::go([&, p] {
        for (int c = 0; c < children; ++c)
          goro::go(
              [&](int v) {
                sum.fetch_add(v, std::memory_order_relaxed);
                wg.done();
              },
              p * children + c);
        wg.done();
      });
    }
    wg.wait();
  });
  const std::int64_t n = std::int64_t{parents} * children;
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
}

TEST(Spawn, HundredThousandYieldingGoroutines) {
  const int n = scaled(100'000, 1'000);
  std::atomic<std::int64_t> iterations{0};
  std::int64_t expected = 0;
  for (int i = 0; i < n; ++i) expected += i % 7 + 1;
  goro::run([&] {
    goro::wait_group wg;
    wg.add(n);
    for (int i = 0; i < n; ++i) {
      goro::go([&, loops = i % 7 + 1] {
        for (int k = 0; k < loops; ++k) {
          iterations.fetch_add(1, std::memory_order_relaxed);
          goro::yield();
        }
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(iterations.load(), expected);
}

TEST(Spawn, FromPlainThreadsWhileRuntimeRuns) {
  constexpr int kThreads = 4;
  const int per_thread = scaled(20'000, 200);
  std::atomic<std::int64_t> sum{0};
  goro::run([&] {
    goro::wait_group wg;
    wg.add(kThreads * per_thread);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        EXPECT_EQ(goro::this_goroutine::id(), 0);
        for (int i = 0; i < per_thread; ++i) {
          goro::go(
              [&](int v) {
                sum.fetch_add(v, std::memory_order_relaxed);
                wg.done();
              },
              t * per_thread + i);
        }
      });
    }
    wg.wait();  // the main goroutine waits for goroutines started elsewhere
    for (auto& t : threads) t.join();
  });
  const std::int64_t n = std::int64_t{kThreads} * per_thread;
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
}

TEST(Spawn, PlainThreadWaitsForGoroutines) {
  const int n = scaled(10'000, 1'000);
  std::atomic<std::int64_t> sum{0};
  std::int64_t seen_by_thread = -1;
  goro::run([&] {
    goro::wait_group work, thread_done;
    work.add(n);
    thread_done.add(1);
    std::thread waiter([&] {
      work.wait();  // blocks this plain thread, not a processor
      seen_by_thread = sum.load();
      thread_done.done();
    });
    for (int i = 0; i < n; ++i)
      goro::go(
          [&](int v) {
            sum.fetch_add(v, std::memory_order_relaxed);
            work.done();
          },
          i);
    thread_done.wait();
    waiter.join();
  });
  EXPECT_EQ(seen_by_thread, std::int64_t{n} * (n - 1) / 2);
}

TEST(Spawn, GoroutinesStartedFromPlainThreadsSpawnMore) {
  // A goroutine born on a plain thread is a full goroutine: it may spawn.
  const int n = scaled(2'000, 200);
  std::atomic<int> grandchildren{0};
  goro::run([&] {
    goro::wait_group wg;
    wg.add(2 * n);
    std::thread t([&] {
      for (int i = 0; i < n; ++i) {
        goro::go([&] {
          EXPECT_GT(goro::this_goroutine::id(), 1);
          goro::go([&] {
            grandchildren.fetch_add(1);
            wg.done();
          });
          wg.done();
        });
      }
    });
    wg.wait();
    t.join();
  });
  EXPECT_EQ(grandchildren.load(), n);
}

TEST(Spawn, GoWithoutRuntimeThrowsLogicError) {
  EXPECT_THROW(goro::go([] {}), std::logic_error);
  int calls = 0;
  EXPECT_THROW(goro::go([&](int) { ++calls; }, 1), std::logic_error);
  // From a plain thread, and after a run has come and gone.
  goro::run([] {});
  std::thread t([] { EXPECT_THROW(goro::go([] {}), std::logic_error); });
  t.join();
  const goro::spawn_options opts{.name = "x"};
  EXPECT_THROW(goro::go(opts, [] {}), std::logic_error);
  EXPECT_EQ(calls, 0);
}

}  // namespace
