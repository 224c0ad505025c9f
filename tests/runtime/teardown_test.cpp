// teardown_test.cpp — goroutines still alive when main returns are
// discarded, run still returns, and the next run starts clean.
#include <goro/goro.hpp>
#include <goro/testing.hpp>
#include <gtest/gtest.h>

#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "chan_test_util.hpp"
#include "test_support.hpp"

namespace {

TEST(Teardown, GoroutinesBlockedForeverAreDiscarded) {
  goro::testing::allow_leaks leaks;  // what run discards is the subject
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
  goro::testing::allow_leaks leaks;  // what run discards is the subject
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

// One goroutine's closure state: whether its body ran, and how many times the
// goroutine's own copy of its Counted was destroyed.
struct Slot {
  std::atomic<int> ran{0};
  std::atomic<int> destroyed{0};
};

struct Tally {
  std::vector<Slot> slots;
  std::atomic<int> ran{0};                // bodies that ran
  std::atomic<int> destroyed_unrun{0};    // copies destroyed without their body running
  std::atomic<bool> run_returned{false};  // set once run() has returned
  std::atomic<int> ran_late{0};           // bodies that ran after that
  explicit Tally(int n) : slots(static_cast<std::size_t>(n)) {}

  void body(int i) {
    if (run_returned.load()) ran_late.fetch_add(1);
    slots[static_cast<std::size_t>(i)].ran.store(1);
    ran.fetch_add(1);
  }
};

// Move-only: exactly one armed Counted per goroutine exists at a time (the
// temporaries at the go statement are moved from), so its destructor counts
// the goroutine's own copy only, whenever that copy dies: after the body, or
// at teardown.
struct Counted {
  Tally* t;
  int i;
  Counted(Tally* tally, int index) : t(tally), i(index) {}
  Counted(Counted&& o) noexcept : t(std::exchange(o.t, nullptr)), i(o.i) {}
  Counted& operator=(Counted&&) = delete;
  ~Counted() {
    if (!t) return;
    Slot& s = t->slots[static_cast<std::size_t>(i)];
    if (s.ran.load() == 0) t->destroyed_unrun.fetch_add(1);
    s.destroyed.fetch_add(1);
  }
};

TEST(Teardown, GoroutinesThatNeverStartedAreDestroyedNotRun) {
  // Main spawns n goroutines and returns without blocking. Not guaranteed:
  // that none of them starts (other processors, or the spare one sysmon lends
  // while main hogs its own for 10 ms, run some; how many depends on the
  // machine's speed). Guaranteed: each either started, and (never blocking)
  // ran to completion before run returned, or never started, and then its
  // closure was destroyed at teardown without running. Every closure is
  // destroyed exactly once, by the time run returns, and none runs after.
  const int n = goro_test::scaled(10'000, 1'000);
  for (int procs : {1, 2, 4}) {
    Tally t(n);
    goro::run(
        [&] {
          for (int i = 0; i < n; ++i) {
            if (i % 2 == 0) goro::go([&t, i, c = Counted(&t, i)] { t.body(i); });
            else goro::go([&t](int j, Counted) { t.body(j); }, i, Counted(&t, i));
          }
        },
        goro::config{.procs = procs});
    t.run_returned.store(true);
    const int ran = t.ran.load();
    int destroyed_once = 0;
    for (const Slot& s : t.slots) destroyed_once += s.destroyed.load() == 1;
    EXPECT_EQ(destroyed_once, n) << "procs " << procs << ": every closure is destroyed once, by the time run returns";
    EXPECT_EQ(t.destroyed_unrun.load(), n - ran) << "procs " << procs << ": " << ran << " of " << n << " ran";
    // None resumes later: not after run returned, nor in the next run.
    goro::run([] {
      for (int i = 0; i < 100; ++i) goro::yield();
      goro::sleep(std::chrono::milliseconds(20));
    });
    EXPECT_EQ(t.ran.load(), ran) << "procs " << procs;
    EXPECT_EQ(t.ran_late.load(), 0) << "procs " << procs;
    int destroyed_total = 0;
    for (const Slot& s : t.slots) destroyed_total += s.destroyed.load();
    EXPECT_EQ(destroyed_total, n) << "procs " << procs;
    std::printf("procs %d: %d of %d goroutines ran, %d were destroyed without running\n", procs, ran, n,
                t.destroyed_unrun.load());
  }
}

// Fills 16 KiB of the calling goroutine's stack with a pattern.
[[gnu::noinline]] void scribble_on_stack() {
  volatile unsigned char a[16 * 1024];
  for (auto& c : a) c = 0xA5;
}
// More than one chunk of pooled stacks (256 stacks) at either scale.
const int kScribblers = goro_test::scaled(600, 300);

TEST(Teardown, WaitGroupThatOutlivesRunIsUsableAgain) {
  goro::testing::allow_leaks leaks;  // what run discards is the subject
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
// destroys the group, then returns. The four are runnable, on no wait
// queue, so teardown has no business with the group: its page is made
// inaccessible to catch any access. (A released waiter that resumes early
// on a spare processor does not touch the group either.)
void release_then_destroy_before_waiters_resume() {
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) std::exit(3);
  auto* gate = new (page) goro::wait_group;
  gate->add(1);
  goro::run(
      [gate, page] {
        auto ids = goro::make_chan<std::int64_t>(4);
        for (int i = 0; i < 4; ++i) {
          goro::go([ids, gate] {
            ids.send(goro::this_goroutine::id());
            gate->wait();
          });
        }
        // All four parked in wait() (a spare processor lent while main
        // computed may run them in parallel with main, so wait for it).
        for (int i = 0; i < 4; ++i)
          if (!goro_test::wait_until_parked(*ids.recv(), "sync.WaitGroup.Wait")) std::exit(4);
        gate->done();  // readies the four: if one resumes before main returns, wait() only returns
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
  goro::testing::allow_leaks leaks;  // what run discards is the subject
  for (int round = 0; round < goro_test::scaled(20, 5); ++round) {
    goro::wait_group never;  // outlives run, as the goroutines may use it until then
    never.add(1);
    goro::run(
        [&] {
          for (int i = 0; i < 100; ++i) goro::go([&] { never.wait(); });
          for (int i = 0; i < 100; ++i)
            goro::go([] {
              for (;;) goro::yield();
            });
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
