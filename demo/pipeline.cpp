// pipeline — gen -> square -> print. Seed 002, "Channel Patterns", Pipeline:
//
//   func gen(nums ...int) <-chan int {
//       out := make(chan int)
//       go func() {
//           for _, n := range nums {
//               out <- n
//           }
//           close(out)
//       }()
//       return out
//   }
//
//   func square(in <-chan int) <-chan int {
//       out := make(chan int)
//       go func() {
//           for n := range in {
//               out <- n * n
//           }
//           close(out)
//       }()
//       return out
//   }
//
//   func main() {
//       // Pipeline: gen -> square -> print
//       for n := range square(gen(1, 2, 3, 4)) {
//           fmt.Println(n)
//       }
//   }
#include <goro/goro.hpp>

#include <cstdio>
#include <vector>

#include "demo.hpp"

namespace {

template <class... Nums>
goro::recv_chan<int> gen(Nums... nums) {
  auto out = goro::make_chan<int>();
  goro::go([out, nums...] {
    for (int n : {nums...}) {
      out.send(n);
    }
    out.close();
  });
  return out;
}

goro::recv_chan<int> square(goro::recv_chan<int> in) {
  auto out = goro::make_chan<int>();
  goro::go([in, out] {
    for (int n : in) {
      out.send(n * n);
    }
    out.close();
  });
  return out;
}

}  // namespace

bool demo::pipeline_main() {
  std::vector<int> got;
  // Pipeline: gen -> square -> print
  for (int n : square(gen(1, 2, 3, 4))) {
    std::printf("%d\n", n);
    got.push_back(n);
  }

  // A longer one, stages chained: gen -> square -> square.
  long long sum = 0;
  for (int n : square(square(gen(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)))) sum += n;
  std::printf("sum of the 4th powers of 1..10: %lld\n", sum);

  bool ok = check(got == std::vector<int>{1, 4, 9, 16}, "the pipeline printed 1 4 9 16, in order");
  ok &= check(sum == 25333, "gen -> square -> square gives 1^4 + ... + 10^4 = 25333");
  return ok;
}
