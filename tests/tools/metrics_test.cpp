// metrics_test.cpp — goro::read_metrics (goro/metrics.hpp): each gauge
// against a state the test builds (goroutines parked, queued, on the
// poller, in blocking calls, timers pending), and the scheduler-latency
// histogram against waits the test forces (goroutines made runnable while
// the only processor computes for 5 ms: every sample among them waited at
// least that long, however slow the machine).
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <numeric>
#include <thread>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

TEST(Metrics, AllZeroWithNoRuntime) {
  goro::metrics m = goro::read_metrics();
  EXPECT_EQ(m.goroutines, 0);
  EXPECT_EQ(m.processors, 0);
  EXPECT_EQ(m.sched_latency.count, 0u);
  EXPECT_EQ(m.sched_latency.quantile(0.99), 0.0);
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
        // One processor, and main does not yield: the ten wait in its queue.
        std::atomic<int> ran{0};
        for (int i = 0; i < 10; ++i) goro::go([&ran] { ran.fetch_add(1); });
        const goro::metrics m = goro::read_metrics();
        ASSERT_EQ(m.run_queues.size(), 1u);
        EXPECT_EQ(m.runnable, m.global_run_queue + m.run_queues[0]);
        EXPECT_EQ(m.runnable, 10);
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

TEST(Metrics, SchedulerLatencyRecordsForcedWaits) {
  goro::run(
      [] {
        const goro::metrics before = goro::read_metrics();
        // 320 goroutines made runnable while the only processor computes for
        // 5 ms: ids are consecutive, so exactly ten of them are sampled
        // (one transition in 32), and each of those waited 5 ms or more.
        std::atomic<int> ran{0};
        for (int i = 0; i < 320; ++i) goro::go([&ran] { ran.fetch_add(1); });
        const auto until = std::chrono::steady_clock::now() + 5ms;
        while (std::chrono::steady_clock::now() < until) {
        }
        while (ran.load() < 320) goro::yield();
        const goro::metrics m = goro::read_metrics();
        const auto& h = m.sched_latency;
        EXPECT_EQ(std::accumulate(h.counts.begin(), h.counts.end(), std::uint64_t{0}), h.count);
        std::uint64_t slow_before = 0, slow_after = 0;
        for (int i = 0; i < goro::sched_latency_histogram::kBuckets; ++i)
          if (goro::sched_latency_histogram::upper_bound(i) > 0.005) {
            slow_before += before.sched_latency.counts[static_cast<std::size_t>(i)];
            slow_after += h.counts[static_cast<std::size_t>(i)];
          }
        EXPECT_GE(slow_after - slow_before, 10u) << "samples of waits over 4 ms: " << slow_after - slow_before;
        EXPECT_GE(h.sum_seconds - before.sched_latency.sum_seconds, 10 * 0.005);
        EXPECT_GE(h.quantile(1.0), 0.005);
      },
      goro::config{.procs = 1});
}

TEST(Metrics, HistogramBoundsAndQuantiles) {
  using H = goro::sched_latency_histogram;
  EXPECT_DOUBLE_EQ(H::upper_bound(0), 1e-6);
  EXPECT_DOUBLE_EQ(H::upper_bound(10), 1.024e-3);
  EXPECT_TRUE(std::isinf(H::upper_bound(H::kBuckets - 1)));
  H h;
  h.counts[2] = 90;  // up to 4 µs
  h.counts[12] = 10; // up to 4.096 ms
  h.count = 100;
  EXPECT_DOUBLE_EQ(h.quantile(0.5), 4e-6);
  EXPECT_DOUBLE_EQ(h.quantile(0.9), 4e-6);
  EXPECT_DOUBLE_EQ(h.quantile(0.99), 4.096e-3);
}

}  // namespace
