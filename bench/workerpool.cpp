// workerpool (WORKLOADS.md #11): a feeder goroutine sends job ids 0..N-1
// into jobs (capacity 100) and closes it; 8 workers send hash(job) into
// results (capacity 100); the main goroutine receives N results and sums
// them (wrapping uint64). Reports elapsed / N in ns/job and the checksum.
//
// The check: the checksum equals the sum of hash(0..N-1) computed serially
// after the timed region (8962071698016937435 for N = 2,000,000).
#include <cstdint>

#include <goro/goro.hpp>

#include "common.hpp"

namespace {

// 50 rounds of xorshift64 (13, 7, 17) seeded with j + the golden ratio.
std::uint64_t hash(std::uint64_t j) {
  std::uint64_t x = j + 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 50; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  constexpr int W = 8;
  const long long n = bench::arg_n(argc, argv, 2000000);
  return goro::run([n]() -> int {
    auto jobs = goro::make_chan<std::uint64_t>(100);
    auto results = goro::make_chan<std::uint64_t>(100);
    goro::wait_group wg;
    wg.add(W);
    auto t0 = bench::clock_type::now();
    goro::go([jobs, n] {
      for (long long i = 0; i < n; ++i) jobs.send(static_cast<std::uint64_t>(i));
      jobs.close();
    });
    for (int w = 0; w < W; ++w) {
      goro::go([jobs, results, &wg] {
        for (std::uint64_t j : jobs) results.send(hash(j));
        wg.done();
      });
    }
    std::uint64_t sum = 0;
    for (long long i = 0; i < n; ++i) sum += *results.recv();
    double ns = bench::ns_since(t0);
    wg.wait();
    std::uint64_t want = 0;
    for (long long i = 0; i < n; ++i) want += hash(static_cast<std::uint64_t>(i));
    if (sum != want) return bench::fail("workerpool", "checksum != sum of hash(0..N-1)");
    std::printf("# n %lld checksum %llu procs %d\n", n, static_cast<unsigned long long>(sum), goro::gomaxprocs());
    std::printf("workerpool %.1f ns/job\n", ns / static_cast<double>(n));
    return 0;
  });
}
