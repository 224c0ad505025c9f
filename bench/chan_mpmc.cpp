// chan_mpmc (WORKLOADS.md #4): 4 producers each send N/4 distinct integers
// into one channel of capacity 128; 4 consumers receive until it is closed,
// then add their sum and count atomically. The main goroutine waits for the
// producers, closes the channel and waits for the consumers. Reports
// elapsed / N in ns/msg.
#include <atomic>

#include <goro/goro.hpp>

#include "common.hpp"

int main(int argc, char** argv) {
  constexpr int P = 4, C = 4;
  long long n = bench::arg_n(argc, argv, 10000000);
  n -= n % P;
  const long long per = n / P;
  return goro::run([n, per]() -> int {
    auto ch = goro::make_chan<long long>(128);
    std::atomic<long long> total{0}, count{0};
    goro::wait_group pwg, cwg;
    pwg.add(P);
    cwg.add(C);
    auto t0 = bench::clock_type::now();
    for (int p = 0; p < P; ++p) {
      goro::go(
          [ch, per, &pwg](long long base) {
            for (long long i = base; i < base + per; ++i) ch.send(i);
            pwg.done();
          },
          p * per);
    }
    for (int c = 0; c < C; ++c) {
      goro::go([ch, &total, &count, &cwg] {
        long long s = 0, k = 0;
        for (long long v : ch) {
          s += v;
          ++k;
        }
        total.fetch_add(s);
        count.fetch_add(k);
        cwg.done();
      });
    }
    pwg.wait();
    ch.close();
    cwg.wait();
    double ns = bench::ns_since(t0);
    if (total.load() != n * (n - 1) / 2 || count.load() != n)
      return bench::fail("chan_mpmc", "sum != N(N-1)/2 or count != N");
    std::printf("# n %lld procs %d\n", n, goro::gomaxprocs());
    std::printf("chan_mpmc %.1f ns/msg\n", ns / static_cast<double>(n));
    return 0;
  });
}
