// run_test.cpp — goro::run, goroutine ids, num_goroutine and gomaxprocs.
#include <goro/goro.hpp>
#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

TEST(Run, ReturnsTheIntOfTheMainFunction) {
  EXPECT_EQ(goro::run([] { return 42; }), 42);
  EXPECT_EQ(goro::run([] { return -3; }), -3);
  EXPECT_EQ(goro::run([] { return 0; }), 0);
  EXPECT_EQ(goro::run([]() -> short { return 7; }), 7);
}

TEST(Run, VoidMainReturnsZero) {
  bool ran = false;
  EXPECT_EQ(goro::run([&] { ran = true; }), 0);
  EXPECT_TRUE(ran);
}

TEST(Run, RunsManyTimesInOneProcess) {
  const int rounds = goro_test::scaled(200, 50);
  for (int r = 0; r < rounds; ++r) {
    const int procs = 1 + r % 4;
    int got = goro::run(
        [&] {
          EXPECT_EQ(goro::gomaxprocs(), procs);
          EXPECT_EQ(goro::this_goroutine::id(), 1);
          goro::wait_group wg;
          int sum = 0;  // written by one goroutine at a time (wg orders them)
          for (int i = 1; i <= 10; ++i) {
            wg.add(1);
            goro::go([&, i] {
              sum += i;
              wg.done();
            });
            wg.wait();
          }
          return sum + r;
        },
        goro::config{.procs = procs});
    ASSERT_EQ(got, 55 + r) << "round " << r;
  }
}

TEST(Run, MutableAndMoveOnlyMainFunctions) {
  auto p = std::make_unique<int>(5);
  EXPECT_EQ(goro::run([p = std::move(p)]() mutable { return *p + 1; }), 6);
  int calls = 0;
  auto f = [&calls]() mutable { return ++calls; };
  EXPECT_EQ(goro::run(f), 1);  // an lvalue callable is copied
  EXPECT_EQ(calls, 1);
}

TEST(GoroutineId, MainIsOnePlainThreadIsZero) {
  EXPECT_EQ(goro::this_goroutine::id(), 0);  // the test thread, no runtime
  goro::run([] {
    EXPECT_EQ(goro::this_goroutine::id(), 1);
    std::int64_t on_thread = -1;
    std::thread t([&] { on_thread = goro::this_goroutine::id(); });
    t.join();
    EXPECT_EQ(on_thread, 0);
    goro::yield();
    EXPECT_EQ(goro::this_goroutine::id(), 1);
  });
  EXPECT_EQ(goro::this_goroutine::id(), 0);  // the same thread, after run
  EXPECT_EQ(goro::run([] { return static_cast<int>(goro::this_goroutine::id()); }), 1);
}

TEST(GoroutineId, UniqueAcrossGoroutinesAndStableAcrossYields) {
  const int n = goro_test::scaled(20'000, 800);
  std::vector<std::int64_t> ids(n);
  std::atomic<int> changed{0};
  goro::run(
      [&] {
        goro::wait_group wg;
        wg.add(n);
        for (int i = 0; i < n; ++i) {
          goro::go([&, i] {
            ids[i] = goro::this_goroutine::id();
            goro::yield();  // may resume on another thread
            if (goro::this_goroutine::id() != ids[i]) changed.fetch_add(1);
            wg.done();
          });
        }
        wg.wait();
      },
      goro::config{.procs = 4});
  EXPECT_EQ(changed.load(), 0);
  std::sort(ids.begin(), ids.end());
  EXPECT_GT(ids.front(), 1);
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "duplicate goroutine id";
}

TEST(NumGoroutine, CountsLiveGoroutines) {
  const int n = goro_test::scaled(1000, 100);
  goro::run([&] {
    EXPECT_EQ(goro::num_goroutine(), 1);  // main alone
    goro::wait_group started, gate, finished;
    started.add(n);
    gate.add(1);
    finished.add(n);
    for (int i = 0; i < n; ++i) {
      goro::go([&] {
        started.done();
        gate.wait();
        finished.done();
      });
    }
    started.wait();
    EXPECT_EQ(goro::num_goroutine(), n + 1);  // n blocked on gate, plus main
    gate.done();
    finished.wait();
    // The n goroutines are now ending; they are gone once they have exited.
    goro_test::bailout limit;
    while (goro::num_goroutine() != 1 && !limit.expired()) goro::yield();
    EXPECT_EQ(goro::num_goroutine(), 1);
  });
}

TEST(NumGoroutine, CountsGoroutinesStartedFromPlainThreads) {
  goro::run([] {
    goro::wait_group gate, finished;
    gate.add(1);
    finished.add(3);
    std::thread t([&] {
      for (int i = 0; i < 3; ++i)
        goro::go([&] {
          gate.wait();
          finished.done();
        });
    });
    t.join();
    EXPECT_EQ(goro::num_goroutine(), 4);
    gate.done();
    finished.wait();
  });
}

TEST(Gomaxprocs, QueriesAndSets) {
  goro::run(
      [] {
        EXPECT_EQ(goro::gomaxprocs(), 3);
        EXPECT_EQ(goro::gomaxprocs(0), 3);
        EXPECT_EQ(goro::gomaxprocs(-1), 3);  // n <= 0 only queries
        EXPECT_EQ(goro::gomaxprocs(2), 3);   // returns the previous value
        EXPECT_EQ(goro::gomaxprocs(), 2);
        EXPECT_EQ(goro::gomaxprocs(5), 2);
        EXPECT_EQ(goro::gomaxprocs(), 5);
        EXPECT_EQ(goro::gomaxprocs(1), 5);
        EXPECT_EQ(goro::gomaxprocs(1), 1);
      },
      goro::config{.procs = 3});
}

// Goroutines sleep on timers armed on several processors; gomaxprocs then
// shrinks to 1 while those processors are idle. Their timers must still
// fire (a stranded timer leaves its goroutine asleep for ever, and the
// deadlock detector would then report a false deadlock). A round whose
// timers all landed on one processor proves nothing, so the sleepers
// compute until goroutines have run on two processors (idle ones steal
// from the first; on a loaded machine their threads may start late), and
// rounds go on until five have spread (at most 40).
TEST(Gomaxprocs, TimersOfRetiredProcessorsStillFire) {
  int spread_rounds = 0;
  for (int round = 0; round < 40 && spread_rounds < 5; ++round) {
    goro::run(
        [&] {
          constexpr int kSleepers = 32;
          goro::wait_group armed, woke;
          armed.add(kSleepers);
          woke.add(kSleepers);
          std::array<std::atomic<int>, 4> on{};
          std::atomic<unsigned> seen{0};  // a bit per processor a sleeper ran on
          for (int i = 0; i < kSleepers; ++i) {
            goro::go([&] {
              // Compute until idle processors have stolen some of us (at most 1 s).
              const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(1);
              for (;;) {
                const unsigned me = 1u << (goro::introspect::current_processor() % 4);
                if (std::popcount(seen.fetch_or(me) | me) >= 2 || std::chrono::steady_clock::now() > give_up) break;
                for (int k = 0; k < 1000; ++k) std::atomic_signal_fence(std::memory_order_seq_cst);
              }
              // A timer goes into the heap of the processor that arms it.
              on[static_cast<std::size_t>(goro::introspect::current_processor()) % on.size()].fetch_add(1);
              goro::timer t(std::chrono::milliseconds(40));
              armed.done();
              t.c().recv();
              woke.done();
            });
          }
          armed.wait();
          goro::gomaxprocs(1);
          woke.wait();
          int used = 0;
          for (auto& n : on) used += n.load() > 0;
          spread_rounds += used >= 2;
        },
        goro::config{.procs = 4});
  }
  EXPECT_EQ(spread_rounds, 5) << "the premise: timers armed on several processors";
}

TEST(Gomaxprocs, ConfigProcsIsHonoured) {
  for (int procs : {1, 2, 3, 8}) {
    goro::run(
        [&] {
          EXPECT_EQ(goro::gomaxprocs(), procs);
          EXPECT_EQ(goro::introspect::processor_run_counts().size(), static_cast<std::size_t>(procs));
        },
        goro::config{.procs = procs});
  }
}

// Sets an environment variable for the scope (no runtime runs meanwhile).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_) setenv(name_, old_.c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(Gomaxprocs, EnvironmentVariableIsHonoured) {
  {
    ScopedEnv env("GOMAXPROCS", "5");
    EXPECT_EQ(goro::run([] { return goro::gomaxprocs(); }), 5);
    // config.procs wins over the environment.
    EXPECT_EQ(goro::run([] { return goro::gomaxprocs(); }, goro::config{.procs = 2}), 2);
  }
  {
    ScopedEnv env("GOMAXPROCS", nullptr);  // unset: the CPUs this process may use
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    EXPECT_EQ(goro::run([] { return goro::gomaxprocs(); }), CPU_COUNT(&set));
  }
}

}  // namespace
