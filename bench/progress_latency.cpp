// progress_latency — how long a runnable goroutine waits while a processor
// is idle (DESIGN §6, "The progress guarantee"). Not a peer workload: Go
// has no equivalent program (its preemption hides the case).
//
// Each round, on gomaxprocs(2) with the second processor idle, a goroutine
// makes one goroutine runnable and then computes without a scheduling point
// until that goroutine has run; the time from readying to first
// instruction is recorded. Cases:
//   runnext  spawned into the computing goroutine's runnext slot
//   ring     spawned behind another one, into the local ring
// Rounds alternate 1 ms and 20 ms pauses, so that the idle Ms are sometimes
// still spinning and sometimes asleep (sysmon's interval then long).
// Prints `# <case> n=… p50=…us p99=…us max=…us` per case.
#include <goro/goro.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

using clk = std::chrono::steady_clock;

double measure(bool ring) {
  std::atomic<bool> ran{false};
  std::atomic<long> took{0};
  goro::wait_group wg;
  wg.add(1);
  goro::go([&] {
    auto t0 = clk::now();
    goro::go([&] {
      took.store((clk::now() - t0).count());
      ran.store(true);
    });
    if (ring) goro::go([] {});  // takes runnext: the measured one goes to the ring
    while (!ran.load()) {
    }
    wg.done();
  });
  wg.wait();
  return took.load() / 1000.0;
}

void report(const char* name, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto q = [&](double p) { return us[std::min(us.size() - 1, static_cast<std::size_t>(p * us.size()))]; };
  std::printf("# %s n=%zu p50=%.1fus p90=%.1fus p99=%.1fus max=%.1fus\n", name, us.size(), q(.5), q(.9), q(.99),
              us.back());
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 300;
  std::vector<double> next, ring;
  goro::run(
      [&] {
        for (int r = 0; r < rounds; ++r) {
          next.push_back(measure(false));
          goro::sleep(std::chrono::milliseconds(r % 3 == 0 ? 20 : 1));
          ring.push_back(measure(true));
          goro::sleep(std::chrono::milliseconds(r % 3 == 1 ? 20 : 1));
        }
      },
      goro::config{.procs = 2});
  report("runnext", next);
  report("ring", ring);
}
