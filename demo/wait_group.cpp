// wait_group — five workers and a WaitGroup. Seed 000, "Synchronization with
// sync.WaitGroup":
//
//   var wg sync.WaitGroup
//   for i := 0; i < 5; i++ {
//       wg.Add(1)
//       go func(id int) {
//           defer wg.Done()
//           fmt.Println("Worker", id)
//       }(i)
//   }
//   wg.Wait()
#include <goro/goro.hpp>

#include <array>
#include <cstdio>

#include "demo.hpp"

bool demo::wait_group_main() {
  std::array<int, 5> ran{};  // ran[id]: how often worker id ran (each writes its own element)

  goro::wait_group wg;
  for (int i = 0; i < 5; i++) {
    wg.add(1);
    goro::go(
        [&wg, &ran](int id) {
          defer done([&] { wg.done(); });
          std::printf("Worker %d\n", id);
          ran[id]++;
        },
        i);
  }
  wg.wait();

  // wg.Wait() returning orders every worker's writes before this read.
  return check(ran == std::array<int, 5>{1, 1, 1, 1, 1}, "each of the 5 workers ran once before Wait returned");
}
