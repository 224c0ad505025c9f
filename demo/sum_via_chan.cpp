// sum_via_chan — channel overhead for fine-grained work. Seed 002, "Channel
// Overhead for Fine-Grained Communication":
//
//   // Bad: Channel send per number to sum
//   func sumViaChan(nums []int) int {
//       ch := make(chan int)
//       go func() {
//           for _, n := range nums {
//               ch <- n
//           }
//           close(ch)
//       }()
//       sum := 0
//       for n := range ch {
//           sum += n
//       }
//       return sum
//   }
//
//   // Good: Just sum directly (or batch if parallelizing)
//   func sumDirect(nums []int) int {
//       sum := 0
//       for _, n := range nums {
//           sum += n
//       }
//       return sum
//   }
//
// Both give the same sum; the time per number shows what the seed's rule of
// thumb means (work under ~1us per channel operation is dominated by it).
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <numeric>
#include <span>
#include <vector>

#include "demo.hpp"

namespace {

// Bad: Channel send per number to sum
long long sumViaChan(std::span<const int> nums) {
  auto ch = goro::make_chan<int>();
  goro::go([ch, nums] {
    for (int n : nums) {
      ch.send(n);
    }
    ch.close();
  });
  long long sum = 0;
  for (int n : ch) {
    sum += n;
  }
  return sum;
}

// Good: Just sum directly (or batch if parallelizing)
long long sumDirect(std::span<const int> nums) {
  long long sum = 0;
  for (int n : nums) {
    sum += n;
  }
  return sum;
}

template <class F>
double ns_per_number(F f, std::size_t n) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
         static_cast<double>(n);
}

}  // namespace

bool demo::sum_via_chan_main() {
  std::vector<int> nums(small_scale() ? 10000 : 200000);
  std::iota(nums.begin(), nums.end(), 1);

  long long via_chan = 0, direct = 0;
  const double chan_ns = ns_per_number([&] { via_chan = sumViaChan(nums); }, nums.size());
  const double direct_ns = ns_per_number([&] { direct = sumDirect(nums); }, nums.size());
  std::printf("sumViaChan: %lld  (%.1f ns per number)\n", via_chan, chan_ns);
  std::printf("sumDirect:  %lld  (%.2f ns per number)\n", direct, direct_ns);

  const long long n = static_cast<long long>(nums.size());
  return check(via_chan == direct && direct == n * (n + 1) / 2, "both sums are n(n+1)/2 = %lld", n * (n + 1) / 2);
}
