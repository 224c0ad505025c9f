// cond_test.cpp — goro::condition_variable (sync.Cond): notify_one wakes one
// waiter (the longest waiting), notify_all wakes all, a notify with nobody
// waiting is not remembered, wait with a predicate, any lock over a
// goro::mutex, plain threads.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "chan_test_util.hpp"
#include "test_support.hpp"

namespace {

using goro_test::scaled;

class CondTest : public testing::TestWithParam<int> {
 protected:
  goro::config cfg() const { return goro::config{.procs = GetParam()}; }
};

TEST_P(CondTest, NotifyOneWakesOneWaiterAtATime) {
  const int waiters = 10;
  goro::run(
      [&] {
        goro::mutex m;
        goro::condition_variable cv;
        int waiting = 0;  // guarded by m
        std::atomic<int> woken{0};
        goro::wait_group wg;
        wg.add(waiters);
        for (int i = 0; i < waiters; ++i) {
          goro::go([&] {
            std::unique_lock<goro::mutex> l(m);
            ++waiting;
            cv.wait(l);  // no predicate: returns only when notified (Go: no spurious wake-ups)
            woken.fetch_add(1);
            l.unlock();  // before done(): m must not be touched once main may leave
            wg.done();
          });
        }
        ASSERT_TRUE(goro_test::wait_until_count_parked(waiters, "sync.Cond.Wait"));
        {
          std::lock_guard<goro::mutex> l(m);
          EXPECT_EQ(waiting, waiters);
        }
        for (int k = 1; k <= waiters; ++k) {
          cv.notify_one();
          ASSERT_TRUE(goro_test::yield_until([&] { return woken.load() >= k; }, "a notified waiter wakes"));
          for (int i = 0; i < 50; ++i) goro::yield();
          EXPECT_EQ(woken.load(), k) << "notify_one woke more than one waiter";
        }
        wg.wait();
      },
      cfg());
}

TEST_P(CondTest, NotifyOneWakesTheLongestWaiting) {
  const int waiters = 8;
  goro::run(
      [&] {
        goro::mutex m;
        goro::condition_variable cv;
        auto order = goro::make_chan<int>(waiters);
        for (int i = 0; i < waiters; ++i) {
          auto ids = goro::make_chan<std::int64_t>(1);
          // order by value, and m unlocked before the send: main returns
          // (destroying m and cv) once it has received the last one.
          goro::go([&m, &cv, order, i, ids] {
            std::unique_lock<goro::mutex> l(m);
            ids.send(goro::this_goroutine::id());
            cv.wait(l);
            l.unlock();
            order.send(i);
          });
          // The next waiter starts only once this one is parked.
          ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "sync.Cond.Wait"));
        }
        for (int i = 0; i < waiters; ++i) {
          cv.notify_one();
          EXPECT_EQ(order.recv(), i);
        }
      },
      cfg());
}

TEST_P(CondTest, NotifyAllWakesEveryWaiter) {
  const int waiters = 50, rounds = scaled(200, 20);
  goro::run(
      [&] {
        goro::mutex m;
        goro::condition_variable cv;
        int generation = 0;  // guarded by m
        goro::wait_group ready, passed;
        for (int r = 0; r < rounds; ++r) {
          ready.add(waiters);
          passed.add(waiters);
          for (int i = 0; i < waiters; ++i) {
            goro::go([&, r] {
              std::unique_lock<goro::mutex> l(m);
              ready.done();
              cv.wait(l, [&] { return generation > r; });
              l.unlock();
              passed.done();
            });
          }
          ready.wait();
          {
            std::lock_guard<goro::mutex> l(m);
            ++generation;
          }
          cv.notify_all();
          passed.wait();
        }
      },
      cfg());
}

TEST_P(CondTest, NotifyWithNobodyWaitingIsNotRemembered) {
  std::atomic<bool> woken{false};
  goro::mutex m;
  goro::condition_variable cv;
  goro::run(
      [&] {
        cv.notify_one();
        cv.notify_all();
        auto ids = goro::make_chan<std::int64_t>(1);
        goro::wait_group wg;
        wg.add(1);
        goro::go([&] {
          std::unique_lock<goro::mutex> l(m);
          ids.send(goro::this_goroutine::id());
          cv.wait(l);
          woken.store(true);
          l.unlock();
          wg.done();
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "sync.Cond.Wait"));
        for (int i = 0; i < 100; ++i) goro::yield();
        EXPECT_FALSE(woken.load());
        cv.notify_one();
        wg.wait();
        EXPECT_TRUE(woken.load());
      },
      cfg());
}

TEST_P(CondTest, NotifyBetweenUnlockAndParkIsNotLost) {
  // The notifier takes the mutex right after the waiter releases it inside
  // wait(): the waiter already holds its ticket, so the notify reaches it
  // whether or not it has parked yet.
  const int rounds = scaled(20'000, 1'000);
  goro::run(
      [&] {
        goro::mutex m;
        goro::condition_variable cv;
        bool flag = false;
        for (int r = 0; r < rounds; ++r) {
          goro::wait_group wg;
          wg.add(1);
          m.lock();
          goro::go([&] {
            {
              std::lock_guard<goro::mutex> l(m);  // acquired once the waiter is inside wait()
              flag = true;
              cv.notify_one();
            }
            wg.done();
          });
          cv.wait(m, [&] { return flag; });  // the mutex itself as the lock
          flag = false;
          m.unlock();
          wg.wait();
        }
      },
      cfg());
}

TEST_P(CondTest, BoundedQueueWithTwoConditions) {
  // Producers and consumers over a bounded queue (not_full / not_empty),
  // checked by sum and count.
  const int producers = 8, consumers = 8, per = scaled(10'000, 500), cap = 4;
  long long consumed_sum = 0;
  int consumed = 0;
  goro::run(
      [&] {
        goro::mutex m;
        goro::condition_variable not_full, not_empty;
        std::deque<int> q;
        int producers_left = producers;
        goro::wait_group wg;
        wg.add(producers + consumers);
        for (int p = 0; p < producers; ++p) {
          goro::go([&, p] {
            for (int i = 0; i < per; ++i) {
              std::unique_lock<goro::mutex> l(m);
              not_full.wait(l, [&] { return q.size() < static_cast<std::size_t>(cap); });
              q.push_back(p * per + i);
              not_empty.notify_one();
            }
            {
              std::lock_guard<goro::mutex> l(m);
              if (--producers_left == 0) not_empty.notify_all();
            }
            wg.done();
          });
        }
        for (int c = 0; c < consumers; ++c) {
          goro::go([&] {
            for (;;) {
              std::unique_lock<goro::mutex> l(m);
              not_empty.wait(l, [&] { return !q.empty() || producers_left == 0; });
              if (q.empty()) break;
              consumed_sum += q.front();
              ++consumed;
              q.pop_front();
              not_full.notify_one();
            }
            wg.done();
          });
        }
        wg.wait();
      },
      cfg());
  const long long total = static_cast<long long>(producers) * per;
  EXPECT_EQ(consumed, total);
  EXPECT_EQ(consumed_sum, total * (total - 1) / 2);
}

TEST_P(CondTest, PlainThreadWaitersAndGoroutineNotifiers) {
  const int threads = 2, goroutines = 8, rounds = scaled(2'000, 100);
  goro::run(
      [&] {
        goro::mutex m;
        goro::condition_variable cv;
        long long tickets = 0;  // guarded by m
        int taken = 0;
        goro::wait_group wg;
        wg.add(threads + goroutines);
        auto waiter = [&] {
          for (int i = 0; i < rounds; ++i) {
            std::unique_lock<goro::mutex> l(m);
            cv.wait(l, [&] { return tickets > 0; });
            --tickets;
            ++taken;
          }
          wg.done();
        };
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; ++t) ts.emplace_back(waiter);
        for (int g = 0; g < goroutines; ++g) {
          goro::go([&] {
            for (int i = 0; i < rounds * threads / goroutines; ++i) {
              {
                std::lock_guard<goro::mutex> l(m);
                ++tickets;
              }
              cv.notify_one();
              if (i % 16 == 0) goro::yield();
            }
            wg.done();
          });
        }
        wg.wait();
        for (auto& t : ts) t.join();
        EXPECT_EQ(taken, rounds * threads);
        EXPECT_EQ(tickets, 0);
      },
      cfg());
}

TEST(Cond, GoroutineWaiterPlainThreadNotifier) {
  goro::run([] {
    goro::mutex m;
    goro::condition_variable cv;
    bool ready = false;
    std::thread t([&] {
      {
        std::lock_guard<goro::mutex> l(m);
        ready = true;
      }
      cv.notify_all();
    });
    {
      std::unique_lock<goro::mutex> l(m);
      cv.wait(l, [&] { return ready; });
    }
    // Park (not join) until the thread is done: it may still be in notify_all.
    auto joined = goro::make_chan<std::monostate>();
    std::thread joiner([&] {
      t.join();
      joined.close();
    });
    joined.recv();
    joiner.join();
  });
}

// wait() with a lock that does not own its mutex: unlock() throws, and the
// waiter's record (in wait's own frame) must leave the queue with it. Were
// it left at the head, the next notify_one would be spent on a dead frame
// and the real waiter behind it would sleep on.
[[gnu::noinline]] void scribble_stack() {
  volatile char junk[4096];
  for (std::size_t i = 0; i < sizeof junk; ++i) junk[i] = static_cast<char>(0x5a);
}

TEST_P(CondTest, WaitWithALockThatDoesNotOwnItsMutexThrowsAndLeavesNothingQueued) {
  goro::run(
      [] {
        goro::mutex mu;
        goro::condition_variable cv;
        {
          std::unique_lock<goro::mutex> not_owned(mu, std::defer_lock);
          EXPECT_THROW(cv.wait(not_owned), std::system_error);
          EXPECT_THROW(cv.wait_for(not_owned, std::chrono::hours(1)), std::system_error);
        }
        scribble_stack();
        bool flag = false;
        auto woke = goro::make_chan<int>();
        auto ids = goro::make_chan<std::int64_t>(1);
        // woke by value, and mu unlocked before the close: main returns
        // (destroying mu and cv) once it sees the close.
        goro::go([&mu, &cv, &flag, ids, woke] {
          ids.send(goro::this_goroutine::id());
          std::unique_lock<goro::mutex> lk(mu);
          while (!flag) cv.wait(lk);
          lk.unlock();
          woke.close();
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "sync.Cond.Wait"));
        {
          std::lock_guard<goro::mutex> g(mu);
          flag = true;
        }
        cv.notify_one();  // one notification only: it must reach the waiter
        goro::timer bail(std::chrono::seconds(20));
        EXPECT_EQ(goro::select(goro::case_recv(woke), goro::case_recv(bail.c())), 0u) << "the waiter was not woken";
      },
      cfg());
}

// wait_for / wait_until: without a notification they return timeout with
// the lock held again, and the timed-out waiter has left the queue — the
// next notify_one reaches the waiter behind it. A notified timed waiter
// returns no_timeout; the predicate forms return the predicate.
TEST_P(CondTest, TimedWaitsTimeOutLeaveTheQueueAndAreNotified) {
  goro::run(
      [] {
        goro::mutex mu;
        goro::condition_variable cv;
        {
          std::unique_lock lk(mu);
          EXPECT_EQ(cv.wait_for(lk, std::chrono::milliseconds(10)), std::cv_status::timeout);
          EXPECT_TRUE(lk.owns_lock());
          EXPECT_FALSE(mu.try_lock()) << "the lock is held again after the timeout";
          EXPECT_EQ(cv.wait_until(lk, std::chrono::steady_clock::now() + std::chrono::milliseconds(10)),
                    std::cv_status::timeout);
          EXPECT_FALSE(cv.wait_for(lk, std::chrono::milliseconds(10), [] { return false; }));
          EXPECT_TRUE(cv.wait_until(lk, std::chrono::steady_clock::now() + std::chrono::hours(1), [] { return true; }));
        }
        // A timed waiter that timed out, then an untimed one: one notify_one
        // must wake the untimed one.
        auto ids = goro::make_chan<std::int64_t>(2);
        auto woke = goro::make_chan<int>(2);
        // Channels by value, and mu unlocked before the last send: main may
        // return (destroying mu and cv) once it has the answer.
        goro::go([&mu, &cv, ids, woke] {
          std::unique_lock lk(mu);
          ids.send(goro::this_goroutine::id());
          const int r = cv.wait_for(lk, std::chrono::milliseconds(5)) == std::cv_status::timeout ? 1 : 0;
          lk.unlock();
          woke.send(r);
        });
        const std::int64_t timed = *ids.recv();
        EXPECT_EQ(woke.recv(), 1) << "the timed waiter was notified by nobody";
        (void)timed;
        goro::go([&mu, &cv, ids, woke] {
          std::unique_lock lk(mu);
          ids.send(goro::this_goroutine::id());
          cv.wait(lk);
          lk.unlock();
          woke.send(2);
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "sync.Cond.Wait"));
        cv.notify_one();
        goro::timer bail(std::chrono::seconds(30));
        std::optional<int> got;
        goro::select(goro::case_recv(woke, got), goro::case_recv(bail.c()));
        EXPECT_EQ(got, 2) << "the notification was spent on the timed-out waiter";
        // A timed waiter that is notified in time.
        goro::go([&mu, &cv, ids, woke] {
          std::unique_lock lk(mu);
          ids.send(goro::this_goroutine::id());
          const int r = cv.wait_for(lk, std::chrono::minutes(5)) == std::cv_status::no_timeout ? 3 : -3;
          lk.unlock();
          woke.send(r);
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "sync.Cond.Wait"));
        cv.notify_one();
        EXPECT_EQ(woke.recv(), 3);
      },
      cfg());
}

INSTANTIATE_TEST_SUITE_P(Procs, CondTest, testing::Values(1, 2, 4), goro_test::procs_name);

}  // namespace
