// leak_detection — TestNoLeaks catches leak(). Seed 002, "Goroutine Leaks":
//
//   func leak() {
//       ch := make(chan int)
//       go func() {
//           val := <-ch // blocks forever - nothing sends to ch
//           fmt.Println(val)
//       }()
//       // Function returns, but goroutine lives on, waiting forever
//   }
//
//   // Detection: Monitor runtime.NumGoroutine() over time. In tests, check
//   // goroutine count before and after.
//   func TestNoLeaks(t *testing.T) {
//       before := runtime.NumGoroutine()
//       // ... run test
//       // Give goroutines time to exit
//       time.Sleep(100 * time.Millisecond)
//       after := runtime.NumGoroutine()
//       if after > before {
//           t.Errorf("Goroutine leak: %d before, %d after", before, after)
//       }
//   }
//
// The check runs twice: around leak(), where it must report the leak, and
// around noLeak(), the fixed version, whose goroutine also selects on a
// context that the caller cancels when it is done. Instead of one sleep of
// 100ms, the check polls goro::num_goroutine() every millisecond for up to
// 100ms, so it is quick when the goroutines do exit. The leaked goroutine is
// discarded when main returns, as in Go when a program exits. Then the same
// with goro::find_leaks, which names the goroutine and its creation line.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

void leak() {
  auto ch = goro::make_chan<int>();
  goro::go([ch] {
    std::optional<int> val = ch.recv();  // blocks forever - nothing sends to ch
    std::printf("%d\n", *val);
  });
  // Function returns, but goroutine lives on, waiting forever
}

void noLeak(goro::context ctx) {
  auto ch = goro::make_chan<int>();
  goro::go([ch, ctx] {
    goro::select(goro::case_recv(ch, [](std::optional<int> val) { std::printf("%d\n", *val); }),
                 goro::case_recv(ctx.done()));  // returns when the caller is done
  });
}

// TestNoLeaks around f; returns whether it found a leak.
template <class F>
bool leaks(const char* name, F f) {
  const int before = goro::num_goroutine();
  // ... run test
  f();
  // Give goroutines time to exit
  const auto deadline = std::chrono::steady_clock::now() + 100ms;
  int after = goro::num_goroutine();
  while (after > before && std::chrono::steady_clock::now() < deadline) {
    goro::sleep(1ms);
    after = goro::num_goroutine();
  }
  if (after > before) {
    std::printf("%s: Goroutine leak: %d before, %d after\n", name, before, after);
    return true;
  }
  std::printf("%s: no leak (%d goroutines before, %d after)\n", name, before, after);
  return false;
}

}  // namespace

bool demo::leak_detection_main() {
  const bool leaked = leaks("leak", [] { leak(); });
  const bool fixed_leaked = leaks("noLeak", [] {
    auto r = goro::with_cancel(goro::background());
    noLeak(r.ctx);
    r.cancel();  // done: the goroutine must not outlive us
  });

  bool ok = check(leaked, "the check caught leak()'s goroutine, blocked forever on ch");
  ok &= check(!fixed_leaked, "noLeak()'s goroutine exited once its context was cancelled");

  // goro names the leaked goroutine and the line that started it (Go's
  // goleak): goro::find_leaks waits up to its grace for the goroutines
  // started since the snapshot to exit and reports those that did not.
  auto before = goro::current_goroutines();
  leak();
  const std::string report = goro::find_leaks(before, 100ms);
  std::printf("goro::find_leaks after leak():\n%s", report.c_str());
  ok &= check(
      report.find(" [chan receive") != std::string::npos && report.find("leak_detection.cpp:") != std::string::npos,
      "find_leaks named leak()'s goroutine, its state and the line that started it");
  before = goro::current_goroutines();
  auto r = goro::with_cancel(goro::background());
  noLeak(r.ctx);
  r.cancel();
  ok &= check(goro::find_leaks(before).empty(), "find_leaks found nothing after noLeak()");
  return ok;
}
