// time_test.cpp — goro::sleep, after, timer, ticker, after_func: the time
// rows of the API contract, with Go 1.23 timer semantics (stop/reset return
// values, no stale value after stop or reset).
//
// No tight timing assertions: only orderings, behaviour, and lower bounds
// (a sleep of d lasts at least d). Waits that must end use a generous
// bail-out (see recv_within) so that a runtime bug fails instead of hanging.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "test_support.hpp"
#include "watchdog.hpp"

namespace {

using namespace std::chrono_literals;
using goro_test::scaled;
using clk = std::chrono::steady_clock;

// Receives from c, or gives up after `limit` (a stuck runtime, never a
// timing assertion). The bail-out is a goro::timer, stopped on return, so no
// timer is left pending when run() ends.
template <class Ch>
auto recv_within(const Ch& c, std::chrono::seconds limit = std::chrono::seconds(20)) {
  std::optional<typename Ch::value_type> out;
  goro::timer bail(limit);
  std::size_t i = goro::select(goro::case_recv(c, out), goro::case_recv(bail.c()));
  if (i == 1) ADD_FAILURE() << "nothing received within " << limit.count() << " s";
  return out;
}

// Waits (sleeping) until the timer channel holds a value, i.e. the timer
// fired and nobody received it yet.
void wait_until_fired(const goro::recv_chan<goro::time_point>& c) {
  goro_test::bailout b;
  while (c.size() == 0 && !b.expired()) goro::sleep(1ms);
  ASSERT_EQ(c.size(), 1u) << "the timer never fired";
}

class TimeTest : public testing::TestWithParam<int> {
 protected:
  goro::config cfg() const { return goro::config{.procs = GetParam()}; }
};

// ------------------------------------------------------------------- sleep

TEST_P(TimeTest, SleepLastsAtLeastD) {
  goro::run(
      [] {
        for (auto d : {1ms, 5ms, 30ms}) {
          auto t0 = clk::now();
          goro::sleep(d);
          EXPECT_GE(clk::now() - t0, d);
        }
        // Other duration types.
        auto t0 = clk::now();
        goro::sleep(std::chrono::microseconds(2500));
        goro::sleep(0.002s);
        EXPECT_GE(clk::now() - t0, 4500us);
        // Zero and negative durations return.
        goro::sleep(0ms);
        goro::sleep(-5s);
        goro::sleep(std::chrono::nanoseconds::min());
      },
      cfg());
}

TEST_P(TimeTest, ManySleepersEachSleepAtLeastTheirOwnDuration) {
  goro::run(
      [] {
        auto woke = goro::make_chan<int>(8);
        for (int i = 7; i >= 0; --i)
          goro::go([woke, i] {
            auto d = std::chrono::milliseconds(5 * i);
            auto t0 = clk::now();
            goro::sleep(d);
            woke.send(clk::now() - t0 >= d ? 1 : 0);
          });
        int ok = 0;
        for (int i = 0; i < 8; ++i) ok += recv_within(woke).value_or(0);
        EXPECT_EQ(ok, 8);
      },
      cfg());
}

TEST(TimeSleep, SleepOnAPlainThreadWithoutARuntimeBlocksTheThread) {
  auto t0 = clk::now();
  goro::sleep(30ms);
  EXPECT_GE(clk::now() - t0, 30ms);
}

TEST_P(TimeTest, SleepOnAPlainThreadBlocksThatThread) {
  goro::run(
      [] {
        auto done = goro::make_chan<int>(1);
        std::atomic<bool> slept_enough{false}, main_ran{false};
        std::atomic<std::int64_t> thread_gid{-1};
        std::atomic<int> ticks{0};
        std::thread t([&] {
          thread_gid = goro::this_goroutine::id();
          auto t0 = clk::now();
          goro::sleep(40ms);
          slept_enough = clk::now() - t0 >= 40ms;
          // The goroutines keep running while this thread sleeps: it sleeps
          // on until main has ticked three times.
          goro_test::bailout limit;
          while (ticks.load() < 3 && !limit.expired()) goro::sleep(1ms);
          main_ran = ticks.load() >= 3;
          done.send(1);
        });
        while (done.size() == 0) {
          goro::sleep(1ms);
          ticks.fetch_add(1);
        }
        t.join();
        EXPECT_EQ(thread_gid.load(), 0);
        EXPECT_TRUE(slept_enough.load());
        EXPECT_TRUE(main_ran.load()) << "main did not run while a plain thread slept";
      },
      cfg());
}

// ------------------------------------------------------------------- after

TEST_P(TimeTest, AfterDeliversOneTimeNoEarlierThanD) {
  goro::run(
      [] {
        auto t0 = clk::now();
        auto c = goro::after(15ms);
        EXPECT_EQ(c.capacity(), 1u);
        auto v = recv_within(c);
        ASSERT_TRUE(v);
        EXPECT_GE(*v - t0, 15ms);
        EXPECT_GE(clk::now() - t0, 15ms);
        // Exactly one value: nothing more arrives.
        goro::sleep(20ms);
        EXPECT_FALSE(c.try_recv());
        // Zero and negative durations fire at once.
        EXPECT_TRUE(recv_within(goro::after(0ms)));
        EXPECT_TRUE(recv_within(goro::after(-1h)));
      },
      cfg());
}

TEST_P(TimeTest, AfterInASelectTimesOut) {
  goro::run(
      [] {
        auto never = goro::make_chan<int>();
        auto t0 = clk::now();
        bool timed_out = false;
        std::size_t i = goro::select(goro::case_recv(never, [](std::optional<int>) { ADD_FAILURE(); }),
                                     goro::case_recv(goro::after(20ms), [&] { timed_out = true; }));
        EXPECT_EQ(i, 1u);
        EXPECT_TRUE(timed_out);
        EXPECT_GE(clk::now() - t0, 20ms);

        // A ready channel wins over a distant timeout.
        auto ready = goro::make_chan<int>(1);
        ready.send(7);
        std::optional<int> got;
        auto distant = goro::after(300ms);
        EXPECT_EQ(goro::select(goro::case_recv(ready, got), goro::case_recv(distant)), 0u);
        EXPECT_EQ(got, 7);

        // A value sent later, before the timeout, wins too.
        auto late = goro::make_chan<int>();
        goro::go([late] {
          goro::sleep(10ms);
          late.send(3);
        });
        got.reset();
        goro::timer limit(30s);
        EXPECT_EQ(goro::select(goro::case_recv(late, got), goro::case_recv(limit.c())), 0u);
        EXPECT_EQ(got, 3);
        // The distant after() still fires (and leaves nothing pending behind).
        EXPECT_TRUE(recv_within(distant));
      },
      cfg());
}

// ------------------------------------------------------------------- timer

TEST_P(TimeTest, TimerFiresOnceAfterD) {
  goro::run(
      [] {
        auto t0 = clk::now();
        goro::timer t(10ms);
        EXPECT_EQ(t.c().capacity(), 1u);
        auto v = recv_within(t.c());
        ASSERT_TRUE(v);
        EXPECT_GE(*v - t0, 10ms);
        goro::sleep(15ms);
        EXPECT_FALSE(t.c().try_recv());
        // Received: it is no longer pending.
        EXPECT_FALSE(t.stop());
        EXPECT_FALSE(t.reset(1h));  // ... and reset re-arms it
        EXPECT_TRUE(t.stop());
        EXPECT_FALSE(t.c().try_recv());
      },
      cfg());
}

TEST_P(TimeTest, StopOnAPendingTimerReturnsTrueAndNothingIsReceived) {
  goro::run(
      [] {
        goro::timer t(15ms);
        EXPECT_TRUE(t.stop());
        EXPECT_FALSE(t.c().try_recv());
        EXPECT_FALSE(t.stop());  // already stopped
        goro::sleep(30ms);
        EXPECT_FALSE(t.c().try_recv());
        EXPECT_FALSE(t.stop());
      },
      cfg());
}

TEST_P(TimeTest, StopOnAFiredButUnreceivedTimerReturnsTrueAndDrainsIt) {
  goro::run(
      [] {
        goro::timer t(1ms);
        wait_until_fired(t.c());
        EXPECT_TRUE(t.stop());  // Go 1.23: fired but not received counts as pending
        EXPECT_FALSE(t.c().try_recv());
        EXPECT_EQ(t.c().size(), 0u);
        EXPECT_FALSE(t.stop());
        goro::sleep(10ms);
        EXPECT_FALSE(t.c().try_recv());
      },
      cfg());
}

TEST_P(TimeTest, ResetReturnsWhatStopWouldHave) {
  goro::run(
      [] {
        // Pending: true, and it fires at the new time.
        {
          goro::timer t(1h);
          auto t0 = clk::now();
          EXPECT_TRUE(t.reset(10ms));
          EXPECT_FALSE(t.c().try_recv());
          auto v = recv_within(t.c());
          ASSERT_TRUE(v);
          EXPECT_GE(*v - t0, 10ms);
        }
        // Fired but unreceived: true, and the stale value is gone at once.
        {
          goro::timer t(1ms);
          wait_until_fired(t.c());
          auto t0 = clk::now();
          EXPECT_TRUE(t.reset(20ms));
          EXPECT_FALSE(t.c().try_recv());
          auto v = recv_within(t.c());
          ASSERT_TRUE(v);
          EXPECT_GE(*v - t0, 20ms);  // the new value, not the stale one
        }
        // Stopped: false, and reset revives it.
        {
          goro::timer t(1h);
          EXPECT_TRUE(t.stop());
          EXPECT_FALSE(t.reset(5ms));
          EXPECT_TRUE(recv_within(t.c()));
        }
        // Received: false.
        {
          goro::timer t(1ms);
          EXPECT_TRUE(recv_within(t.c()));
          EXPECT_FALSE(t.reset(1h));
          EXPECT_TRUE(t.reset(1h));  // pending again
          EXPECT_TRUE(t.stop());
        }
        // Reset to zero fires at once.
        {
          goro::timer t(1h);
          EXPECT_TRUE(t.reset(0ms));
          EXPECT_TRUE(recv_within(t.c()));
        }
      },
      cfg());
}

// Stop and reset race with the firing (on other processors too): for a
// timer whose value was never received, stop() must return true (pending or
// fired-unreceived), and no value may be received right after.
// Tickers stopped and dropped while their ticks fire on other processors:
// a tick in flight keeps the ticker's state alive on its own, and nothing
// waits for itself (a hang here, or a use-after-free under ASan, is the bug).
TEST_P(TimeTest, TickersDroppedWhileTheirTicksFire) {
  goro::run(
      [] {
        const int workers = 4, rounds = scaled(400, 100);
        std::atomic<long> ticks{0};
        goro::wait_group wg;
        wg.add(workers);
        for (int w = 0; w < workers; ++w) {
          goro::go([&, w] {
            for (int i = 0; i < rounds; ++i) {
              goro::ticker t(std::chrono::microseconds(1 + (i + w) % 7));
              for (int k = 0; k < (i % 5) * 200; ++k) std::atomic_signal_fence(std::memory_order_seq_cst);
              if (i % 3 == 0) goro::yield();
              if (t.c().try_recv()) ticks.fetch_add(1, std::memory_order_relaxed);
              if (i % 2) t.stop();  // stopped then dropped, or dropped while running
            }
            wg.done();
          });
        }
        wg.wait();  // (the test fails by hanging or crashing, not by a count)
      },
      cfg());
}

TEST_P(TimeTest, NoStaleValueAfterStopOrResetUnderRaces) {
  goro::run(
      [] {
        const int rounds = scaled(3000, 500);
        std::mt19937 rng(12345);
        std::uniform_int_distribution<int> us(0, 300);
        int stale = 0, false_returns = 0;
        for (int i = 0; i < rounds; ++i) {
          goro::timer t(std::chrono::microseconds(us(rng)));
          int wait = us(rng);
          if (wait > 150) goro::sleep(std::chrono::microseconds(wait - 150));
          else
            for (int k = 0; k < wait * 10; ++k) std::atomic_signal_fence(std::memory_order_seq_cst);
          bool r = (i % 2 == 0) ? t.stop() : t.reset(1h);
          if (!r) ++false_returns;
          if (t.c().try_recv()) ++stale;
        }
        EXPECT_EQ(stale, 0);
        EXPECT_EQ(false_returns, 0);
      },
      cfg());
}

// Same, but another goroutine receives concurrently: whatever stop() says,
// once it returns nothing more can be received.
TEST_P(TimeTest, NoValueAfterStopWhileAnotherGoroutineReceives) {
  goro::run(
      [] {
        const int rounds = scaled(500, 100);
        int late = 0;
        for (int i = 0; i < rounds; ++i) {
          auto t = std::make_shared<goro::timer>(std::chrono::microseconds(50 + (i % 7) * 30));
          auto got = goro::make_chan<int>(1);
          auto stopped = goro::make_chan<std::monostate>();
          auto c = t->c();
          goro::go([c, got, stopped] {
            std::optional<goro::time_point> v;
            goro::select(goro::case_recv(c, v), goro::case_recv(stopped));
            got.send(v ? 1 : 0);
          });
          goro::sleep(std::chrono::microseconds((i % 5) * 40));
          bool was_pending = t->stop();
          stopped.close();
          int received = got.recv().value();
          // stop() true: the receiver got nothing; false: it got the value.
          if (was_pending && received) ++late;
          if (!was_pending && !received) ++late;
        }
        EXPECT_EQ(late, 0);
      },
      cfg());
}

TEST_P(TimeTest, DestroyingATimerStopsIt) {
  goro::run(
      [] {
        goro::recv_chan<goro::time_point> c;
        {
          goro::timer t(5ms);
          c = t.c();
        }
        goro::sleep(20ms);
        EXPECT_FALSE(c.try_recv());

        // Fired but unreceived, then destroyed: the value is discarded.
        {
          goro::timer t(1ms);
          c = t.c();
          wait_until_fired(c);
        }
        EXPECT_FALSE(c.try_recv());

        // Move-assigning over a timer stops the old one.
        goro::timer a(5ms);
        auto ca = a.c();
        a = goro::timer(1h);
        goro::sleep(20ms);
        EXPECT_FALSE(ca.try_recv());
        EXPECT_TRUE(a.stop());
      },
      cfg());
}

TEST_P(TimeTest, ManyTimersFireAndAreReceived) {
  goro::run(
      [] {
        const int n = scaled(2000, 300);
        std::vector<goro::timer> ts;
        ts.reserve(n);
        for (int i = 0; i < n; ++i) ts.emplace_back(std::chrono::microseconds((i * 37) % 5000));
        int got = 0;
        for (auto& t : ts)
          if (recv_within(t.c())) ++got;
        EXPECT_EQ(got, n);
        for (auto& t : ts) EXPECT_FALSE(t.stop());
      },
      cfg());
}

// ------------------------------------------------------------------ ticker

TEST_P(TimeTest, TickerDeliversRepeatedly) {
  goro::run(
      [] {
        auto t0 = clk::now();
        goro::ticker t(5ms);
        EXPECT_EQ(t.c().capacity(), 1u);
        goro::time_point prev = t0;
        for (int i = 1; i <= 6; ++i) {
          auto v = recv_within(t.c());
          ASSERT_TRUE(v);
          EXPECT_GE(*v, prev);
          prev = *v;
        }
        // The 6th tick is due no earlier than 6 periods after the start.
        EXPECT_GE(prev - t0, 30ms);
        t.stop();
      },
      cfg());
}

TEST_P(TimeTest, TickerDropsTicksForASlowReceiver) {
  goro::run(
      [] {
        goro::ticker t(2ms);
        EXPECT_EQ(t.c().capacity(), 1u);  // Go's: one tick waits, the others are dropped
        goro::sleep(40ms);                // at least 20 periods without receiving
        int drained = 0;
        while (t.c().try_recv()) ++drained;
        EXPECT_LE(drained, 2);  // the buffered tick (+ at most one that just arrived), not 20
        // A receiver that takes 10 ms (5 periods) per tick finds no backlog
        // after each pause, and the next tick still comes.
        for (int i = 0; i < 5; ++i) {
          goro::sleep(10ms);
          int waiting = 0;
          while (t.c().try_recv()) ++waiting;
          EXPECT_LE(waiting, 2) << "round " << i;
          EXPECT_TRUE(recv_within(t.c()));
        }
        t.stop();
      },
      cfg());
}

TEST_P(TimeTest, TickerStopAndReset) {
  goro::run(
      [] {
        // stop: nothing more, not even a buffered tick.
        {
          goro::ticker t(1ms);
          wait_until_fired(t.c());
          t.stop();
          EXPECT_FALSE(t.c().try_recv());
          goro::sleep(10ms);
          EXPECT_FALSE(t.c().try_recv());
        }
        // reset: the new period applies, and a buffered tick is dropped.
        {
          goro::ticker t(1ms);
          wait_until_fired(t.c());
          t.reset(1h);
          EXPECT_FALSE(t.c().try_recv());
          goro::sleep(10ms);
          EXPECT_FALSE(t.c().try_recv());
          auto t0 = clk::now();
          t.reset(5ms);
          for (int i = 0; i < 3; ++i) EXPECT_TRUE(recv_within(t.c()));
          EXPECT_GE(clk::now() - t0, 15ms);
        }
        // reset revives a stopped ticker.
        {
          goro::ticker t(1h);
          t.stop();
          t.reset(2ms);
          EXPECT_TRUE(recv_within(t.c()));
          EXPECT_TRUE(recv_within(t.c()));
        }
        // Destroying a ticker stops it.
        {
          goro::recv_chan<goro::time_point> c;
          {
            goro::ticker t(1ms);
            c = t.c();
            wait_until_fired(c);
          }
          EXPECT_FALSE(c.try_recv());
          goro::sleep(10ms);
          EXPECT_FALSE(c.try_recv());
        }
      },
      cfg());
}

TEST_P(TimeTest, NonPositiveTickerIntervalPanics) {
  goro::run(
      [] {
        EXPECT_THROW(goro::ticker(0ms), goro::panic_error);
        EXPECT_THROW(goro::ticker(-1s), goro::panic_error);
        EXPECT_THROW(goro::ticker(std::chrono::nanoseconds(0)), goro::panic_error);
        goro::ticker t(1h);
        EXPECT_THROW(t.reset(0ms), goro::panic_error);
        EXPECT_THROW(t.reset(-3ms), goro::panic_error);
        // Still usable afterwards.
        t.reset(1ms);
        EXPECT_TRUE(recv_within(t.c()));
      },
      cfg());
}

// -------------------------------------------------------------- after_func

TEST_P(TimeTest, AfterFuncRunsInItsOwnGoroutine) {
  goro::run(
      [] {
        auto ids = goro::make_chan<std::int64_t>(1);
        auto t0 = clk::now();
        auto h = goro::after_func(5ms, [ids] { ids.send(goro::this_goroutine::id()); });
        auto id = recv_within(ids);
        ASSERT_TRUE(id);
        EXPECT_GE(clk::now() - t0, 5ms);
        EXPECT_NE(*id, 0);
        EXPECT_NE(*id, goro::this_goroutine::id());
        EXPECT_FALSE(h.stop());  // it already ran
      },
      cfg());
}

TEST_P(TimeTest, AfterFuncMayBlockWithoutHoldingUpOtherTimers) {
  goro::run(
      [] {
        // f runs in a goroutine of its own, so it may block.
        auto gate = goro::make_chan<int>();
        auto out = goro::make_chan<int>(2);
        auto h1 = goro::after_func(1ms, [gate, out] {
          gate.recv();
          out.send(1);
        });
        auto h2 = goro::after_func(5ms, [out] { out.send(2); });
        EXPECT_EQ(recv_within(out), 2);
        gate.send(0);
        EXPECT_EQ(recv_within(out), 1);
      },
      cfg());
}

TEST_P(TimeTest, AfterFuncStopPreventsTheCall) {
  goro::run(
      [] {
        auto ran = std::make_shared<std::atomic<int>>(0);
        auto h = goro::after_func(20ms, [ran] { ran->fetch_add(1); });
        EXPECT_TRUE(h.stop());
        EXPECT_FALSE(h.stop());
        goro::sleep(40ms);
        EXPECT_EQ(ran->load(), 0);
      },
      cfg());
}

TEST_P(TimeTest, AfterFuncReset) {
  goro::run(
      [] {
        auto calls = goro::make_chan<goro::time_point>(4);
        auto t0 = clk::now();
        auto h = goro::after_func(1h, [calls] { calls.send(clk::now()); });
        EXPECT_TRUE(h.reset(10ms));  // pending: true
        auto v = recv_within(calls);
        ASSERT_TRUE(v);
        EXPECT_GE(*v - t0, 10ms);
        EXPECT_FALSE(h.reset(2ms));  // already ran: false, and it runs again
        EXPECT_TRUE(recv_within(calls));
        goro::sleep(10ms);
        EXPECT_FALSE(calls.try_recv());
      },
      cfg());
}

// Go's Reset after Stop re-arms the timer: f runs once, after the new
// duration; stop() after that run returns false.
TEST_P(TimeTest, AfterFuncResetAfterStopRunsItOnce) {
  goro::run(
      [] {
        auto calls = goro::make_chan<goro::time_point>(4);
        auto h = goro::after_func(1h, [calls] { calls.send(clk::now()); });
        EXPECT_TRUE(h.stop());
        EXPECT_FALSE(h.reset(5ms)) << "a stopped after_func is not pending";
        EXPECT_TRUE(recv_within(calls));
        EXPECT_FALSE(h.stop()) << "it ran";
        EXPECT_FALSE(calls.try_recv()) << "it ran twice";
      },
      cfg());
}

// timer, after and ticker used from a plain thread while a runtime runs:
// each blocks that thread until its value arrives (API.md: on a thread that
// is not a goroutine, blocking calls block the thread).
TEST_P(TimeTest, TimersOnAPlainThread) {
  bool timer_ok = false, after_ok = false, stop_ok = false;
  int ticks = 0;
  goro::run(
      [&] {
        std::thread t([&] {
          goro::timer tm(5ms);
          timer_ok = tm.c().recv().has_value();
          after_ok = goro::after(5ms).recv().has_value();
          goro::timer never(1h);
          stop_ok = never.stop();
          goro::ticker tk(2ms);
          for (int i = 0; i < 3; ++i) ticks += tk.c().recv().has_value();
          tk.stop();
        });
        // The runtime's main goroutine keeps going meanwhile.
        goro::blocking([&] { t.join(); });
      },
      cfg());
  EXPECT_TRUE(timer_ok);
  EXPECT_TRUE(after_ok);
  EXPECT_TRUE(stop_ok);
  EXPECT_EQ(ticks, 3);
}

// Go: stop() false means f has been started; true means it never runs.
TEST_P(TimeTest, AfterFuncStopReturnTellsWhetherFRuns) {
  goro::run(
      [] {
        const int rounds = scaled(2000, 300);
        auto runs = std::make_shared<std::atomic<int>>(0);
        int false_returns = 0;
        for (int i = 0; i < rounds; ++i) {
          auto h = goro::after_func(std::chrono::microseconds((i * 13) % 200), [runs] { runs->fetch_add(1); });
          if (i % 3) goro::sleep(std::chrono::microseconds((i * 7) % 150));
          if (!h.stop()) ++false_returns;
        }
        // Calls that were started finish soon; stopped ones never run.
        goro_test::bailout b(std::chrono::seconds(5));
        while (runs->load() < false_returns && !b.expired()) goro::sleep(1ms);
        goro::sleep(10ms);
        EXPECT_EQ(runs->load(), false_returns);
      },
      cfg());
}

TEST_P(TimeTest, DroppingTheAfterFuncHandleDoesNotCancel) {
  goro::run(
      [] {
        auto ch = goro::make_chan<int>(1);
        {
          (void)goro::after_func(5ms, [ch] { ch.send(42); });
        }
        {
          auto h = goro::after_func(5ms, [ch] { ch.send(43); });
          goro::func_timer moved = std::move(h);
        }
        int a = recv_within(ch).value_or(0);
        int b = recv_within(ch).value_or(0);
        EXPECT_EQ(a + b, 85);
      },
      cfg());
}

// ------------------------------------------------- many sleepers at once

TEST(TimeScale, HundredThousandSleepingGoroutinesAllWake) {
  const int n = scaled(100000, 2000);  // TSan: at most 8128 live goroutines (its thread limit)
  goro::run([n] {
    std::atomic<int> asleep{0}, woke{0}, early{0};
    goro::wait_group wg;
    wg.add(n);
    // Everyone sleeps until the same instant, well after they have all started.
    const auto until = clk::now() + scaled(600ms, 1500ms);
    for (int i = 0; i < n; ++i)
      goro::go([&] {
        asleep.fetch_add(1, std::memory_order_relaxed);
        goro::sleep(until - clk::now());
        if (clk::now() < until) early.fetch_add(1, std::memory_order_relaxed);
        woke.fetch_add(1, std::memory_order_relaxed);
        wg.done();
      });
    // Watch them all be asleep at once (informational: the lower bound below
    // is what is asserted).
    goro_test::bailout b;
    while (asleep.load() < n && !b.expired()) goro::sleep(1ms);
    int woke_when_all_asleep = woke.load();
    bool all_asleep_before_deadline = clk::now() < until;
    wg.wait();
    EXPECT_EQ(woke.load(), n);
    EXPECT_EQ(early.load(), 0);
    if (all_asleep_before_deadline) {
      EXPECT_EQ(woke_when_all_asleep, 0);
    }
    testing::Test::RecordProperty("all_asleep_before_deadline", all_asleep_before_deadline ? 1 : 0);
  });
}

INSTANTIATE_TEST_SUITE_P(Procs, TimeTest, testing::Values(1, 4),
                         [](const testing::TestParamInfo<int>& i) { return "procs" + std::to_string(i.param); });

}  // namespace
