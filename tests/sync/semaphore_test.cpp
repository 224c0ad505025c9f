// semaphore_test.cpp — goro::semaphore (x/sync/semaphore.Weighted): weights
// never exceed the size, waiters are served FIFO so a large request is not
// overtaken by small ones, try_acquire, releasing more than is held panics,
// plain threads.
#include <goro/goro.hpp>
#include <goro/testing.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chan_test_util.hpp"
#include "test_support.hpp"

namespace {

using goro_test::scaled;

class SemaphoreTest : public testing::TestWithParam<int> {
 protected:
  goro::config cfg() const { return goro::config{.procs = GetParam()}; }
};

TEST(Semaphore, TryAcquire) {
  goro::semaphore s(3);
  EXPECT_TRUE(s.try_acquire(2));
  EXPECT_FALSE(s.try_acquire(2));
  EXPECT_TRUE(s.try_acquire());
  EXPECT_FALSE(s.try_acquire());
  s.release(3);
  EXPECT_TRUE(s.try_acquire(3));
  EXPECT_FALSE(s.try_acquire(4));  // more than the size
  s.release(1);
  s.release(2);
  EXPECT_TRUE(s.try_acquire(0));  // zero always fits
  s.acquire(3);                   // free: returns at once, even on a plain thread
  s.release(3);
}

TEST(Semaphore, ReleasingMoreThanHeldPanics) {
  auto body = [] {
    goro::semaphore s(4);
    try {
      s.release();
      ADD_FAILURE() << "release on an empty semaphore did not panic";
    } catch (const goro::panic_error& e) {
      EXPECT_STREQ(e.what(), "semaphore: released more than held");
    }
    s.acquire(2);
    EXPECT_THROW(s.release(3), goro::panic_error);
    // The failed release changed nothing: 2 are still held.
    EXPECT_TRUE(s.try_acquire(2));
    EXPECT_FALSE(s.try_acquire(1));
    s.release(4);
    EXPECT_TRUE(s.try_acquire(4));
    s.release(4);
  };
  body();  // plain thread
  goro::run(body);
}

TEST_P(SemaphoreTest, WeightsNeverExceedTheSize) {
  const int size = 5, goroutines = 40, rounds = scaled(1'000, 60);
  std::atomic<int> in_use{0}, over{0};
  goro::run(
      [&] {
        goro::semaphore s(size);
        goro::wait_group wg;
        wg.add(goroutines);
        for (int g = 0; g < goroutines; ++g) {
          goro::go([&, g] {
            for (int i = 0; i < rounds; ++i) {
              const int w = 1 + (g + i) % 3;
              if (i % 5 == 0) {
                if (!s.try_acquire(w)) continue;
              } else {
                s.acquire(w);
              }
              if (in_use.fetch_add(w) + w > size) over.fetch_add(1);
              if (i % 2) goro::yield();
              in_use.fetch_sub(w);
              s.release(w);
            }
            wg.done();
          });
        }
        wg.wait();
        EXPECT_TRUE(s.try_acquire(size));  // everything was given back
        s.release(size);
      },
      cfg());
  EXPECT_EQ(over.load(), 0);
}

TEST_P(SemaphoreTest, LargeRequestIsNotOvertakenBySmallOnes) {
  // FIFO: the large waiter queued first; releasing a little must not let
  // the small waiters behind it in, and it is served before them.
  const int small_waiters = 5;
  goro::run(
      [&] {
        goro::semaphore s(10);
        s.acquire(10);  // everything held by main
        std::mutex log_mu;
        std::vector<std::string> log;
        auto note = [&](std::string what) {
          std::lock_guard<std::mutex> l(log_mu);
          log.push_back(std::move(what));
        };
        auto log_size = [&] {
          std::lock_guard<std::mutex> l(log_mu);
          return log.size();
        };
        auto ids = goro::make_chan<std::int64_t>(1);
        goro::wait_group wg;
        wg.add(1 + small_waiters);
        goro::go([&] {
          ids.send(goro::this_goroutine::id());
          s.acquire(10);
          note("large");
          s.release(10);
          wg.done();
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "semacquire"));
        for (int i = 0; i < small_waiters; ++i) {
          goro::go([&, i] {
            ids.send(goro::this_goroutine::id());
            s.acquire(1);
            note("small" + std::to_string(i));
            s.release(1);
            wg.done();
          });
          ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "semacquire"));
        }
        // Free 9 of 10: enough for every small waiter, not for the large one
        // at the head of the queue, so nobody may go.
        s.release(9);
        EXPECT_FALSE(s.try_acquire(1)) << "try_acquire overtook the queued waiters";
        for (int i = 0; i < 100; ++i) goro::yield();
        EXPECT_EQ(log_size(), 0u) << "a small request overtook the large one";
        EXPECT_EQ(goro_test::count_in_state("semacquire"), 1 + small_waiters);
        s.release(1);
        wg.wait();
        ASSERT_EQ(log.size(), static_cast<std::size_t>(1 + small_waiters));
        EXPECT_EQ(log[0], "large");
        EXPECT_TRUE(s.try_acquire(10));
        s.release(10);
      },
      cfg());
}

TEST_P(SemaphoreTest, WaitersAreServedInOrder) {
  // Equal weights: FIFO order of service.
  const int waiters = 10;
  goro::run(
      [&] {
        goro::semaphore s(1);
        s.acquire();
        auto order = goro::make_chan<int>(waiters);
        goro::wait_group wg;
        wg.add(waiters);
        for (int i = 0; i < waiters; ++i) {
          auto ids = goro::make_chan<std::int64_t>(1);
          goro::go([&, i, ids] {
            ids.send(goro::this_goroutine::id());
            s.acquire();
            order.send(i);
            s.release();
            wg.done();
          });
          ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "semacquire"));
        }
        s.release();
        wg.wait();
        for (int i = 0; i < waiters; ++i) EXPECT_EQ(order.recv(), i);
      },
      cfg());
}

TEST_P(SemaphoreTest, OneReleaseAdmitsSeveralWaiters) {
  goro::run(
      [&] {
        goro::semaphore s(6);
        s.acquire(6);
        goro::wait_group done;
        done.add(3);
        for (int w : {1, 2, 3}) {
          auto ids = goro::make_chan<std::int64_t>(1);
          goro::go([&, w, ids] {
            ids.send(goro::this_goroutine::id());
            s.acquire(w);
            done.done();
          });
          ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "semacquire"));
        }
        s.release(6);  // 1 + 2 + 3 fit at once
        done.wait();
        EXPECT_FALSE(s.try_acquire(1));
        s.release(6);
      },
      cfg());
}

TEST_P(SemaphoreTest, RequestLargerThanTheSizeBlocksForever) {
  goro::testing::allow_leaks leaks;  // blocked for ever, by design
  // Go's Acquire(ctx, n > size) waits for ctx; without a context it never returns.
  goro::semaphore s(2);
  std::atomic<bool> passed{false};
  auto ids = goro::make_chan<std::int64_t>(1);
  goro::run(
      [&] {
        goro::go([&] {
          ids.send(goro::this_goroutine::id());
          s.acquire(3);
          passed.store(true);
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "semacquire"));
        for (int i = 0; i < 100; ++i) goro::yield();
        EXPECT_FALSE(passed.load());
      },
      cfg());
  EXPECT_FALSE(passed.load());
}

TEST_P(SemaphoreTest, PlainThreadsAndGoroutines) {
  const int threads = 2, goroutines = 16, rounds = scaled(5'000, 300);
  std::atomic<int> in_use{0}, over{0};
  goro::run(
      [&] {
        goro::semaphore s(3);
        goro::wait_group wg;
        wg.add(threads + goroutines);
        auto worker = [&](int w) {
          for (int i = 0; i < rounds; ++i) {
            s.acquire(w);
            if (in_use.fetch_add(w) + w > 3) over.fetch_add(1);
            in_use.fetch_sub(w);
            s.release(w);
          }
          wg.done();
        };
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; ++t) ts.emplace_back(worker, 2);
        for (int g = 0; g < goroutines; ++g) goro::go([&, g] { worker(1 + g % 2); });
        wg.wait();
        for (auto& t : ts) t.join();
      },
      cfg());
  EXPECT_EQ(over.load(), 0);
}

TEST_P(SemaphoreTest, ADiscardedContextWaiterLeavesNoRecord) {
  goro::testing::allow_leaks leaks;  // the waiter is discarded on purpose
  // The contract's teardown rule: a goroutine discarded by run() while it
  // waits in acquire(ctx) leaves no record in the semaphore, so a later
  // release() does not hand its units to a goroutine that is gone.
  goro::semaphore s(1);
  goro::run(
      [&] {
        ASSERT_TRUE(s.try_acquire());
        auto ids = goro::make_chan<std::int64_t>(1);
        goro::go([&s, ids] {
          auto [ctx, cancel] = goro::with_cancel(goro::background());
          ids.send(goro::this_goroutine::id());
          auto ec = s.acquire(ctx, 1);  // discarded here, never cancelled
          (void)ec;
          cancel();
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "select"));
      },
      cfg());
  goro::run(
      [&] {
        s.release(1);  // the unit the first run's main held
        EXPECT_TRUE(s.try_acquire()) << "release() granted the unit to the discarded waiter";
        s.release(1);
      },
      cfg());
}

INSTANTIATE_TEST_SUITE_P(Procs, SemaphoreTest, testing::Values(1, 2, 4), goro_test::procs_name);

}  // namespace
