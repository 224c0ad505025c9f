// metrics_test.cpp — goro::read_metrics (goro/metrics.hpp): each gauge
// against a state the test builds (goroutines parked, queued, on the
// poller, in blocking calls, timers pending).
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

TEST(Metrics, AllZeroWithNoRuntime) {
  goro::metrics m = goro::read_metrics();
  EXPECT_EQ(m.goroutines, 0);
  EXPECT_EQ(m.processors, 0);
  EXPECT_TRUE(m.run_queues.empty());
}

TEST(Metrics, GoroutinesThreadsProcessorsAndStacks) {
  goro::run(
      [] {
        const goro::metrics before = goro::read_metrics();
        EXPECT_EQ(before.processors, 3);
        EXPECT_EQ(before.threads, static_cast<std::int64_t>(goro::introspect::os_threads()));
        auto block = goro::make_chan<int>();
        goro::wait_group started;
        started.add(50);
        for (int i = 0; i < 50; ++i)
          goro::go([block, &started] {
            started.done();
            block.recv();
          });
        started.wait();
        const goro::metrics m = goro::read_metrics();
        EXPECT_EQ(m.goroutines, before.goroutines + 50);
        EXPECT_EQ(m.goroutines, goro::num_goroutine());
        EXPECT_EQ(m.goroutines_created, before.goroutines_created + 50);
        // Every one of them has run, so each holds a stack.
        EXPECT_GE(m.stack_bytes_in_use, 51 * goro::introspect::default_stack_size());
        block.close();
      },
      goro::config{.procs = 3});
}

TEST(Metrics, RunQueueLengths) {
  goro::run(
      [] {
        // One processor: the ten wait in its queue.
        std::atomic<int> ran{0};
        for (int i = 0; i < 10; ++i) goro::go([&ran] { ran.fetch_add(1); });
        const goro::metrics m = goro::read_metrics();
        ASSERT_EQ(m.run_queues.size(), 1u);
        EXPECT_EQ(m.runnable, m.global_run_queue + m.run_queues[0]);
        // Main runs on the only processor, so none runs while it reads; a
        // spawn may still have yielded to a preemption request (sysmon,
        // slow sanitizer builds): those that ran are not queued.
        EXPECT_EQ(m.runnable, 10 - ran.load());
        while (ran.load() < 10) goro::yield();
        EXPECT_EQ(goro::read_metrics().runnable, 0);
      },
      goro::config{.procs = 1});
}

TEST(Metrics, TimersPollerWaitersAndBlockingCalls) {
  goro::run([] {
    goro::timer t(1h);
    auto ln = goro::net::listen("tcp", "127.0.0.1:0");
    auto parked = goro::make_chan<std::monostate>();
    goro::go([&ln, parked] {
      std::error_code ec;
      auto c = ln.accept(ec);  // parks on the poller until the listener closes
      parked.close();
    });
    std::atomic<bool> release{false};
    auto in_call = goro::make_chan<std::monostate>(1);
    auto call_done = goro::make_chan<std::monostate>();
    goro::go([&release, in_call, call_done] {
      goro::blocking([&] {
        in_call.send({});
        while (!release.load()) std::this_thread::sleep_for(1ms);
      });
      call_done.close();
    });
    in_call.recv();
    goro_test::bailout limit;
    goro::metrics m;
    do {
      m = goro::read_metrics();
      if (m.poller_waiters >= 1 && m.blocking_calls == 1) break;
      goro::sleep(1ms);
    } while (!limit.expired());
    EXPECT_GE(m.timers_pending, 1);
    EXPECT_EQ(m.poller_waiters, 1);
    EXPECT_EQ(m.blocking_calls, 1);
    release = true;
    call_done.recv();
    ln.close();
    parked.recv();
    t.stop();
    m = goro::read_metrics();
    EXPECT_EQ(m.poller_waiters, 0);
    EXPECT_EQ(m.blocking_calls, 0);
  });
}

}  // namespace
