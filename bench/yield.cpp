// yield (WORKLOADS.md #10), P=1: two goroutines each call goro::yield() N
// times; the main goroutine waits on a wait_group. Reports elapsed / (2N) in
// ns/switch.
#include <goro/goro.hpp>

#include "common.hpp"

int main(int argc, char** argv) {
  const long long n = bench::arg_n(argc, argv, 5000000);
  return goro::run(
      [n]() -> int {
        goro::wait_group wg;
        long long yields[2] = {0, 0};  // the check: each goroutine yielded N times
        wg.add(2);
        auto t0 = bench::clock_type::now();
        for (int g = 0; g < 2; ++g) {
          goro::go([&wg, &yields, n, g] {
            long long i = 0;
            for (; i < n; ++i) goro::yield();
            yields[g] = i;
            wg.done();
          });
        }
        wg.wait();
        double ns = bench::ns_since(t0);
        if (yields[0] != n || yields[1] != n) return bench::fail("yield", "yield count differs from N");
        std::printf("# n %lld procs %d\n", n, goro::gomaxprocs());
        std::printf("yield %.1f ns/switch\n", ns / (2.0 * static_cast<double>(n)));
        return 0;
      },
      goro::config{.procs = 1});
}
