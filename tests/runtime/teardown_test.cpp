// teardown_test.cpp — goroutines still alive when main returns are
// discarded, run still returns, and the next run starts clean.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

#include "test_support.hpp"

namespace {

TEST(Teardown, GoroutinesBlockedForeverAreDiscarded) {
  const int n = goro_test::scaled(1000, 100);
  for (int procs : {1, 2, 4}) {
    // What a goroutine uses must outlive run: a goroutine still running on
    // another thread when main returns goes on until its next scheduling
    // point. `never` is never done.
    goro::wait_group never;
    never.add(1);
    int rc = goro::run(
        [&] {
          goro::wait_group started;
          started.add(n);
          for (int i = 0; i < n; ++i) {
            goro::go([&] {
              started.done();
              never.wait();
              ADD_FAILURE() << "a discarded goroutine resumed";
            });
          }
          started.wait();
          return 17;
        },
        goro::config{.procs = procs});
    EXPECT_EQ(rc, 17) << "procs " << procs;
    EXPECT_EQ(goro::run([] { return goro::num_goroutine(); }), 1) << "procs " << procs;
  }
}

TEST(Teardown, RunningGoroutinesStopAtTheirNextSchedulingPoint) {
  // Goroutines that yield forever on every processor: run returns once each
  // reaches its next yield.
  const int n = 16;
  for (int procs : {1, 2, 4, 8}) {
    std::atomic<int> started{0};
    int rc = goro::run(
        [&] {
          goro::wait_group wg;
          wg.add(n);
          for (int i = 0; i < n; ++i) {
            goro::go([&] {
              started.fetch_add(1);
              wg.done();
              for (;;) goro::yield();
            });
          }
          wg.wait();
          return procs;
        },
        goro::config{.procs = procs});
    EXPECT_EQ(rc, procs);
    EXPECT_EQ(started.load(), n);
  }
  EXPECT_EQ(goro::run([] { return 5; }), 5);
}

// Counts its destructions.
struct Counted {
  std::atomic<int>* destroyed;
  explicit Counted(std::atomic<int>* d) : destroyed(d) {}
  Counted(const Counted& o) : destroyed(o.destroyed) {}
  ~Counted() { destroyed->fetch_add(1); }
};

TEST(Teardown, GoroutinesThatNeverStartedAreDestroyedNotRun) {
  // One processor and a main that never blocks: nothing it spawns can start
  // before it returns. Their closures are destroyed, never run.
  const int n = goro_test::scaled(10'000, 1'000);
  std::atomic<int> destroyed{0}, ran{0};
  goro::run(
      [&] {
        for (int i = 0; i < n; ++i) {
          if (i % 2 == 0)
            goro::go([&, c = Counted(&destroyed)] { ran.fetch_add(1); });
          else
            goro::go([&](Counted) { ran.fetch_add(1); }, Counted(&destroyed));
        }
        destroyed.store(0);  // count only the goroutines' own copies from here
      },
      goro::config{.procs = 1});
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(destroyed.load(), n);
}

// Fills 16 KiB of the calling goroutine's stack with a pattern.
[[gnu::noinline]] void scribble_on_stack() {
  volatile unsigned char a[16 * 1024];
  for (auto& c : a) c = 0xA5;
}
constexpr int kScribblers = 600;  // more than one chunk of pooled stacks

TEST(Teardown, WaitGroupThatOutlivesRunIsUsableAgain) {
  // Discarded goroutines leave the wait queues of objects that outlive run.
  goro::wait_group wg;
  wg.add(1);
  goro::run(
      [&] {
        goro::wait_group parked;
        parked.add(4);
        for (int i = 0; i < 4; ++i) {
          goro::go([&] {
            parked.done();
            wg.wait();  // never released in this run
          });
        }
        // One processor: the last goroutine readies main and then parks, so
        // all four are parked on wg when main resumes.
        parked.wait();
      },
      goro::config{.procs = 1});
  // `hold` outlives the second run: a scribbler may reach hold.wait() only
  // after main has released it and returned (then it must not find a dead
  // object on main's stack).
  goro::wait_group hold;
  hold.add(1);
  int rc = goro::run([&] {
    // Reuse (and scribble on) every stack the first run freed, so that a
    // stale wait-queue entry left in one cannot pass unnoticed.
    goro::wait_group scribbled;
    scribbled.add(kScribblers);
    for (int i = 0; i < kScribblers; ++i) {
      goro::go([&] {
        scribble_on_stack();
        scribbled.done();
        hold.wait();
      });
    }
    scribbled.wait();
    std::atomic<int> passed{0};
    goro::wait_group waiters;
    waiters.add(2);
    for (int i = 0; i < 2; ++i) {
      goro::go([&] {
        wg.wait();
        passed.fetch_add(1);
        waiters.done();
      });
    }
    wg.done();  // releases this run's waiters only
    waiters.wait();
    wg.wait();
    hold.done();
    return passed.load();
  });
  EXPECT_EQ(rc, 2);
}

// One processor: four goroutines park on `gate`, main releases them and
// destroys the group before any of them resumes, then returns. The four are
// runnable, on no wait queue, so teardown has no business with the group:
// its page is made inaccessible to catch any access.
void release_then_destroy_before_waiters_resume() {
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) std::exit(3);
  auto* gate = new (page) goro::wait_group;
  gate->add(1);
  goro::run(
      [gate, page] {
        goro::wait_group parked;
        parked.add(4);
        for (int i = 0; i < 4; ++i) {
          goro::go([&parked, gate] {
            parked.done();
            gate->wait();
          });
        }
        parked.wait();  // the last goroutine readies main, then parks
        gate->done();   // readies the four; none runs before main returns
        gate->~wait_group();
        mprotect(page, 4096, PROT_NONE);
      },
      goro::config{.procs = 1});
  std::exit(0);
}

TEST(TeardownDeathTest, ReleasedWaitersDoNotTouchTheGroupAtTeardown) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(release_then_destroy_before_waiters_resume(), testing::ExitedWithCode(0), "");
}

TEST(Teardown, NextRunStartsClean) {
  for (int round = 0; round < goro_test::scaled(20, 5); ++round) {
    goro::wait_group never;  // outlives run, as the goroutines may use it until then
    never.add(1);
    goro::run(
        [&] {
          for (int i = 0; i < 100; ++i) goro::go([&] { never.wait(); });
          for (int i = 0; i < 100; ++i) goro::go([] { for (;;) goro::yield(); });
          goro::yield();
        },
        goro::config{.procs = 1 + round % 3});
    goro::run([] {
      EXPECT_EQ(goro::this_goroutine::id(), 1);
      EXPECT_EQ(goro::num_goroutine(), 1);
      for (std::uint64_t c : goro::introspect::processor_run_counts()) EXPECT_LE(c, 1u);
    });
  }
}

}  // namespace
