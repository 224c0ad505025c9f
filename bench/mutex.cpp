// mutex (WORKLOADS.md #6): 4 goroutines each do N/4 times
// { lock; counter++; unlock } on one goro::mutex and a plain counter; the
// main goroutine waits on a wait_group. Reports elapsed / N in ns/lock.
#include <goro/goro.hpp>

#include "common.hpp"

int main(int argc, char** argv) {
  constexpr int G = 4;
  long long n = bench::arg_n(argc, argv, 4000000);
  n -= n % G;
  const long long per = n / G;
  return goro::run([n, per]() -> int {
    goro::mutex mu;
    long long counter = 0;  // plain: the mutex is what keeps it exact
    goro::wait_group wg;
    wg.add(G);
    auto t0 = bench::clock_type::now();
    for (int g = 0; g < G; ++g) {
      goro::go([&mu, &counter, &wg, per] {
        for (long long i = 0; i < per; ++i) {
          mu.lock();
          ++counter;
          mu.unlock();
        }
        wg.done();
      });
    }
    wg.wait();
    double ns = bench::ns_since(t0);
    if (counter != n) return bench::fail("mutex", "counter != N");
    std::printf("# n %lld procs %d\n", n, goro::gomaxprocs());
    std::printf("mutex %.1f ns/lock\n", ns / static_cast<double>(n));
    return 0;
  });
}
