// parked (WORKLOADS.md #8): N goroutines each signal "started" and then
// block receiving from one unbuffered channel nobody sends on. After all
// have started and a 100 ms settle, VmRSS is read again; the result is
// (rss_after - rss_before) / N bytes/goroutine. Then the channel is closed
// and the time to wake all N and see them exit is measured.
#include <chrono>

#include <goro/goro.hpp>

#include "common.hpp"

int main(int argc, char** argv) {
  const long long n = bench::arg_n(argc, argv, 1000000);
  return goro::run([n]() -> int {
    auto ch = goro::make_chan<int>();
    goro::wait_group started, exited;
    started.add(n);
    exited.add(n);
    const long long before = bench::vm_rss_bytes();
    auto t0 = bench::clock_type::now();
    for (long long i = 0; i < n; ++i) {
      goro::go([ch, &started, &exited] {
        started.done();
        ch.recv();  // nullopt once the channel is closed
        exited.done();
      });
    }
    started.wait();
    double spawn_ns = bench::ns_since(t0);
    goro::sleep(std::chrono::milliseconds(100));  // lets the last goroutines park
    const long long after = bench::vm_rss_bytes();
    auto t1 = bench::clock_type::now();
    ch.close();
    exited.wait();
    double wake_ns = bench::ns_since(t1);
    if (before < 0 || after < 0) return bench::fail("parked", "cannot read VmRSS from /proc/self/status");
    std::printf("# n %lld rss_before %lld rss_after %lld\n", n, before, after);
    std::printf("# procs %d\n", goro::gomaxprocs());
    std::printf("# spawn %.1f ms\n", spawn_ns / 1e6);
    std::printf("# wake_all %.1f ms\n", wake_ns / 1e6);
    std::printf("parked %.0f bytes/goroutine\n", static_cast<double>(after - before) / static_cast<double>(n));
    return 0;
  });
}
