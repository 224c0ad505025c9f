// wait_group_test.cpp — goro::wait_group (sync.WaitGroup).
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using goro_test::scaled;

class WaitGroupTest : public testing::TestWithParam<int> {
 protected:
  goro::config cfg() const { return goro::config{.procs = GetParam()}; }
};

TEST_P(WaitGroupTest, ReusedAfterWait) {
  const int rounds = scaled(5000, 100);
  std::atomic<int> ran{0};
  goro::run(
      [&] {
        goro::wait_group wg;
        for (int r = 0; r < rounds; ++r) {
          const int n = 1 + r % 17;
          wg.add(n);
          for (int i = 0; i < n; ++i)
            goro::go([&] {
              ran.fetch_add(1);
              wg.done();
            });
          wg.wait();
          EXPECT_EQ(ran.exchange(0), n) << "round " << r;
        }
      },
      cfg());
}

TEST_P(WaitGroupTest, ManyGoroutinesWaitAtOnce) {
  const int waiters = scaled(200, 50), rounds = scaled(500, 15);
  goro::run(
      [&] {
        for (int r = 0; r < rounds; ++r) {
          goro::wait_group gate, blocked, passed;
          gate.add(3);
          blocked.add(waiters);
          passed.add(waiters);
          std::atomic<bool> released{false};
          for (int i = 0; i < waiters; ++i) {
            goro::go([&] {
              blocked.done();
              gate.wait();
              if (!released.load()) ADD_FAILURE() << "a waiter passed before the counter reached zero";
              passed.done();
            });
          }
          blocked.wait();
          gate.done();
          gate.done();
          goro::yield();  // a chance for a wrongly released waiter to run
          released.store(true);
          gate.done();  // releases every waiter at once
          passed.wait();
        }
      },
      cfg());
}

TEST_P(WaitGroupTest, GoroutinesAndPlainThreadsWaitTogether) {
  const int goroutines = 20, threads = 3, rounds = scaled(300, 8);
  goro::run(
      [&] {
        for (int r = 0; r < rounds; ++r) {
          goro::wait_group work, passed;
          std::atomic<int> sum{0}, wrong{0};
          work.add(100);
          passed.add(goroutines + threads);
          auto check = [&] {
            work.wait();
            if (sum.load() != 100 * 99 / 2) wrong.fetch_add(1);
            passed.done();
          };
          // Not goro::go(check): with go a class template, that statement
          // declares a variable named check (see the test report).
          for (int i = 0; i < goroutines; ++i) goro::go([&] { check(); });
          std::vector<std::thread> ts;
          for (int i = 0; i < threads; ++i) ts.emplace_back(check);
          for (int i = 0; i < 100; ++i)
            goro::go([&, i] {
              sum.fetch_add(i);
              work.done();
            });
          passed.wait();
          for (auto& t : ts) t.join();
          EXPECT_EQ(wrong.load(), 0) << "round " << r;
        }
      },
      cfg());
}

TEST_P(WaitGroupTest, WaiterDestroysTheGroupRightAfterWait) {
  // As with std::latch, the group may be freed as soon as wait() returns:
  // the last done() must not touch it after releasing the waiter.
  const int rounds = scaled(200'000, 500);
  goro::run(
      [&] {
        for (int r = 0; r < rounds; ++r) {
          auto* wg = new goro::wait_group;
          wg->add(2);
          goro::go([wg] { wg->done(); });
          goro::go([wg] { wg->done(); });
          wg->wait();
          delete wg;
        }
      },
      cfg());
}

TEST_P(WaitGroupTest, GoroutineWaiterDestroysTheGroup) {
  const int rounds = scaled(100'000, 1'000);
  goro::run(
      [&] {
        goro::wait_group finished;
        finished.add(rounds);
        for (int r = 0; r < rounds; ++r) {
          auto* wg = new goro::wait_group;
          wg->add(1);
          goro::go([wg, &finished] {
            wg->wait();
            delete wg;
            finished.done();
          });
          if (r % 2) goro::yield();  // sometimes the waiter parks first
          wg->done();                // must not touch *wg once the waiter runs
        }
        finished.wait();
      },
      cfg());
}

TEST_P(WaitGroupTest, PlainThreadWaiterDestroysTheGroup) {
  const int rounds = scaled(2000, 100);
  goro::run(
      [&] {
        for (int r = 0; r < rounds; ++r) {
          auto* wg = new goro::wait_group;
          wg->add(1);
          goro::wait_group thread_done;
          thread_done.add(1);
          std::thread t([wg, &thread_done] {
            wg->wait();
            delete wg;
            thread_done.done();
          });
          goro::go([wg] { wg->done(); });
          // Park rather than join: joining would block this processor, and
          // with one processor the goroutine above could never run.
          thread_done.wait();
          t.join();
        }
      },
      cfg());
}

INSTANTIATE_TEST_SUITE_P(Procs, WaitGroupTest, testing::Values(1, 2, 4),
                         [](const testing::TestParamInfo<int>& info) { return "procs" + std::to_string(info.param); });

TEST(WaitGroup, WaitOnZeroReturnsAtOnce) {
  goro::wait_group wg;
  wg.wait();  // no runtime: a plain thread
  goro::run([&] {
    wg.wait();
    wg.add(2);
    wg.done();
    wg.done();
    wg.wait();
  });
}

TEST(WaitGroup, PlainThreadsWaitWithoutARuntimeGoroutine) {
  // Plain threads only (no runtime running): done() from one thread
  // releases waits on the others.
  goro::wait_group wg;
  wg.add(1);
  std::atomic<int> passed{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      wg.wait();
      passed.fetch_add(1);
    });
  std::thread releaser([&] { wg.done(); });
  releaser.join();
  for (auto& t : ts) t.join();
  EXPECT_EQ(passed.load(), 4);
}

TEST(WaitGroup, NegativeCounterPanics) {
  goro::wait_group outside;
  try {
    outside.add(-1);
    ADD_FAILURE() << "add(-1) on zero did not throw";
  } catch (const goro::panic_error& e) {
    EXPECT_STREQ(e.what(), "sync: negative WaitGroup counter");
  }
  goro::run([] {
    goro::wait_group wg;
    wg.add(1);
    wg.done();
    EXPECT_THROW(wg.done(), goro::panic_error);
    goro::wait_group other;
    other.add(2);
    try {
      other.add(-3);
      ADD_FAILURE() << "add(-3) on 2 did not throw";
    } catch (const std::logic_error& e) {  // panic_error is a logic_error
      EXPECT_STREQ(e.what(), "sync: negative WaitGroup counter");
    }
  });
}

}  // namespace
