// chan_spsc (WORKLOADS.md #3): one producer goroutine sends 0..N-1 into a
// buffered channel of capacity 128; the main goroutine receives exactly N
// values and sums them. Reports elapsed / N in ns/msg.
#include <goro/goro.hpp>

#include "common.hpp"

int main(int argc, char** argv) {
  const long long n = bench::arg_n(argc, argv, 10000000);
  return goro::run([n]() -> int {
    auto ch = goro::make_chan<long long>(128);
    long long sum = 0;
    auto t0 = bench::clock_type::now();
    goro::go([ch, n] {
      for (long long i = 0; i < n; ++i) ch.send(i);
    });
    for (long long i = 0; i < n; ++i) sum += *ch.recv();
    double ns = bench::ns_since(t0);
    if (sum != n * (n - 1) / 2) return bench::fail("chan_spsc", "sum != N(N-1)/2");
    std::printf("# n %lld procs %d\n", n, goro::gomaxprocs());
    std::printf("chan_spsc %.1f ns/msg\n", ns / static_cast<double>(n));
    return 0;
  });
}
