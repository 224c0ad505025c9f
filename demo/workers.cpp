// workers — worker(id, &wg). Seed 004, "Synchronization with WaitGroups":
//
//   func worker(id int, wg *sync.WaitGroup) {
//       defer wg.Done() // Decrement the counter when the function exits
//       fmt.Printf("Worker %d starting\n", id)
//       // Simulate work
//       fmt.Printf("Worker %d done\n", id)
//   }
//
//   func main() {
//       var wg sync.WaitGroup
//       for i := 1; i <= 3; i++ {
//           wg.Add(1) // Increment the counter
//           go worker(i, &wg)
//       }
//       wg.Wait() // Block until the counter goes back to 0
//       fmt.Println("All workers done")
//   }
#include <goro/goro.hpp>

#include <atomic>
#include <cstdio>

#include "demo.hpp"

namespace {

std::atomic<int> finished;  // for the self-check

void worker(int id, goro::wait_group* wg) {
  demo::defer done([wg] { wg->done(); });  // Decrement the counter when the function exits
  std::printf("Worker %d starting\n", id);
  // Simulate work
  std::printf("Worker %d done\n", id);
  finished++;
}

}  // namespace

bool demo::workers_main() {
  finished = 0;
  goro::wait_group wg;
  for (int i = 1; i <= 3; i++) {
    wg.add(1);  // Increment the counter
    goro::go(worker, i, &wg);
  }
  wg.wait();  // Block until the counter goes back to 0
  const int n = finished;
  std::printf("All workers done\n");

  return check(n == 3, "all 3 workers were done when Wait returned");
}
