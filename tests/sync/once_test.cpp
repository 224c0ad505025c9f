// once_test.cpp — goro::once (sync.Once): one call however many callers,
// concurrent callers wait for the running call, an exception reaches its
// caller and leaves the once not done (retried), plain threads.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "chan_test_util.hpp"
#include "test_support.hpp"

namespace {

using goro_test::scaled;

class OnceTest : public testing::TestWithParam<int> {
 protected:
  goro::config cfg() const { return goro::config{.procs = GetParam()}; }
};

TEST(Once, RunsOnceAndPassesArguments) {
  goro::once o;
  EXPECT_FALSE(o.done());
  int calls = 0, sum = 0;
  auto f = [&](int a, int b) {
    ++calls;
    sum = a + b;
  };
  o.call(f, 2, 3);
  o.call(f, 10, 20);
  EXPECT_TRUE(o.done());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(sum, 5);
  goro::run([&] {
    o.call(f, 7, 7);  // done before run: still done
    EXPECT_EQ(calls, 1);
  });
}

TEST_P(OnceTest, ConcurrentCallersWaitForTheRunningCall) {
  const int callers = scaled(100, 30);  // each poll below dumps them all
  goro::run(
      [&] {
        goro::once o;
        std::atomic<int> calls{0};
        int value = 0;  // written by the call, read by every caller after call() returns
        auto started = goro::make_chan<std::monostate>();
        auto release = goro::make_chan<std::monostate>();
        std::atomic<int> wrong{0};
        goro::wait_group wg;
        wg.add(callers);
        for (int i = 0; i < callers; ++i) {
          goro::go([&] {
            o.call([&] {
              calls.fetch_add(1);
              started.close();
              release.recv();  // the call parks: the others must wait, not skip
              value = 42;
            });
            if (value != 42) wrong.fetch_add(1);
            wg.done();
          });
        }
        started.recv();
        // Every other caller parks behind the running call.
        ASSERT_TRUE(goro_test::yield_until(
            [&] {
              return goro_test::count_in_state("sync.Mutex.Lock") + goro_test::count_in_state("sync.Once.Do") >=
                     callers - 1;
            },
            "every other caller waits"));
        EXPECT_FALSE(o.done());
        release.close();
        wg.wait();
        EXPECT_EQ(calls.load(), 1);
        EXPECT_EQ(wrong.load(), 0);
        EXPECT_TRUE(o.done());
      },
      cfg());
}

TEST_P(OnceTest, ManyOnces) {
  // Many short-lived onces under contention (the fast path racing the slow).
  const int onces = scaled(2'000, 100), callers = 8;
  goro::run(
      [&] {
        for (int k = 0; k < onces; ++k) {
          goro::once o;
          std::atomic<int> calls{0};
          int value = 0;
          std::atomic<int> wrong{0};
          goro::wait_group wg;
          wg.add(callers);
          for (int i = 0; i < callers; ++i) {
            goro::go([&] {
              o.call([&] {
                calls.fetch_add(1);
                value = k + 1;
              });
              if (value != k + 1) wrong.fetch_add(1);
              wg.done();
            });
          }
          wg.wait();
          ASSERT_EQ(calls.load(), 1) << "once #" << k;
          ASSERT_EQ(wrong.load(), 0) << "once #" << k;
        }
      },
      cfg());
}

TEST_P(OnceTest, ExceptionReachesTheCallerAndTheOnceIsRetried) {
  goro::run(
      [] {
        goro::once o;
        int attempts = 0;
        auto flaky = [&] {
          if (++attempts == 1) throw std::runtime_error("first attempt fails");
        };
        try {
          o.call(flaky);
          ADD_FAILURE() << "no exception";
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(), "first attempt fails");
        }
        EXPECT_FALSE(o.done());
        o.call(flaky);  // retried
        EXPECT_TRUE(o.done());
        o.call(flaky);
        EXPECT_EQ(attempts, 2);
      },
      cfg());
}

TEST_P(OnceTest, ConcurrentCallersWhenTheFirstCallThrows) {
  // The first call throws while others wait: exactly one caller sees the
  // exception, one waiting caller runs f again, and it succeeds.
  const int callers = 50;
  goro::run(
      [&] {
        goro::once o;
        std::atomic<int> attempts{0}, exceptions{0}, wrong{0};
        int value = 0;
        auto started = goro::make_chan<std::monostate>();
        auto release = goro::make_chan<std::monostate>();
        goro::wait_group wg;
        wg.add(callers);
        for (int i = 0; i < callers; ++i) {
          goro::go([&] {
            try {
              o.call([&] {
                if (attempts.fetch_add(1) == 0) {
                  started.close();
                  release.recv();
                  throw std::logic_error("init failed");
                }
                value = 7;
              });
              if (value != 7) wrong.fetch_add(1);
            } catch (const std::logic_error& e) {
              EXPECT_STREQ(e.what(), "init failed");
              exceptions.fetch_add(1);
            }
            wg.done();
          });
        }
        started.recv();
        release.close();
        wg.wait();
        EXPECT_EQ(exceptions.load(), 1);
        EXPECT_EQ(attempts.load(), 2);
        EXPECT_EQ(wrong.load(), 0);
        EXPECT_TRUE(o.done());
      },
      cfg());
}

TEST_P(OnceTest, PlainThreadsAndGoroutines) {
  const int threads = 3, goroutines = 20;
  goro::run(
      [&] {
        goro::once o;
        std::atomic<int> calls{0}, wrong{0};
        int value = 0;
        goro::wait_group wg;
        wg.add(threads + goroutines);
        auto caller = [&] {
          o.call([&] {
            calls.fetch_add(1);
            goro::yield();  // from a goroutine it parks, from a thread it yields the thread
            value = 99;
          });
          if (value != 99) wrong.fetch_add(1);
          wg.done();
        };
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; ++t) ts.emplace_back(caller);
        for (int g = 0; g < goroutines; ++g) goro::go([&] { caller(); });
        wg.wait();
        for (auto& t : ts) t.join();
        EXPECT_EQ(calls.load(), 1);
        EXPECT_EQ(wrong.load(), 0);
      },
      cfg());
}

INSTANTIATE_TEST_SUITE_P(Procs, OnceTest, testing::Values(1, 2, 4), goro_test::procs_name);

}  // namespace
