// bench/micro_bench.cpp — Google Benchmark microbenchmarks of goro's core
// operations. Every goroutine must live inside goro::run, so each benchmark
// calls run once per invocation and keeps its timing loop in the main
// goroutine; set-up and tear-down of the runtime stay outside the timed
// loop. Times are wall-clock (UseRealTime): goroutines may run on threads
// other than the one that calls the benchmark.
//
//   build/bench/micro_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>
#include <goro/goro.hpp>

#include <atomic>
#include <cstdint>

namespace {

// One goroutine spawned and joined per iteration: go + done + wait, the
// latency of starting a goroutine and learning that it finished.
// Arg: procs.
void BM_spawn_join(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  goro::run(
      [&] {
        goro::wait_group wg;
        for (auto _ : state) {
          wg.add(1);
          goro::go([&wg] { wg.done(); });
          wg.wait();
        }
      },
      goro::config{.procs = procs});
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_spawn_join)->Arg(1)->Arg(2)->UseRealTime();

// Spawn throughput: each iteration spawns a batch of goroutines that only
// call done(), then waits for all of them (the `spawn` workload in small).
// Args: procs, batch size. Items = goroutines.
void BM_spawn_batch(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  const std::int64_t batch = state.range(1);
  goro::run(
      [&] {
        goro::wait_group wg;
        for (auto _ : state) {
          wg.add(batch);
          for (std::int64_t i = 0; i < batch; ++i) goro::go([&wg] { wg.done(); });
          wg.wait();
        }
      },
      goro::config{.procs = procs});
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_spawn_batch)->Args({1, 1000})->Args({2, 1000})->UseRealTime();

// Yield ping between two goroutines on one processor: the main goroutine
// and a partner take turns through goro::yield(). One iteration is one
// yield of the main goroutine = two switches (main -> partner -> main).
// Items = switches.
void BM_yield_ping_p1(benchmark::State& state) {
  goro::run(
      [&] {
        std::atomic<bool> stop{false};
        goro::wait_group wg;
        wg.add(1);
        goro::go([&] {
          while (!stop.load(std::memory_order_relaxed)) goro::yield();
          wg.done();
        });
        goro::yield();  // let the partner start before timing
        for (auto _ : state) goro::yield();
        stop.store(true, std::memory_order_relaxed);
        wg.wait();
      },
      goro::config{.procs = 1});
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_yield_ping_p1)->UseRealTime();

// A lone yield: nothing else is runnable, so yield returns to the caller.
void BM_yield_alone_p1(benchmark::State& state) {
  goro::run(
      [&] {
        for (auto _ : state) goro::yield();
      },
      goro::config{.procs = 1});
}
BENCHMARK(BM_yield_alone_p1)->UseRealTime();

// wait_group add(1) + done(), uncontended: the cost of the counter update.
void BM_wait_group_add_done(benchmark::State& state) {
  goro::run(
      [&] {
        goro::wait_group wg;
        for (auto _ : state) {
          wg.add(1);
          wg.done();
        }
        wg.wait();
      },
      goro::config{.procs = 1});
}
BENCHMARK(BM_wait_group_add_done)->UseRealTime();

// wait_group add(1) + done() + wait() on a zero counter (no parking).
void BM_wait_group_add_done_wait(benchmark::State& state) {
  goro::run(
      [&] {
        goro::wait_group wg;
        for (auto _ : state) {
          wg.add(1);
          wg.done();
          wg.wait();
        }
      },
      goro::config{.procs = 1});
}
BENCHMARK(BM_wait_group_add_done_wait)->UseRealTime();

// done() from two goroutines on two processors against one counter: the
// contended atomic path. Items = done() calls.
void BM_wait_group_done_contended(benchmark::State& state) {
  goro::run(
      [&] {
        constexpr std::int64_t kPerWorker = 10000;
        goro::wait_group wg;
        goro::wait_group finished;
        for (auto _ : state) {
          wg.add(2 * kPerWorker);
          finished.add(2);
          for (int w = 0; w < 2; ++w) {
            goro::go([&] {
              for (std::int64_t i = 0; i < kPerWorker; ++i) wg.done();
              finished.done();
            });
          }
          wg.wait();
          finished.wait();
        }
        state.SetItemsProcessed(state.iterations() * 2 * kPerWorker);
      },
      goro::config{.procs = 2});
}
BENCHMARK(BM_wait_group_done_contended)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
