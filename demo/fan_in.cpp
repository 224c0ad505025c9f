// fan_in — merge(channels...). Seed 002, "Channel Patterns", Fan-in:
//
//   func merge(channels ...<-chan int) <-chan int {
//       out := make(chan int)
//       var wg sync.WaitGroup
//       for _, ch := range channels {
//           wg.Add(1)
//           go func(c <-chan int) {
//               defer wg.Done()
//               for v := range c {
//                   out <- v
//               }
//           }(ch)
//       }
//       go func() {
//           wg.Wait()
//           close(out)
//       }()
//       return out
//   }
//
// In Go, wg escapes to the heap because the goroutines use it after merge
// returns; in C++ it has to be put there explicitly (a shared_ptr). The seed
// leaves the inputs open: here three producers send 1..10, 11..20, 21..30.
#include <goro/goro.hpp>

#include <cstdio>
#include <initializer_list>
#include <memory>
#include <vector>

#include "demo.hpp"

namespace {

goro::recv_chan<int> merge(std::initializer_list<goro::recv_chan<int>> channels) {
  auto out = goro::make_chan<int>();
  auto wg = std::make_shared<goro::wait_group>();
  for (const goro::recv_chan<int>& ch : channels) {
    wg->add(1);
    goro::go(
        [out, wg](goro::recv_chan<int> c) {
          demo::defer done([&] { wg->done(); });
          for (int v : c) {
            out.send(v);
          }
        },
        ch);
  }
  goro::go([out, wg] {
    wg->wait();
    out.close();
  });
  return out;
}

// A producer: sends from..to, then closes its channel.
goro::recv_chan<int> produce(int from, int to) {
  auto c = goro::make_chan<int>();
  goro::go([c, from, to] {
    for (int v = from; v <= to; v++) c.send(v);
    c.close();
  });
  return c;
}

}  // namespace

bool demo::fan_in_main() {
  std::vector<int> got;
  for (int v : merge({produce(1, 10), produce(11, 20), produce(21, 30)})) {
    std::printf("%d ", v);
    got.push_back(v);
  }
  std::printf("\n");

  // Each producer's values arrive in its own order; the three interleave.
  std::vector<bool> seen(31);
  int last[3] = {0, 10, 20};
  bool in_order = true;
  long sum = 0;
  for (int v : got) {
    seen[v] = true;
    sum += v;
    int& l = last[(v - 1) / 10];
    in_order &= v == l + 1;
    l = v;
  }
  bool ok = check(got.size() == 30 && sum == 465, "the merged channel delivered all 30 values (sum 465), then closed");
  ok &= check(in_order, "each producer's values kept their order");
  return ok;
}
