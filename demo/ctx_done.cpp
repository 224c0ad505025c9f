// ctx_done — stop a goroutine with context cancellation. Seed 000, "Goroutine
// Leaks" and "How do I stop a goroutine?" ("Pass a context to the goroutine,
// and when you want to stop it, call the cancel function. The goroutine
// should check ctx.Done() in a select statement and return when it's done."):
//
//   select {
//   case val := <-ch:
//       // process val
//   case <-ctx.Done():
//       return
//   }
//
// and seed 001, "Proper Shutdown":
//
//   ctx, cancel := context.WithCancel(context.Background())
//   go myWorker(ctx)
//   // Later, to signal shutdown:
//   cancel()
//
// myWorker processes values from ch until its context is cancelled. The
// sender stops sending after five values: without the ctx.Done() case, the
// worker would wait on ch forever (a goroutine leak).
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <system_error>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

void myWorker(goro::context ctx, goro::recv_chan<int> ch, goro::send_chan<int> stopped) {
  int sum = 0;
  for (;;) {
    bool done = false;
    goro::select(goro::case_recv(ch,
                                 [&](std::optional<int> val) {
                                   // process val
                                   std::printf("processing %d\n", *val);
                                   sum += *val;
                                 }),
                 goro::case_recv(ctx.done(), [&] { done = true; }));
    if (done) {
      std::printf("worker: %s, returning\n", ctx.err().message().c_str());
      stopped.send(sum);
      return;
    }
  }
}

}  // namespace

bool demo::ctx_done_main() {
  auto ch = goro::make_chan<int>();
  auto stopped = goro::make_chan<int>(1);

  auto [ctx, cancel] = goro::with_cancel(goro::background());
  goro::go(myWorker, ctx, ch, stopped);
  for (int v = 1; v <= 5; v++) ch.send(v);
  goro::sleep(5ms);  // the worker now waits on ch, which nobody sends to any more
  // Later, to signal shutdown:
  cancel();
  const int sum = *stopped.recv();

  bool ok = check(sum == 15, "the worker processed 1..5 (sum 15)");
  ok &= check(ctx.err() == goro::errc::canceled, "then returned when its context was cancelled: %s",
              ctx.err().message().c_str());
  return ok;
}
