// pingpong (WORKLOADS.md #2): the main goroutine and one echo goroutine
// bounce an integer over two unbuffered channels N round trips
// (ping <- i; sum += <-pong). Default processors. Reports elapsed / N in
// ns/roundtrip. pingpong_p1.cpp is the same program with one processor.
#include <goro/goro.hpp>

#include "common.hpp"

int main(int argc, char** argv) {
  const long long n = bench::arg_n(argc, argv, 1000000);
  return goro::run([n]() -> int {
    auto ping = goro::make_chan<long long>();
    auto pong = goro::make_chan<long long>();
    goro::go([ping, pong] {
      for (long long v : ping) pong.send(v + 1);
    });
    long long sum = 0;
    auto t0 = bench::clock_type::now();
    for (long long i = 0; i < n; ++i) {
      ping.send(i);
      sum += *pong.recv();
    }
    double ns = bench::ns_since(t0);
    ping.close();
    if (sum != n * (n - 1) / 2 + n) return bench::fail("pingpong", "sum != N(N-1)/2 + N");
    std::printf("# n %lld procs %d\n", n, goro::gomaxprocs());
    std::printf("pingpong %.1f ns/roundtrip\n", ns / static_cast<double>(n));
    return 0;
  });
}
