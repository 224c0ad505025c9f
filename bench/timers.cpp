// timers (WORKLOADS.md #9): N goroutines each sleep 10 ms once, measure how
// late they woke (overshoot = measured sleep - 10 ms), add it to an atomic
// sum, raise an atomic maximum (CAS loop) and call wg.done(). Reports the
// wall time from the first spawn to wg.wait() returning, in ms (ideal: about
// 10 ms + spawn time), and the mean and maximum overshoot in us.
//
// The check: wg.wait() returning means all N goroutines ran; no overshoot
// may be negative (a sleep shorter than asked for is a wrong result).
#include <atomic>
#include <chrono>
#include <cstdint>

#include <goro/goro.hpp>

#include "common.hpp"

int main(int argc, char** argv) {
  const long long n = bench::arg_n(argc, argv, 100000);
  return goro::run([n]() -> int {
    constexpr auto sleep_dur = std::chrono::milliseconds(10);
    constexpr std::int64_t sleep_ns = std::chrono::nanoseconds(sleep_dur).count();
    goro::wait_group wg;
    std::atomic<std::int64_t> over_ns{0}, max_ns{0};
    std::atomic<bool> short_sleep{false};
    wg.add(n);
    auto start = bench::clock_type::now();
    for (long long i = 0; i < n; ++i) {
      goro::go([&] {
        auto t0 = bench::clock_type::now();
        goro::sleep(sleep_dur);
        std::int64_t o = std::chrono::nanoseconds(bench::clock_type::now() - t0).count() - sleep_ns;
        over_ns.fetch_add(o, std::memory_order_relaxed);
        std::int64_t m = max_ns.load(std::memory_order_relaxed);
        while (o > m && !max_ns.compare_exchange_weak(m, o, std::memory_order_relaxed)) {
        }
        if (o < 0) short_sleep.store(true, std::memory_order_relaxed);  // the check; not in Go's program
        wg.done();
      });
    }
    wg.wait();
    double el_ns = bench::ns_since(start);
    if (short_sleep.load()) return bench::fail("timers", "a goroutine slept less than 10 ms");
    std::printf("# n %lld procs %d\n", n, goro::gomaxprocs());
    std::printf("# overshoot_mean %.1f us\n", static_cast<double>(over_ns.load()) / static_cast<double>(n) / 1e3);
    std::printf("# overshoot_max %.1f us\n", static_cast<double>(max_ns.load()) / 1e3);
    std::printf("timers %.2f ms\n", el_ns / 1e6);
    return 0;
  });
}
