// skynet (WORKLOADS.md #7): a 10-ary tree of goroutines with L leaves
// (default 10^6: 1,111,111 goroutines). A leaf sends its ordinal to its
// parent; an inner node spawns 10 children on a fresh unbuffered channel,
// sums their 10 values and sends the sum up. Reports the elapsed ms.
#include <goro/goro.hpp>

#include "common.hpp"

namespace {

void skynet(goro::chan<long long> c, long long num, long long size, long long div) {
  if (size == 1) {
    c.send(num);
    return;
  }
  auto rc = goro::make_chan<long long>();
  for (long long i = 0; i < div; ++i) goro::go(skynet, rc, num + i * (size / div), size / div, div);
  long long sum = 0;
  for (long long i = 0; i < div; ++i) sum += *rc.recv();
  c.send(sum);
}

}  // namespace

int main(int argc, char** argv) {
  const long long leaves = bench::arg_n(argc, argv, 1000000);  // a power of 10
  return goro::run([leaves]() -> int {
    auto c = goro::make_chan<long long>();
    auto t0 = bench::clock_type::now();
    goro::go(skynet, c, 0LL, leaves, 10LL);
    long long sum = *c.recv();
    double ns = bench::ns_since(t0);
    if (sum != leaves * (leaves - 1) / 2) return bench::fail("skynet", "sum != L(L-1)/2");
    std::printf("# leaves %lld sum %lld\n", leaves, sum);
    std::printf("# procs %d\n", goro::gomaxprocs());
    std::printf("skynet %.1f ms\n", ns / 1e6);
    return 0;
  });
}
