#include <goro/goro.hpp>
#include <cstdio>
#include <atomic>
int main() {
  std::atomic<long> sum{0};
  int r = goro::run([&] {
    goro::wait_group wg;
    const int n = 1000000;
    wg.add(n);
    for (int i = 0; i < n; ++i) goro::go([&wg, &sum](int x) { sum += x; wg.done(); }, i);
    wg.wait();
    std::printf("sum %ld goroutines %d id %ld\n", sum.load(), goro::num_goroutine(), (long)goro::this_goroutine::id());
    return 3;
  });
  std::printf("rc %d\n", r);
}
