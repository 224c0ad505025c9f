// A program that uses goro the way a downstream project would; CI builds it
// against an installed goro (find_package), against a source tree
// (add_subdirectory) and for aarch64 (run under qemu). Exits 0 on success.
#include <goro/goro.hpp>

#include <atomic>
#include <cstdio>

int main() {
  std::atomic<int> ran{0};
  int rc = goro::run([&] {
    goro::wait_group wg;
    wg.add(2);
    for (int i = 0; i < 2; ++i) {
      goro::go([&] {
        ran.fetch_add(1);
        wg.done();
      });
    }
    wg.wait();
    return goro::this_goroutine::id() == 1 ? 0 : 1;
  });
  std::printf("consumer: %d goroutines ran, run returned %d\n", ran.load(), rc);
  return rc == 0 && ran.load() == 2 ? 0 : 1;
}
