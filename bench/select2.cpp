// select2 (WORKLOADS.md #5): producers A and B each send N/2 integers on
// their own unbuffered channel; the main goroutine loops a two-case select
// until it has received N values. Reports elapsed / N in ns/msg and, as a
// side figure, how many values came from a.
#include <goro/goro.hpp>

#include "common.hpp"

int main(int argc, char** argv) {
  long long n = bench::arg_n(argc, argv, 2000000);
  n -= n % 2;
  const long long half = n / 2;
  return goro::run([n, half]() -> int {
    auto a = goro::make_chan<long long>();
    auto b = goro::make_chan<long long>();
    long long sum = 0, got = 0, from_a = 0;
    auto t0 = bench::clock_type::now();
    goro::go([a, half] {
      for (long long i = 0; i < half; ++i) a.send(i);
    });
    goro::go([b, half, n] {
      for (long long i = half; i < n; ++i) b.send(i);
    });
    while (got < n) {
      goro::select(goro::case_recv(a,
                                   [&](std::optional<long long> v) {
                                     sum += *v;
                                     ++from_a;
                                   }),
                   goro::case_recv(b, [&](std::optional<long long> v) { sum += *v; }));
      ++got;
    }
    double ns = bench::ns_since(t0);
    if (sum != n * (n - 1) / 2) return bench::fail("select2", "sum != N(N-1)/2");
    std::printf("# n %lld from_a %lld procs %d\n", n, from_a, goro::gomaxprocs());
    std::printf("select2 %.1f ns/msg\n", ns / static_cast<double>(n));
    return 0;
  });
}
