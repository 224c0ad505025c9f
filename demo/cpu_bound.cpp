// cpu_bound — a worker pool sized to GOMAXPROCS. Seed 002, "Too Many
// Goroutines for CPU-Bound Work":
//
//   // Bad: 10,000 goroutines for CPU work on 8 cores
//   for i := 0; i < 10000; i++ {
//       go cpuIntensiveTask(data[i])
//   }
//
//   // Better: Worker pool sized to cores
//   numWorkers := runtime.GOMAXPROCS(0)
//   jobs := make(chan Data, len(data))
//   results := make(chan Result, len(data))
//   for i := 0; i < numWorkers; i++ {
//       go worker(jobs, results)
//   }
//   for _, d := range data {
//       jobs <- d
//   }
//   close(jobs)
//
// The seed's snippet stops there; this completes it: cpuIntensiveTask counts
// the primes below d by trial division, main collects the results and
// compares them with a serial computation.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <vector>

#include "demo.hpp"

namespace {

using Data = int;
struct Result {
  Data d;
  int primes;
};

int cpuIntensiveTask(Data d) {
  int primes = 0;
  for (int n = 2; n < d; n++) {
    bool prime = true;
    for (int k = 2; k * k <= n; k++)
      if (n % k == 0) {
        prime = false;
        break;
      }
    primes += prime;
  }
  return primes;
}

void worker(goro::recv_chan<Data> jobs, goro::send_chan<Result> results) {
  for (Data d : jobs) results.send(Result{d, cpuIntensiveTask(d)});
}

}  // namespace

bool demo::cpu_bound_main() {
  const int n = small_scale() ? 200 : 1000;
  std::vector<Data> data;
  for (int i = 0; i < n; i++) data.push_back(1000 + 2 * i);

  const auto start = std::chrono::steady_clock::now();
  // Better: Worker pool sized to cores
  const int numWorkers = goro::gomaxprocs(0);
  auto jobs = goro::make_chan<Data>(data.size());
  auto results = goro::make_chan<Result>(data.size());
  for (int i = 0; i < numWorkers; i++) {
    goro::go(worker, jobs, results);
  }
  for (Data d : data) {
    jobs.send(d);
  }
  jobs.close();
  std::vector<int> got(data.size(), -1);  // got[i]: the result for data[i]
  for (std::size_t i = 0; i < data.size(); i++) {
    Result r = *results.recv();
    got[(r.d - 1000) / 2] = r.primes;
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d workers (GOMAXPROCS) ran %d tasks in %.1f ms\n", numWorkers, n, ms);

  std::vector<int> serial;
  for (Data d : data) serial.push_back(cpuIntensiveTask(d));
  return check(got == serial, "all %d results match a serial computation", n);
}
