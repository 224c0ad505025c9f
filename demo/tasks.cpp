// tasks — waiting for task completion. Seed 001, "Practical Example: Waiting
// for Task Completion":
//
//   func main() {
//       var wg sync.WaitGroup // Creates a waitgroup
//       tasks := []string{"Task 1", "Task 2", "Task 3"}
//       wg.Add(len(tasks)) // Initialize with number of tasks
//       for _, task := range tasks {
//           go func(t string) {
//               defer wg.Done() // Decrement counter when done
//               fmt.Println("Starting", t)
//               time.Sleep(time.Second) // Simulate some work
//               fmt.Println("Finished", t)
//           }(task)
//       }
//       wg.Wait() // Wait for all goroutines to finish
//       fmt.Println("All tasks completed!")
//   }
//
// Each task sleeps 30ms instead of 1s.
#include <goro/goro.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "demo.hpp"

using namespace std::chrono_literals;

bool demo::tasks_main() {
  std::atomic<int> finished{0};  // for the self-check
  const auto start = std::chrono::steady_clock::now();

  goro::wait_group wg;  // Creates a waitgroup
  std::vector<std::string> tasks = {"Task 1", "Task 2", "Task 3"};
  wg.add(static_cast<std::ptrdiff_t>(tasks.size()));  // Initialize with number of tasks
  for (const std::string& task : tasks) {
    goro::go(
        [&wg, &finished](std::string t) {
          defer done([&] { wg.done(); });  // Decrement counter when done
          std::printf("Starting %s\n", t.c_str());
          goro::sleep(30ms);  // Simulate some work (seed: 1s)
          std::printf("Finished %s\n", t.c_str());
          finished++;
        },
        task);
  }
  wg.wait();  // Wait for all goroutines to finish
  std::printf("All tasks completed!\n");

  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  bool ok = check(finished == 3, "all 3 tasks finished before Wait returned");
  ok &= check(elapsed < 90ms, "they ran concurrently: %lld ms in all, less than 3 x 30 ms",
              static_cast<long long>(elapsed.count()));
  return ok;
}
