// skynet — 1,111,111 goroutines. The seeds claim that goroutines are cheap
// enough to "launch hundreds of thousands—even millions—of goroutines in a
// single program" (seed 000; seed 002: "You can realistically run millions
// of goroutines"). The skynet benchmark puts that to the test:
//
//   func skynet(c chan int, num, size, div int) {
//       if size == 1 {
//           c <- num
//           return
//       }
//       rc := make(chan int)
//       for i := 0; i < div; i++ {
//           subNum := num + i*(size/div)
//           go skynet(rc, subNum, size/div, div)
//       }
//       sum := 0
//       for i := 0; i < div; i++ {
//           sum += <-rc
//       }
//       c <- sum
//   }
//
//   func main() {
//       c := make(chan int)
//       start := time.Now()
//       go skynet(c, 0, 1000000, 10)
//       result := <-c
//       fmt.Printf("Result: %d in %d ms.\n", result, time.Since(start).Milliseconds())
//   }
//
// A 10-ary tree: 1,000,000 leaves, 1,111,111 goroutines in all, the sum of
// 0..999999 = 499999500000. With GORO_DEMO_SCALE=small (sanitizer builds)
// it has 10,000 leaves (11,111 goroutines): ThreadSanitizer allows at most
// 8128 threads and goroutines alive at once (Go's race detector has the same
// limit: "race: limit on 8128 simultaneously alive goroutines is exceeded").
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>

#include "demo.hpp"

namespace {

void skynet(goro::chan<long long> c, long long num, long long size, long long div) {
  if (size == 1) {
    c.send(num);
    return;
  }
  auto rc = goro::make_chan<long long>();
  for (long long i = 0; i < div; i++) {
    const long long subNum = num + i * (size / div);
    goro::go(skynet, rc, subNum, size / div, div);
  }
  long long sum = 0;
  for (long long i = 0; i < div; i++) {
    sum += *rc.recv();
  }
  c.send(sum);
}

}  // namespace

bool demo::skynet_main() {
  const long long leaves = small_scale() ? 10000 : 1000000;
  const long long goroutines =
      leaves + leaves / 10 + leaves / 100 + leaves / 1000 + leaves / 10000 + leaves / 100000 + leaves / 1000000;

  auto c = goro::make_chan<long long>();
  const auto start = std::chrono::steady_clock::now();
  goro::go(skynet, c, 0LL, leaves, 10LL);
  const long long result = *c.recv();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::printf("Result: %lld in %lld ms.\n", result, static_cast<long long>(ms.count()));
  std::printf("(%lld goroutines, GOMAXPROCS=%d)\n", goroutines, goro::gomaxprocs());

  return check(result == leaves * (leaves - 1) / 2, "the sum over %lld leaf goroutines is %lld", leaves,
               leaves * (leaves - 1) / 2);
}
