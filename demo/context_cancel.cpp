// context_cancel — workers that check ctx.Done(). Seed 002, "Context
// Cancellation Ignored": "When a context is cancelled, goroutines should
// exit promptly":
//
//   func goodWorker(ctx context.Context) {
//       for {
//           select {
//           case <-ctx.Done():
//               return // Exit when cancelled
//           default:
//               doExpensiveWork()
//           }
//       }
//   }
//
//   // For long-running operations, check ctx.Done() periodically:
//   func goodWorker(ctx context.Context) error {
//       for i := 0; i < 1000000; i++ {
//           if i%1000 == 0 { // Check every 1000 iterations
//               select {
//               case <-ctx.Done():
//                   return ctx.Err()
//               default:
//               }
//           }
//           doWork(i)
//       }
//       return nil
//   }
//
// (badWorker, which never checks ctx, would never return: not run here.)
// The first worker is cancelled by main after 10ms; the second one's
// context has a 20ms timeout, far less than its million doWork calls take.
// Both do pure computation and call goro only to check ctx.Done(), so this
// also exercises goro's handling of goroutines that compute (with
// GOMAXPROCS=1 too: main must still get to run and the timer to fire).
#include <goro/goro.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <system_error>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

// Pure computation, about a microsecond or two: a few rounds of a hash.
std::uint64_t doWork(int i) {
  std::uint64_t h = 1469598103934665603ull ^ static_cast<std::uint64_t>(i);
  for (int k = 0; k < 300; k++) h = (h ^ (h >> 29)) * 1099511628211ull + static_cast<std::uint64_t>(k);
  return h;
}

std::atomic<std::uint64_t> sink;  // keeps the work from being optimized away

std::atomic<long> expensive_done;

void doExpensiveWork() {
  std::uint64_t h = 0;
  for (int i = 0; i < 50; i++) h += doWork(i);
  sink += h;
  expensive_done++;
}

void goodWorker(goro::context ctx) {
  for (;;) {
    bool cancelled = false;
    goro::select(goro::case_recv(ctx.done(), [&] { cancelled = true; }), goro::case_default([] { doExpensiveWork(); }));
    if (cancelled) return;  // Exit when cancelled
  }
}

// The second form; `iterations` reports how far it got.
std::error_code goodWorker(goro::context ctx, int* iterations) {
  for (int i = 0; i < 1000000; i++) {
    if (i % 1000 == 0) {  // Check every 1000 iterations
      std::error_code err;
      goro::select(goro::case_recv(ctx.done(), [&] { err = ctx.err(); }), goro::case_default());
      if (err) {
        *iterations = i;
        return err;
      }
    }
    sink += doWork(i);
  }
  *iterations = 1000000;
  return {};
}

}  // namespace

bool demo::context_cancel_main() {
  bool ok = true;
  {
    expensive_done = 0;
    auto r = goro::with_cancel(goro::background());
    auto stopped = goro::make_chan<int>(1);
    goro::go([ctx = r.ctx, stopped] {
      goodWorker(ctx);
      stopped.send(1);
    });
    goro::sleep(10ms);
    r.cancel();
    const bool exited = stopped.recv().has_value();
    std::printf("goodWorker: cancelled after %ld units of expensive work\n", expensive_done.load());
    ok &= check(exited, "the first goodWorker worked until cancelled, then exited");
  }
  {
    auto r = goro::with_timeout(goro::background(), 20ms);
    auto result = goro::make_chan<std::error_code>(1);
    auto iterations = std::make_shared<int>(0);
    const auto start = std::chrono::steady_clock::now();
    goro::go([ctx = r.ctx, result, iterations] { result.send(goodWorker(ctx, iterations.get())); });
    const std::error_code err = *result.recv();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("goodWorker: %s after %d of 1000000 iterations (%.1f ms)\n", err ? err.message().c_str() : "nil",
                *iterations, ms);
    ok &= check(err == goro::errc::deadline_exceeded, "the second goodWorker returned ctx.Err() = deadline exceeded");
    ok &= check(*iterations < 1000000 && *iterations % 1000 == 0, "at one of its checks, before finishing");
    r.cancel();
  }
  return ok;
}
