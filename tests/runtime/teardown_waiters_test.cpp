// teardown_waiters_test.cpp — API.md's teardown rule with a waiter on every
// kind of object: a goroutine parked on it when run() ends is discarded, and
// a later run's send, receive, unlock, notify or release never hands
// anything to it — the object behaves as if it had never waited.
#include <goro/goro.hpp>
#include <goro/testing.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "chan_test_util.hpp"
#include "test_support.hpp"

namespace {

class TeardownWaiters : public testing::TestWithParam<int> {
 protected:
  int procs() const { return GetParam(); }

  // Runs a goroutine that calls `park` (which must block in `state`), then
  // `after` (given the goroutine's id), then ends the run while it waits:
  // the goroutine is discarded.
  void leave_parked(
      const std::function<void()>& park, const std::string& state, const std::function<void()>& before = [] {},
      const std::function<void(std::int64_t)>& after = [](std::int64_t) {}) {
    goro::testing::allow_leaks leaks;  // the waiter is left parked on purpose
    goro::run(
        [&] {
          before();
          auto ids = goro::make_chan<std::int64_t>(1);
          goro::go([&] {
            ids.send(goro::this_goroutine::id());
            park();
            ADD_FAILURE() << "a goroutine parked in [" << state << "] resumed";
          });
          const std::int64_t id = *ids.recv();
          ASSERT_TRUE(goro_test::wait_until_parked(id, state));
          after(id);
        },
        goro::config{.procs = procs()});
  }

  // In a fresh run: goroutine `waiter` must park in `state`, then `wake`
  // must make it finish (true) — it was not spent on the discarded one.
  bool woken_after_parking(const std::function<void()>& waiter, const std::string& state,
                           const std::function<void()>& wake) {
    bool finished = false;
    goro::run(
        [&] {
          auto ids = goro::make_chan<std::int64_t>(1);
          std::atomic<bool> done{false};
          goro::go([&] {
            ids.send(goro::this_goroutine::id());
            waiter();
            done = true;
          });
          if (!goro_test::wait_until_parked(*ids.recv(), state)) return;
          wake();
          goro_test::bailout limit;
          while (!done.load() && !limit.expired()) goro::yield();
          finished = done.load();
        },
        goro::config{.procs = procs()});
    return finished;
  }
};

TEST_P(TeardownWaiters, ChannelReceiver) {
  auto ch = goro::make_chan<int>();
  leave_parked([&] { (void)ch.recv(); }, "chan receive");
  goro::run([&] {
    int v = 1;
    EXPECT_FALSE(ch.try_send(v)) << "a send was handed to the discarded receiver";
  });
  std::optional<int> got;
  EXPECT_TRUE(woken_after_parking([&] { got = ch.recv(); }, "chan receive", [&] { ch.send(7); }));
  EXPECT_EQ(got, 7);
}

TEST_P(TeardownWaiters, ChannelSender) {
  auto ch = goro::make_chan<int>();
  leave_parked([&] { ch.send(1); }, "chan send");
  goro::run([&] { EXPECT_EQ(ch.try_recv(), std::nullopt) << "a value came from the discarded sender"; });
  std::optional<int> got;
  EXPECT_TRUE(woken_after_parking([&] { ch.send(7); }, "chan send", [&] { got = ch.recv(); }));
  EXPECT_EQ(got, 7);
}

TEST_P(TeardownWaiters, SelectReceiverAndSender) {
  auto in = goro::make_chan<int>();
  auto out = goro::make_chan<int>();
  leave_parked(
      [&] {
        int v = 1;
        goro::select(goro::case_recv(in), goro::case_send(out, v));
      },
      "select");
  goro::run([&] {
    int v = 1;
    EXPECT_FALSE(in.try_send(v)) << "a send was handed to the discarded select";
    EXPECT_EQ(out.try_recv(), std::nullopt) << "a value came from the discarded select";
  });
  std::optional<int> got;
  EXPECT_TRUE(woken_after_parking([&] { got = in.recv(); }, "chan receive", [&] { in.send(7); }));
  EXPECT_EQ(got, 7);
}

TEST_P(TeardownWaiters, Mutex) {
  goro::mutex m;
  leave_parked([&] { m.lock(); }, "sync.Mutex.Lock", [&] { m.lock(); });
  m.unlock();  // the holder (main of the finished run), from this thread
  ASSERT_TRUE(m.try_lock()) << "the unlock handed the mutex to the discarded waiter";
  EXPECT_TRUE(woken_after_parking([&] { m.lock(); }, "sync.Mutex.Lock", [&] { m.unlock(); }));
  m.unlock();
}

TEST_P(TeardownWaiters, RwMutexReader) {
  goro::rw_mutex rw;
  leave_parked([&] { rw.lock_shared(); }, "sync.RWMutex.RLock", [&] { rw.lock(); });
  rw.unlock();
  ASSERT_TRUE(rw.try_lock()) << "the discarded reader counts as holding the read lock";
  EXPECT_TRUE(woken_after_parking([&] { rw.lock_shared(); }, "sync.RWMutex.RLock", [&] { rw.unlock(); }));
  rw.unlock_shared();
  EXPECT_TRUE(rw.try_lock());
  rw.unlock();
}

TEST_P(TeardownWaiters, ConditionVariable) {
  goro::mutex m;
  goro::condition_variable cv;
  leave_parked(
      [&] {
        std::unique_lock l(m);
        cv.wait(l);
      },
      "sync.Cond.Wait");
  // notify_one must reach the new waiter, not be spent on the discarded one.
  EXPECT_TRUE(woken_after_parking(
      [&] {
        std::unique_lock l(m);
        cv.wait(l);
      },
      "sync.Cond.Wait", [&] { cv.notify_one(); }));
}

TEST_P(TeardownWaiters, Semaphore) {
  goro::semaphore s(2);
  leave_parked([&] { s.acquire(2); }, "semacquire", [&] { ASSERT_TRUE(s.try_acquire(1)); });
  s.release(1);  // the unit main held: it must not be granted to the discarded waiter
  ASSERT_TRUE(s.try_acquire(2)) << "a release went to the discarded waiter";
  EXPECT_TRUE(woken_after_parking([&] { s.acquire(1); }, "semacquire", [&] { s.release(1); }));
  s.release(2);
}

INSTANTIATE_TEST_SUITE_P(Procs, TeardownWaiters, testing::Values(1, 2, 4), goro_test::procs_name);

// One processor only: main must win the race for the mutex.
class TeardownWaitersProcs1 : public TeardownWaiters {};

// A waiter that put the mutex in starvation mode (it waited over 1 ms and
// lost to main) and is discarded while queued: nobody is left to take a
// handed-off lock, so after the holder's unlock the mutex is free and
// normal — try_lock takes it — rather than starving with a phantom waiter.
TEST_P(TeardownWaitersProcs1, StarvingMutex) {
  goro::mutex m;
  leave_parked([&] { m.lock(); }, "sync.Mutex.Lock", [&] { m.lock(); },
               [&](std::int64_t id) {
                 goro::sleep(std::chrono::milliseconds(2));  // its wait passes Go's 1 ms starvation threshold
                 m.unlock();     // wakes it (normal mode), but on one processor main runs on
                 m.lock();       // and takes the mutex again first
                 goro::yield();  // the waiter loses, waited over 1 ms: starvation mode, queued again
                 ASSERT_TRUE(goro_test::wait_until_parked(id, "sync.Mutex.Lock"));
               });
  m.unlock();
  ASSERT_TRUE(m.try_lock()) << "the mutex stays in starvation mode for a discarded waiter";
  EXPECT_TRUE(woken_after_parking([&] { m.lock(); }, "sync.Mutex.Lock", [&] { m.unlock(); }));
  m.unlock();
}

INSTANTIATE_TEST_SUITE_P(Procs, TeardownWaitersProcs1, testing::Values(1), goro_test::procs_name);

}  // namespace
