// errgroup — the first error cancels the rest. Seed 000, "Step 3: Launch
// Goroutines and Handle Errors" and "Step 4: Implement Cancellation" ("if a
// user cancels a request, you want to stop all related goroutines"), with
// golang.org/x/sync/errgroup, which does both:
//
//   g, ctx := errgroup.WithContext(context.Background())
//   for i := 0; i < 5; i++ {
//       i := i
//       g.Go(func() error { return fetch(ctx, i) })
//   }
//   if err := g.Wait(); err != nil {
//       fmt.Println("error:", err)
//   }
//
// fetch 0 and 1 succeed at once, fetch 2 fails after 5ms, and fetch 3 and 4
// would take 10s: they return early because the failure cancels ctx. In goro
// an error is an exception escaping the function (or a non-empty
// std::error_code it returns); g.wait() rethrows the first one.
#include <goro/goro.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <system_error>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

std::array<std::atomic<int>, 5> outcome;  // 1: succeeded, 2: failed, 3: cancelled

std::error_code fetch(goro::context ctx, int i) {
  if (i < 2) {
    std::printf("fetch %d: ok\n", i);
    outcome[i] = 1;
    return {};
  }
  if (i == 2) {
    goro::sleep(5ms);
    std::printf("fetch %d: failing\n", i);
    outcome[i] = 2;
    throw std::runtime_error("fetch 2: 404 not found");
  }
  // A slow fetch: 10s, unless the context is cancelled first.
  std::error_code err;
  goro::select(goro::case_recv(ctx.done(), [&] { err = ctx.err(); }), goro::case_recv(goro::after(10s)));
  std::printf("fetch %d: %s\n", i, err ? err.message().c_str() : "ok");
  outcome[i] = err ? 3 : 1;
  return err;
}

}  // namespace

bool demo::errgroup_main() {
  for (auto& o : outcome) o = 0;
  const auto start = std::chrono::steady_clock::now();

  auto r = goro::errgroup::with_context(goro::background());
  goro::errgroup& g = r.group;
  const goro::context ctx = r.ctx;
  for (int i = 0; i < 5; i++) {
    g.go([ctx, i] { return fetch(ctx, i); });
  }
  std::string error;
  try {
    g.wait();
  } catch (const std::exception& e) {
    error = e.what();
    std::printf("error: %s\n", e.what());
  }

  const auto elapsed = std::chrono::steady_clock::now() - start;
  bool ok = check(error == "fetch 2: 404 not found", "g.Wait() returned the first error");
  ok &= check(outcome[0] == 1 && outcome[1] == 1 && outcome[2] == 2 && outcome[3] == 3 && outcome[4] == 3,
              "fetch 0 and 1 succeeded, 2 failed, 3 and 4 were cancelled");
  ok &= check(elapsed < 5s, "nobody waited for the slow fetches (%.1f ms)",
              std::chrono::duration<double, std::milli>(elapsed).count());
  return ok;
}
