// errgroup_test.cpp — what builds on contexts: semaphore::acquire(ctx, n)
// (x/sync/semaphore) and goro::errgroup (x/sync/errgroup).
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "watchdog.hpp"
#include "chan_test_util.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

class CtxSyncTest : public testing::TestWithParam<int> {
 protected:
  goro::config cfg() const { return goro::config{.procs = GetParam()}; }
};

// ------------------------------------------------------ semaphore(ctx)

TEST_P(CtxSyncTest, SemaphoreAcquireWithContextSucceedsWhenFree) {
  goro::run(
      [] {
        goro::semaphore s(3);
        auto r = goro::with_cancel(goro::background());
        EXPECT_FALSE(s.acquire(r.ctx, 2));
        EXPECT_FALSE(s.acquire(goro::background(), 1));  // background: never cancelled
        EXPECT_FALSE(s.try_acquire(1));
        s.release(3);
        EXPECT_TRUE(s.try_acquire(3));
        s.release(3);
        r.cancel();
      },
      cfg());
}

TEST_P(CtxSyncTest, SemaphoreAcquireReturnsTheContextErrorAndTakesNothing) {
  goro::run(
      [] {
        goro::semaphore s(2);
        s.acquire(2);  // all taken
        // Already cancelled.
        {
          auto r = goro::with_cancel(goro::background());
          r.cancel();
          EXPECT_EQ(s.acquire(r.ctx, 1), goro::errc::canceled);
        }
        // Cancelled while waiting.
        {
          auto r = goro::with_cancel(goro::background());
          auto result = goro::make_chan<std::error_code>(1);
          auto ids = goro::make_chan<std::int64_t>(1);
          goro::go([&s, result, ids, ctx = r.ctx] {
            ids.send(goro::this_goroutine::id());
            result.send(s.acquire(ctx, 1));
          });
          // acquire(ctx) waits in a select on its grant and on ctx.done().
          ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "select"));
          EXPECT_EQ(result.size(), 0u);  // still waiting
          r.cancel();
          std::error_code e = result.recv().value();
          EXPECT_EQ(e, goro::errc::canceled);
          EXPECT_EQ(e, std::errc::operation_canceled);
        }
        // Deadline while waiting.
        {
          auto t0 = clk::now();  // (before the context: its deadline counts from its creation)
          auto r = goro::with_timeout(goro::background(), 15ms);
          std::error_code e = s.acquire(r.ctx, 1);
          EXPECT_EQ(e, goro::errc::deadline_exceeded);
          EXPECT_EQ(e, std::errc::timed_out);
          EXPECT_GE(clk::now() - t0, 15ms);
        }
        // More than the semaphore's size: waits for the context.
        {
          auto r = goro::with_timeout(goro::background(), 5ms);
          EXPECT_EQ(s.acquire(r.ctx, 3), goro::errc::deadline_exceeded);
        }
        // Nothing was taken by the failed calls.
        s.release(2);
        EXPECT_TRUE(s.try_acquire(2));
        s.release(2);
        EXPECT_THROW(s.release(1), goro::panic_error);
      },
      cfg());
}

// Waits until n goroutines are parked for `reason` (as a goroutine dump
// shows it: "[semacquire]"), however slow the machine.
void wait_until_parked(const char* reason, std::size_t n) {
  const std::string tag = std::string("[") + reason;
  for (;;) {
    std::ostringstream dump;
    goro::dump_goroutines(dump);
    const std::string d = dump.str();
    std::size_t count = 0;
    for (std::size_t at = d.find(tag); at != std::string::npos; at = d.find(tag, at + 1)) ++count;
    if (count >= n) return;
    goro::sleep(1ms);
  }
}

// A cancelled waiter at the head of the queue must not keep smaller
// requests behind it waiting.
TEST_P(CtxSyncTest, ACancelledHeadWaiterLetsTheNextOneIn) {
  goro::run(
      [] {
        goro::semaphore s(3);
        s.acquire(2);  // 1 unit free
        auto big = goro::with_cancel(goro::background());
        auto big_result = goro::make_chan<std::error_code>(1);
        goro::go([&s, big_result, ctx = big.ctx] { big_result.send(s.acquire(ctx, 2)); });
        wait_until_parked("select", 1);  // it queues first (a context waiter waits in a select)
        auto small_got = goro::make_chan<int>(1);
        goro::go([&s, small_got] {
          s.acquire(1);  // FIFO: waits behind the big request although 1 unit is free
          small_got.send(1);
        });
        wait_until_parked("semacquire", 1);
        EXPECT_EQ(small_got.size(), 0u);
        big.cancel();
        EXPECT_EQ(big_result.recv(), std::error_code(goro::errc::canceled));
        goro::timer bail(10s);
        std::size_t w = goro::select(goro::case_recv(small_got), goro::case_recv(bail.c()));
        EXPECT_EQ(w, 0u) << "the small request stayed blocked behind a cancelled one";
        s.release(3);
      },
      cfg());
}

// Cancellation racing with release: units are never lost or duplicated.
TEST_P(CtxSyncTest, SemaphoreCancelRacingWithRelease) {
  goro::run(
      [] {
        const int rounds = goro_test::scaled(300, 60);
        goro::semaphore s(4);
        for (int round = 0; round < rounds; ++round) {
          s.acquire(4);
          auto r = goro::with_cancel(goro::background());
          auto result = goro::make_chan<std::error_code>(4);
          for (int i = 0; i < 4; ++i) goro::go([&s, result, ctx = r.ctx] { result.send(s.acquire(ctx, 1)); });
          goro::yield();
          goro::wait_group released;
          released.add(1);
          goro::go([&s, &released] {
            s.release(2);
            released.done();
          });
          if (round % 2) goro::yield();
          r.cancel();
          int got = 0;
          for (int i = 0; i < 4; ++i) got += !result.recv().value();
          released.wait();
          EXPECT_LE(got, 2);
          // Held now: the 2 not released + what the waiters got.
          s.release(2 + got);
          ASSERT_TRUE(s.try_acquire(4)) << "units lost in round " << round;
          s.release(4);
        }
      },
      cfg());
}

// ------------------------------------------------------ errgroup

TEST_P(CtxSyncTest, ErrgroupWaitsForAll) {
  goro::run(
      [] {
        goro::errgroup g;
        std::atomic<int> n{0};
        for (int i = 0; i < 50; ++i)
          g.go([&n, i] {
            goro::sleep(std::chrono::microseconds(i * 20));
            n.fetch_add(1);
          });
        g.wait();
        EXPECT_EQ(n.load(), 50);
        // wait() again: nothing left, no error.
        EXPECT_NO_THROW(g.wait());
      },
      cfg());
}

TEST_P(CtxSyncTest, ErrgroupFirstErrorCancelsTheContextAndIsRethrown) {
  goro::run(
      [] {
        auto [g, ctx] = goro::errgroup::with_context(goro::background());
        EXPECT_FALSE(ctx.err());
        std::atomic<int> saw_cancel{0};
        g.go([] { throw std::runtime_error("first"); });
        for (int i = 0; i < 5; ++i)
          g.go([&saw_cancel, ctx = ctx] {
            // Waits for the group's context, then fails too.
            goro::timer bail(20s);
            if (goro::select(goro::case_recv(ctx.done()), goro::case_recv(bail.c())) == 0) saw_cancel.fetch_add(1);
            throw std::runtime_error("later");
          });
        try {
          g.wait();
          ADD_FAILURE() << "wait() did not rethrow";
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(), "first");
        }
        EXPECT_EQ(saw_cancel.load(), 5);
        EXPECT_EQ(ctx.err(), goro::errc::canceled);
        EXPECT_TRUE(g.context().done() == ctx.done());
      },
      cfg());
}

TEST_P(CtxSyncTest, ErrgroupWaitCancelsTheContextEvenWithoutError) {
  goro::run(
      [] {
        auto parent = goro::with_cancel(goro::background());
        auto r = goro::errgroup::with_context(parent.ctx);
        r.group.go([] {});
        EXPECT_FALSE(r.ctx.err());
        r.group.wait();
        EXPECT_EQ(r.ctx.err(), goro::errc::canceled);
        EXPECT_FALSE(parent.ctx.err());
        parent.cancel();
      },
      cfg());
}

TEST_P(CtxSyncTest, ErrgroupContextFollowsItsParent) {
  goro::run(
      [] {
        auto parent = goro::with_cancel(goro::background());
        goro::errgroup g(parent.ctx);
        auto stopped = std::make_shared<std::atomic<bool>>(false);
        g.go([ctx = g.context(), stopped] {
          ctx.done().recv();
          stopped->store(true);
        });
        parent.cancel();
        g.wait();
        EXPECT_TRUE(stopped->load());
      },
      cfg());
}

struct custom_error : std::exception {
  int code;
  explicit custom_error(int c) : code(c) {}
  const char* what() const noexcept override { return "custom"; }
};

TEST_P(CtxSyncTest, ErrgroupKeepsTheExceptionType) {
  goro::run(
      [] {
        goro::errgroup g;
        g.go([] { throw custom_error(7); });
        try {
          g.wait();
          ADD_FAILURE() << "no exception";
        } catch (const custom_error& e) {
          EXPECT_EQ(e.code, 7);
        }
      },
      cfg());
}

TEST_P(CtxSyncTest, ErrgroupErrorCodeReturnsAreErrors) {
  goro::run(
      [] {
        {
          goro::errgroup g;
          g.go([]() -> std::error_code { return {}; });  // empty: no error
          g.go([] { return std::error_code(); });
          EXPECT_NO_THROW(g.wait());
        }
        {
          auto [g, ctx] = goro::errgroup::with_context(goro::background());
          g.go([] { return std::make_error_code(std::errc::io_error); });
          try {
            g.wait();
            ADD_FAILURE() << "no exception";
          } catch (const std::system_error& e) {
            EXPECT_EQ(e.code(), std::errc::io_error);
          }
          EXPECT_EQ(ctx.err(), goro::errc::canceled);
        }
        {
          goro::errgroup g;
          g.go([] { return std::error_code(goro::errc::deadline_exceeded); });
          try {
            g.wait();
            ADD_FAILURE() << "no exception";
          } catch (const std::system_error& e) {
            EXPECT_EQ(e.code(), goro::errc::deadline_exceeded);
          }
        }
      },
      cfg());
}

TEST_P(CtxSyncTest, ErrgroupSetLimitBoundsConcurrency) {
  goro::run(
      [] {
        goro::errgroup g;
        g.set_limit(2);
        std::atomic<int> running{0}, peak{0}, ran{0};
        auto gate = goro::make_chan<int>();
        auto task = [&] {
          int now = running.fetch_add(1) + 1;
          int p = peak.load();
          while (now > p && !peak.compare_exchange_weak(p, now)) {
          }
          (void)gate.recv();  // held until main opens the gate
          running.fetch_sub(1);
          ran.fetch_add(1);
        };
        auto spawner_done = goro::make_chan<int>();
        goro::go([&g, &task, spawner_done] {        // (the channel by value: main may go on once it is closed)
          for (int i = 0; i < 20; ++i) g.go(task);  // blocks at the limit
          spawner_done.close();
        });
        goro_test::bailout limit;
        while (running.load() < 2 && !limit.expired()) goro::yield();
        EXPECT_EQ(running.load(), 2) << "the limit is reached";
        EXPECT_FALSE(g.try_go(task)) << "try_go past the limit";
        for (int i = 0; i < 50; ++i) goro::yield();
        EXPECT_EQ(running.load(), 2) << "a third task started past the limit";
        EXPECT_EQ(spawner_done.size(), 0u);
        gate.close();
        (void)spawner_done.recv();
        g.wait();
        EXPECT_EQ(ran.load(), 20);
        EXPECT_EQ(peak.load(), 2);

        // Unlimited again.
        goro::errgroup h;
        h.set_limit(1);
        h.set_limit(-1);
        auto gate2 = goro::make_chan<int>();
        for (int i = 0; i < 5; ++i) h.go([gate2] { gate2.recv(); });  // would block with a limit
        for (int i = 0; i < 5; ++i) gate2.send(i);
        h.wait();
      },
      cfg());
}

TEST_P(CtxSyncTest, ErrgroupTryGo) {
  goro::run(
      [] {
        goro::errgroup g;
        g.set_limit(1);
        auto gate = goro::make_chan<int>();
        std::atomic<int> ran{0};
        EXPECT_TRUE(g.try_go([&, gate] {
          gate.recv();
          ran.fetch_add(1);
        }));
        EXPECT_FALSE(g.try_go([&] { ran.fetch_add(100); }));  // the slot is taken
        gate.send(1);
        g.wait();
        EXPECT_EQ(ran.load(), 1);
        EXPECT_TRUE(g.try_go([&] { ran.fetch_add(1); }));  // free again
        g.wait();
        EXPECT_EQ(ran.load(), 2);
        // Without a limit, try_go always starts.
        goro::errgroup h;
        for (int i = 0; i < 10; ++i) EXPECT_TRUE(h.try_go([&] { ran.fetch_add(1); }));
        h.wait();
        EXPECT_EQ(ran.load(), 12);
      },
      cfg());
}

TEST_P(CtxSyncTest, ErrgroupDestructorWaits) {
  goro::run(
      [] {
        std::atomic<int> finished{0};
        {
          goro::errgroup g;
          for (int i = 0; i < 4; ++i)
            g.go([&finished] {
              goro::sleep(10ms);
              finished.fetch_add(1);
            });
        }  // no wait(): the destructor waits
        EXPECT_EQ(finished.load(), 4);
        {
          goro::errgroup g;
          g.go([] { throw std::runtime_error("ignored"); });
          g.go([&finished] {
            goro::sleep(5ms);
            finished.fetch_add(1);
          });
        }  // an error nobody waited for: swallowed, still waits
        EXPECT_EQ(finished.load(), 5);
      },
      cfg());
}

TEST_P(CtxSyncTest, ErrgroupIsMovable) {
  goro::run(
      [] {
        std::atomic<int> n{0};
        goro::errgroup a;
        a.go([&n] {
          goro::sleep(5ms);
          n.fetch_add(1);
        });
        goro::errgroup b = std::move(a);
        b.go([&n] { n.fetch_add(1); });
        b.wait();
        EXPECT_EQ(n.load(), 2);
        goro::errgroup c;
        c.go([&n] {
          goro::sleep(5ms);
          n.fetch_add(1);
        });
        c = std::move(b);  // waits for c's own goroutines first
        EXPECT_EQ(n.load(), 3);
        c.wait();
      },
      cfg());
}

INSTANTIATE_TEST_SUITE_P(Procs, CtxSyncTest, testing::Values(1, 4),
                         [](const testing::TestParamInfo<int>& i) { return "procs" + std::to_string(i.param); });

}  // namespace
