// spawn (WORKLOADS.md #1): N goroutines, each only calls wg.done(); the main
// goroutine waits. Reports elapsed / N in ns/goroutine.
//
// As in the peers, the check is wg.wait() returning: it returns only after
// all N done() calls (one too many would panic with a negative counter).
// No per-goroutine counter is added, so that the goroutines do exactly what
// Go's do.
#include <goro/goro.hpp>

#include "common.hpp"

int main(int argc, char** argv) {
  const long long n = bench::arg_n(argc, argv, 1000000);
  return goro::run([n]() -> int {
    goro::wait_group wg;
    wg.add(n);
    auto t0 = bench::clock_type::now();
    for (long long i = 0; i < n; ++i) {
      goro::go([&wg] { wg.done(); });
    }
    wg.wait();
    double ns = bench::ns_since(t0);
    std::printf("# n %lld procs %d\n", n, goro::gomaxprocs());
    std::printf("spawn %.1f ns/goroutine\n", ns / static_cast<double>(n));
    return 0;
  });
}
