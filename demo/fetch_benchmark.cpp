// fetch_benchmark — sequential vs concurrent vs worker pool. Seed 002,
// "Benchmarking Reality": fetching 100 URLs.
//
//   func BenchmarkSequential(b *testing.B) {
//       for i := 0; i < b.N; i++ {
//           for _, url := range urls {
//               fetch(url)
//           }
//       }
//   }
//
//   func BenchmarkConcurrent(b *testing.B) {
//       for i := 0; i < b.N; i++ {
//           var wg sync.WaitGroup
//           for _, url := range urls {
//               wg.Add(1)
//               go func(u string) {
//                   defer wg.Done()
//                   fetch(u)
//               }(url)
//           }
//           wg.Wait()
//       }
//   }
//
//   func BenchmarkWorkerPool(b *testing.B) {
//       for i := 0; i < b.N; i++ {
//           jobs := make(chan string, len(urls))
//           var wg sync.WaitGroup
//           // 10 workers
//           for w := 0; w < 10; w++ {
//               wg.Add(1)
//               go func() {
//                   defer wg.Done()
//                   for url := range jobs {
//                       fetch(url)
//                   }
//               }()
//           }
//           for _, url := range urls {
//               jobs <- url
//           }
//           close(jobs)
//           wg.Wait()
//       }
//   }
//
// goro has no HTTP client yet: fetch simulates a request with 1ms of
// latency (goro::sleep) instead of the seed's ~100ms. Each benchmark runs
// once (b.N = 1). The seed's result: concurrent ~80x faster than sequential
// for I/O-bound work, the worker pool close to it (here at most 10 requests
// are in flight, so it takes about 10 rounds of latency).
#include <goro/goro.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

std::atomic<int> fetched;

void fetch(const std::string& /*url*/) {
  goro::sleep(1ms);  // the request's latency (seed: ~100ms)
  fetched++;
}

void BenchmarkSequential(const std::vector<std::string>& urls) {
  for (const std::string& url : urls) {
    fetch(url);
  }
}

void BenchmarkConcurrent(const std::vector<std::string>& urls) {
  goro::wait_group wg;
  for (const std::string& url : urls) {
    wg.add(1);
    goro::go(
        [&wg](const std::string& u) {
          demo::defer done([&] { wg.done(); });
          fetch(u);
        },
        url);
  }
  wg.wait();
}

void BenchmarkWorkerPool(const std::vector<std::string>& urls) {
  auto jobs = goro::make_chan<std::string>(urls.size());
  goro::wait_group wg;
  // 10 workers
  for (int w = 0; w < 10; w++) {
    wg.add(1);
    goro::go([&wg, jobs] {
      demo::defer done([&] { wg.done(); });
      for (const std::string& url : jobs) {
        fetch(url);
      }
    });
  }
  for (const std::string& url : urls) {
    jobs.send(url);
  }
  jobs.close();
  wg.wait();
}

// Runs one benchmark; returns its time in ms, or -1 if not every URL was fetched.
double bench(const char* name, void (*f)(const std::vector<std::string>&), const std::vector<std::string>& urls) {
  fetched = 0;
  const auto t0 = std::chrono::steady_clock::now();
  f(urls);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%-20s %3d URLs %8.1f ms\n", name, fetched.load(), ms);
  return fetched == static_cast<int>(urls.size()) ? ms : -1;
}

}  // namespace

bool demo::fetch_benchmark_main() {
  std::vector<std::string> urls;
  for (int i = 0; i < 100; i++) urls.push_back("https://example.com/page/" + std::to_string(i));

  const double seq = bench("BenchmarkSequential", BenchmarkSequential, urls);
  const double conc = bench("BenchmarkConcurrent", BenchmarkConcurrent, urls);
  const double pool = bench("BenchmarkWorkerPool", BenchmarkWorkerPool, urls);
  if (conc > 0) std::printf("concurrent is %.0fx faster than sequential\n", seq / conc);

  bool ok = check(seq > 0 && conc > 0 && pool > 0, "each benchmark fetched all 100 URLs");
  ok &= check(seq >= 100, "sequential took at least 100 x 1ms");
  ok &= check(conc < seq / 4 && pool < seq / 2, "the concurrent and worker-pool versions were much faster");
  return ok;
}
