// fan_out — 10 workers read one jobs channel. Seed 002, "Channel Patterns",
// Fan-out:
//
//   func worker(id int, jobs <-chan Job, results chan<- Result) {
//       for job := range jobs {
//           results <- process(job)
//       }
//   }
//
//   func main() {
//       jobs := make(chan Job, 100)
//       results := make(chan Result, 100)
//       // Start workers
//       for i := 0; i < 10; i++ {
//           go worker(i, jobs, results)
//       }
//       // Send jobs
//       for _, job := range allJobs {
//           jobs <- job
//       }
//       close(jobs)
//       // Collect results
//       for range allJobs {
//           <-results
//       }
//   }
//
// The seed leaves Job, Result, process and allJobs open: here a job is a
// number, process squares it after a short pause (a simulated I/O call, a
// scheduling point) and a result says which worker did it. main checks the
// results and prints how the jobs spread over the workers.
#include <goro/goro.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <vector>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

struct Job {
  int id;
  long long n;
};

struct Result {
  int job_id;
  long long square;
  int worker;
};

Result process(const Job& job, int worker) {
  goro::sleep(100us);  // e.g. a query to another service
  return {job.id, job.n * job.n, worker};
}

void worker(int id, goro::recv_chan<Job> jobs, goro::send_chan<Result> results) {
  for (Job& job : jobs) {
    results.send(process(job, id));
  }
}

}  // namespace

bool demo::fan_out_main() {
  std::vector<Job> allJobs;
  for (int i = 0; i < 100; i++) allJobs.push_back({i, 1000 + i});

  auto jobs = goro::make_chan<Job>(100);
  auto results = goro::make_chan<Result>(100);
  // Start workers
  for (int i = 0; i < 10; i++) {
    goro::go(worker, i, jobs, results);
  }
  // Send jobs
  for (const Job& job : allJobs) {
    jobs.send(job);
  }
  jobs.close();
  // Collect results
  bool all_right = true;
  std::array<int, 100> seen{};
  std::array<int, 10> per_worker{};
  for (std::size_t i = 0; i < allJobs.size(); i++) {
    Result r = *results.recv();
    seen[r.job_id]++;
    per_worker[r.worker]++;
    all_right &= r.square == allJobs[r.job_id].n * allJobs[r.job_id].n;
  }

  std::printf("jobs per worker:");
  for (int n : per_worker) std::printf(" %d", n);
  std::printf("\n");
  bool ok = check(all_right, "100 results, each the square of its job's number");
  std::array<int, 100> once;
  once.fill(1);
  ok &= check(seen == once, "every job was done exactly once");
  return ok;
}
