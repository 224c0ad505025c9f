// worker_pool — 3 workers, 5 jobs. Seed 004, "Pattern: The Worker Pool":
//
//   // A job to be processed
//   func worker(id int, jobs <-chan int, results chan<- int) {
//       for j := range jobs {
//           fmt.Println("worker", id, "started job", j)
//           time.Sleep(time.Second) // Simulate expensive task
//           fmt.Println("worker", id, "finished job", j)
//           results <- j * 2
//       }
//   }
//
//   func main() {
//       const numJobs = 5
//       jobs := make(chan int, numJobs)
//       results := make(chan int, numJobs)
//       // 1. Start 3 workers
//       for w := 1; w <= 3; w++ {
//           go worker(w, jobs, results)
//       }
//       // 2. Send 5 jobs to the jobs channel
//       for j := 1; j <= numJobs; j++ {
//           jobs <- j
//       }
//       close(jobs) // Close channel to signal no more jobs
//       // 3. Collect results
//       for a := 1; a <= numJobs; a++ {
//           <-results
//       }
//   }
//
// A job takes 20ms instead of 1s. main also adds up the results it collects.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

// A job to be processed
void worker(int id, goro::recv_chan<int> jobs, goro::send_chan<int> results) {
  for (int j : jobs) {
    std::printf("worker %d started job %d\n", id, j);
    goro::sleep(20ms);  // Simulate expensive task (seed: 1s)
    std::printf("worker %d finished job %d\n", id, j);
    results.send(j * 2);
  }
}

}  // namespace

bool demo::worker_pool_main() {
  const auto start = std::chrono::steady_clock::now();

  const int numJobs = 5;
  auto jobs = goro::make_chan<int>(numJobs);
  auto results = goro::make_chan<int>(numJobs);
  // 1. Start 3 workers
  for (int w = 1; w <= 3; w++) {
    goro::go(worker, w, jobs, results);
  }
  // 2. Send 5 jobs to the jobs channel
  for (int j = 1; j <= numJobs; j++) {
    jobs.send(j);
  }
  jobs.close();  // Close channel to signal no more jobs
  // 3. Collect results
  int sum = 0;
  for (int a = 1; a <= numJobs; a++) {
    sum += *results.recv();
  }

  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  bool ok = check(sum == 30, "the 5 results add up to 2+4+6+8+10 = 30 (got %d)", sum);
  ok &= check(elapsed < 100ms, "3 workers shared the 5 jobs: %lld ms, where one worker takes 100 ms",
              static_cast<long long>(elapsed.count()));
  return ok;
}
