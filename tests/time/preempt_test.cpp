// preempt_test.cpp — the preemption guarantee (src/runtime/sysmon.cpp): a
// goroutine that computes for more than 10 ms without a scheduling point
// does not hold up the goroutines and timers queued behind it on its P.
#include <goro/goro.hpp>
#include <goro/introspect.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "test_support.hpp"
#include "watchdog.hpp"

namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

std::atomic<std::uint64_t> spin_sink{0};

// Computes without calling goro until done() holds, or until the 60 s
// bail-out; returns whether done() held.
template <class Done>
bool spin_until_done(Done done) {
  const auto give_up = clk::now() + 60s;
  std::uint64_t x = 1;
  while (!done()) {
    if (clk::now() > give_up) return false;
    for (int i = 0; i < 1000; ++i) x = x * 6364136223846793005ull + 1442695040888963407ull;
  }
  spin_sink.store(x, std::memory_order_relaxed);  // keeps the loop's work
  return true;
}

// procs = 1: a goroutine on a 5 ms ticker keeps ticking while another
// computes without a scheduling point: the computing one goes on until it
// has seen 20 ticks go by.
TEST(Preemption, TickerRunsWhileAGoroutineSpinsWithProcs1) {
  goro::run(
      [] {
        std::atomic<int> ticks{0};
        std::atomic<bool> stop{false};
        auto ticking = goro::make_chan<int>(1);
        goro::wait_group wg;
        wg.add(1);
        goro::go([&] {
          goro::ticker t(5ms);
          bool first = true;
          while (!stop.load()) {
            t.c().recv();
            ticks.fetch_add(1);
            if (first) (void)ticking.try_send(1);
            first = false;
          }
          wg.done();
        });
        ticking.recv();  // the ticker goroutine is under way

        auto result = goro::make_chan<bool>(1);
        goro::go([&ticks, result] {  // (the channel by value: main may return once it has the result)
          const int before = ticks.load();
          result.send(spin_until_done([&] { return ticks.load() - before >= 20; }));
        });
        const bool ticked = result.recv().value();
        stop = true;
        wg.wait();
        EXPECT_TRUE(ticked) << "the ticker stalled while one goroutine computed (" << ticks.load() << " ticks)";
      },
      goro::config{.procs = 1});
}

// procs = 1: goroutines queued behind a spinning one get to run (the
// spinner's queue is taken over): the spinner computes until all ten have.
TEST(Preemption, QueuedGoroutinesRunWhileAGoroutineSpinsWithProcs1) {
  goro::run(
      [] {
        std::atomic<int> ran{0};
        auto started = goro::make_chan<int>(1);
        auto done = goro::make_chan<bool>(1);
        goro::go([&ran, started, done] {  // (channels by value: main may return once it has the result)
          started.send(1);                // buffered: readies main, which waits behind this loop
          done.send(spin_until_done([&] { return ran.load() == 10; }));
        });
        started.recv();  // runs only once the spinner's queue is taken over
        // These are queued while the spinner still computes.
        for (int i = 0; i < 10; ++i) goro::go([&] { ran.fetch_add(1); });
        EXPECT_TRUE(done.recv().value()) << "only " << ran.load() << " of 10 ran while a goroutine computed";
      },
      goro::config{.procs = 1});
}

// procs = 1: a goroutine whose channel operations never block (it sends to
// and receives from its own buffered channel) is preempted at them, so a
// goroutine queued behind it runs on the same processor. (Without that, it
// could run only on a spare processor sysmon lends, whose id is not 0.
// sysmon lends one in the same pass that flags the loop, and on a loaded
// machine the spare's thread can win the race: with six busy loops beside
// it on two cores, it won three rounds in four under ASan. So rounds go on
// until one is won, at most 200: without preemption at channel operations
// none ever is.)
TEST(Preemption, ChannelOperationsThatNeverBlockArePreemptionPoints) {
  int on_p0 = 0;
  static std::atomic<std::int64_t> sink{0};
  for (int attempt = 0; attempt < 200 && on_p0 == 0; ++attempt) {
    goro::run(
        [&] {
          std::atomic<bool> stop{false};
          auto loop = goro::make_chan<int>(1);
          auto started = goro::make_chan<int>(1);
          goro::wait_group wg;
          wg.add(2);
          goro::go([&] {
            std::int64_t n = 0;
            started.send(1);  // readies main, which waits behind this loop
            while (!stop.load(std::memory_order_acquire)) {
              loop.send(1);
              n += *loop.recv();
            }
            sink.store(n, std::memory_order_relaxed);  // keeps the loop's work
            wg.done();
          });
          started.recv();  // resumes only when the loop is preempted (or on a spare processor)
          goro::go([&] {
            if (goro::introspect::current_processor() == 0) ++on_p0;
            stop.store(true, std::memory_order_release);
            wg.done();
          });
          wg.wait();
        },
        goro::config{.procs = 1});
  }
  EXPECT_EQ(on_p0, 1) << "the goroutine behind the channel loop never ran on its processor";
}

// procs = 1: a pair of goroutines ping-ponging over unbuffered channels does
// not starve a third goroutine.
TEST(Preemption, PingPongPairDoesNotStarveAThirdGoroutine) {
  goro::run(
      [] {
        auto ping = goro::make_chan<int>();
        auto pong = goro::make_chan<int>();
        std::atomic<bool> stop{false};
        std::atomic<std::int64_t> exchanges{0};
        goro::wait_group pair;
        pair.add(2);
        goro::go([&] {
          for (int i = 0; !stop.load(); ++i) {
            ping.send(i);
            pong.recv();
            exchanges.fetch_add(1, std::memory_order_relaxed);
          }
          ping.close();
          pair.done();
        });
        goro::go([&] {
          while (auto v = ping.recv()) pong.send(*v);
          pair.done();
        });
        // The third goroutine: needs the P a hundred times.
        auto third_done = goro::make_chan<int>(1);
        std::atomic<int> third{0};
        goro::go([&third, third_done] {  // the channel by value: nobody waits for this goroutine
          for (int i = 0; i < 100; ++i, third.fetch_add(1)) goro::yield();
          third_done.send(1);
        });
        // And the main goroutine needs it for a timer.
        goro::timer bail(20s);
        std::size_t which = goro::select(goro::case_recv(third_done), goro::case_recv(bail.c()));
        EXPECT_EQ(which, 0u) << "the third goroutine starved: " << third.load() << "/100 yields done, "
                             << exchanges.load() << " exchanges";
        goro::sleep(10ms);
        stop = true;
        pair.wait();
        EXPECT_GT(exchanges.load(), 0);
      },
      goro::config{.procs = 1});
}

}  // namespace
