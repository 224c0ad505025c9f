// scheduler_test.cpp — the G-M-P scheduler: work spreads over every P,
// gomaxprocs changes take effect, an idle runtime sleeps, and per-goroutine
// exception state survives migration.
#include <goro/goro.hpp>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <fstream>
#include <filesystem>
#include <map>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

// Runs `n` goroutines that each compute and yield until every one of the
// current `procs` processors has run a goroutine. Deterministic: the
// goroutines stay runnable (they only yield) until the goal is reached, so
// idle processors are woken and steal; the bail-out only stops a stuck run.
void spread_over_all_processors(int procs, int n = 64) {
  std::vector<std::atomic<bool>> seen(procs);
  std::atomic<int> distinct{0};
  goro_test::bailout limit;
  goro::wait_group wg;
  wg.add(n);
  for (int i = 0; i < n; ++i) {
    goro::go([&] {
      volatile std::uint64_t x = 0;
      while (distinct.load() < procs && !limit.expired()) {
        for (int k = 0; k < 1000; ++k) x = x + k;  // a little CPU work
        int p = goro::introspect::current_processor();
        if (p >= 0 && p < procs && !seen[p].exchange(true)) distinct.fetch_add(1);
        goro::yield();
      }
      wg.done();
    });
  }
  wg.wait();
  EXPECT_EQ(distinct.load(), procs);
  std::vector<std::uint64_t> counts = goro::introspect::processor_run_counts();
  ASSERT_GE(counts.size(), static_cast<std::size_t>(procs));
  for (int p = 0; p < procs; ++p) EXPECT_GT(counts[p], 0u) << "processor " << p << " never ran a goroutine";
}

class SpreadTest : public testing::TestWithParam<int> {};

TEST_P(SpreadTest, WorkSpreadsOverAllProcessors) {
  const int procs = GetParam();
  goro::run([&] { spread_over_all_processors(procs); }, goro::config{.procs = procs});
}

INSTANTIATE_TEST_SUITE_P(Procs, SpreadTest, testing::Values(2, 4, 8),
                         [](const testing::TestParamInfo<int>& info) { return "procs" + std::to_string(info.param); });

TEST(Scheduler, GomaxprocsGrowthPutsNewProcessorsToWork) {
  goro::run(
      [] {
        EXPECT_EQ(goro::gomaxprocs(4), 1);
        spread_over_all_processors(4);
      },
      goro::config{.procs = 1});
}

TEST(Scheduler, GomaxprocsShrinkRetiresProcessors) {
  const int n = goro_test::scaled(2000, 200);
  std::atomic<int> outside{0};
  goro::run(
      [&] {
        spread_over_all_processors(4);
        EXPECT_EQ(goro::gomaxprocs(1), 4);
        goro::wait_group wg;
        wg.add(n);
        for (int i = 0; i < n; ++i) {
          goro::go([&] {
            goro::yield();  // any processor above the limit gives us back here
            for (int k = 0; k < 3; ++k) {
              // Processors 1..3 are retired. (A processor the runtime lends
              // while a goroutine hogs its own has an id of its own, and may
              // run goroutines beyond gomaxprocs for a while, by design.)
              int p = goro::introspect::current_processor();
              if (p >= 1 && p < 4) outside.fetch_add(1);
              goro::yield();
            }
            wg.done();
          });
        }
        wg.wait();
      },
      goro::config{.procs = 4});
  EXPECT_EQ(outside.load(), 0);
}

TEST(Scheduler, YieldOnARetiredProcessorMovesTheGoroutine) {
  // After gomaxprocs(1), a goroutine left on processor 1 must move to
  // processor 0 at its next scheduling point, even when nothing else is
  // runnable (GOMAXPROCS stops the world in Go: nothing runs on a retired P).
  int after = -2;
  goro::run(
      [&] {
        std::atomic<bool> stop{false};
        std::atomic<int> finished{0};
        std::atomic<goro::wait_group*> request{nullptr};
        const int helpers = 32;
        for (int i = 0; i < helpers; ++i) {
          goro::go([&] {
            while (!stop.load()) {
              // A helper on processor 1 wakes main there (into its runnext).
              if (goro::introspect::current_processor() == 1)
                if (goro::wait_group* w = request.exchange(nullptr)) w->done();
              goro::yield();
            }
            finished.fetch_add(1);
          });
        }
        goro_test::bailout limit;
        while (goro::introspect::current_processor() != 1 && !limit.expired()) {
          goro::wait_group wg;
          wg.add(1);
          request.store(&wg);
          wg.wait();
        }
        ASSERT_EQ(goro::introspect::current_processor(), 1) << "main never reached processor 1";
        stop.store(true);
        // Busy-wait without a scheduling point, so main stays on processor 1
        // while processor 0 finishes (and steals) the helpers.
        while (finished.load() < helpers && !limit.expired()) {
        }
        ASSERT_EQ(finished.load(), helpers);
        EXPECT_EQ(goro::gomaxprocs(1), 2);
        goro::yield();
        after = goro::introspect::current_processor();
      },
      goro::config{.procs = 2});
  EXPECT_GE(after, 0);
  EXPECT_NE(after, 1) << "the goroutine kept running on a retired processor";
}

// The state letter of every thread of this process but the caller
// (/proc/self/task/<tid>/stat: R running or runnable, S sleeping, ...).
std::map<long, char> other_thread_states() {
  std::map<long, char> states;
  const long self = static_cast<long>(::syscall(SYS_gettid));
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    const long tid = std::stol(e.path().filename().string());
    if (tid == self) continue;
    std::ifstream f(e.path() / "stat");
    std::string line;
    if (!std::getline(f, line)) continue;  // the thread has just exited
    const std::size_t paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size()) states[tid] = line[paren + 2];
  }
  return states;
}

TEST(Scheduler, IdleRuntimeBurnsNoCpu) {
  // While main parks and nothing is runnable, every thread of the runtime
  // sleeps. A plain thread looks at their states 100 times, 10 ms apart: a
  // thread that spins is running (or waiting for a CPU: R) in nearly every
  // look, however loaded the machine; one that sleeps shows R only when a
  // look meets one of its rare wake-ups (sysmon's once a second).
  std::map<long, int> running;
  std::size_t threads = 0;
  goro::run(
      [&] {
        spread_over_all_processors(4);  // every M has been started and has worked
        goro::wait_group wg;
        wg.add(1);
        std::thread watcher([&] {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));  // (let the Ms settle)
          for (int i = 0; i < 100; ++i) {
            auto states = other_thread_states();
            threads = std::max(threads, states.size());
            for (auto [tid, st] : states) running[tid] += st == 'R';
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
          wg.done();
        });
        wg.wait();  // the main goroutine parks; every M should sleep
        watcher.join();
      },
      goro::config{.procs = 4});
  EXPECT_GE(threads, 4u) << "the premise: the runtime's threads were seen";
  for (auto [tid, n] : running) EXPECT_LT(n, 50) << "thread " << tid << " was running in " << n << " of 100 looks";
}

TEST(Scheduler, CaughtExceptionSurvivesParkingAndMigration) {
  // Blocking inside a catch block is safe: the goroutine's exception state
  // (std::current_exception, throw;) travels with it across threads.
  const int n = goro_test::scaled(2000, 200);
  std::atomic<int> correct{0};
  goro::run(
      [&] {
        goro::wait_group wg;
        wg.add(n);
        for (int i = 0; i < n; ++i) {
          goro::go([&, i] {
            try {
              throw std::runtime_error("e" + std::to_string(i));
            } catch (const std::exception&) {
              for (int k = 0; k < 3; ++k) goro::yield();
              try {
                throw;  // the exception caught above, on whatever thread we are now
              } catch (const std::runtime_error& e) {
                goro::yield();
                if (e.what() == "e" + std::to_string(i) && std::current_exception()) correct.fetch_add(1);
              }
            }
            if (!std::current_exception() && std::uncaught_exceptions() == 0) correct.fetch_add(1);
            wg.done();
          });
        }
        wg.wait();
      },
      goro::config{.procs = 4});
  EXPECT_EQ(correct.load(), 2 * n);
}

// Yields from its destructor, which runs during stack unwinding.
struct YieldOnUnwind {
  std::atomic<int>* ok;
  ~YieldOnUnwind() {
    goro::yield();
    if (std::uncaught_exceptions() == 1) ok->fetch_add(1);
  }
};

TEST(Scheduler, UnwindingSurvivesParkingAndMigration) {
  const int n = goro_test::scaled(2000, 200);
  std::atomic<int> ok{0};
  goro::run(
      [&] {
        goro::wait_group wg;
        wg.add(n);
        for (int i = 0; i < n; ++i) {
          goro::go([&] {
            try {
              YieldOnUnwind y{&ok};
              throw std::runtime_error("unwind");
            } catch (const std::runtime_error&) {
              ok.fetch_add(1);
            }
            wg.done();
          });
        }
        wg.wait();
      },
      goro::config{.procs = 4});
  EXPECT_EQ(ok.load(), 2 * n);
}

}  // namespace

namespace {

// lock_os_thread: the goroutine stays on its thread through every kind of
// scheduling point (yield, sleep, a channel, a mutex held across a yield
// while another goroutine waits for it), and no other goroutine runs on
// that thread meanwhile, on one processor or several.
TEST(Scheduler, LockedGoroutineKeepsItsThreadAndTheThreadRunsNothingElse) {
  for (int procs : {1, 2, 4}) {
    std::atomic<bool> locked{false};
    std::atomic<std::thread::id> tid{};
    std::atomic<int> moved{0}, intruders{0}, other_rounds{0};
    goro::run(
        [&] {
          std::atomic<bool> stop{false};
          goro::wait_group others;
          const int n = 8;
          others.add(n);
          for (int i = 0; i < n; ++i) {
            goro::go([&] {
              while (!stop.load()) {
                if (locked.load()) {
                  if (std::this_thread::get_id() == tid.load()) intruders.fetch_add(1);
                  other_rounds.fetch_add(1);
                }
                goro::yield();
              }
              others.done();
            });
          }
          auto ping = goro::make_chan<int>();
          goro::mutex mu;
          goro::wait_group pinger;
          pinger.add(1);
          goro::go([&] {
            for (auto v : ping) {
              std::lock_guard g(mu);
              (void)v;
            }
            pinger.done();
          });
          goro::wait_group done;
          done.add(1);
          goro::go([&] {
            goro::lock_os_thread();
            tid = std::this_thread::get_id();
            locked = true;
            for (int r = 0; r < 400; ++r) {
              switch (r % 4) {
                case 0: goro::yield(); break;
                case 1: goro::sleep(std::chrono::microseconds(50)); break;
                case 2: ping.send(r); break;
                case 3: {
                  std::lock_guard g(mu);
                  goro::yield();  // the pinger may queue on mu meanwhile
                } break;
              }
              if (std::this_thread::get_id() != tid.load()) moved.fetch_add(1);
            }
            locked = false;
            goro::unlock_os_thread();
            done.done();
          });
          done.wait();
          ping.close();
          pinger.wait();  // it uses ping and mu, which live in this frame
          stop = true;
          others.wait();
        },
        goro::config{.procs = procs});
    EXPECT_EQ(moved.load(), 0) << "procs " << procs << ": the locked goroutine changed threads";
    EXPECT_EQ(intruders.load(), 0) << "procs " << procs << ": another goroutine ran on the locked thread";
    EXPECT_GT(other_rounds.load(), 0) << "procs " << procs << ": the premise: the others ran while it was locked";
  }
}

}  // namespace
