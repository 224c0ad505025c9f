// rate_limiting — a ticker and a bursty buffered channel. Seed 002,
// "Buffered Channels" ("Use case: Decoupling producer and consumer speeds,
// work queues, rate limiting"); the program is Go by Example's:
//
//   requests := make(chan int, 5)
//   for i := 1; i <= 5; i++ {
//       requests <- i
//   }
//   close(requests)
//   limiter := time.Tick(200 * time.Millisecond)
//   for req := range requests {
//       <-limiter
//       fmt.Println("request", req, time.Now())
//   }
//
//   burstyLimiter := make(chan time.Time, 3)
//   for i := 0; i < 3; i++ {
//       burstyLimiter <- time.Now()
//   }
//   go func() {
//       for t := range time.Tick(200 * time.Millisecond) {
//           burstyLimiter <- t
//       }
//   }()
//   burstyRequests := make(chan int, 5)
//   for i := 1; i <= 5; i++ {
//       burstyRequests <- i
//   }
//   close(burstyRequests)
//   for req := range burstyRequests {
//       <-burstyLimiter
//       fmt.Println("request", req, time.Now())
//   }
//
// The period is 10ms instead of 200ms. goro::ticker stands for time.Tick;
// the refilling goroutine also watches a context, so that it stops (with
// its ticker) when main is done instead of ticking on forever.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <vector>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

double ms_since(goro::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

bool demo::rate_limiting_main() {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<double> at, bursty_at;

  auto requests = goro::make_chan<int>(5);
  for (int i = 1; i <= 5; i++) {
    requests.send(i);
  }
  requests.close();
  goro::ticker limiter(10ms);
  for (int req : requests) {
    limiter.c().recv();
    at.push_back(ms_since(t0));
    std::printf("request %d %6.1f ms\n", req, at.back());
  }
  limiter.stop();

  const auto t1 = std::chrono::steady_clock::now();
  auto burstyLimiter = goro::make_chan<goro::time_point>(3);
  for (int i = 0; i < 3; i++) {
    burstyLimiter.send(std::chrono::steady_clock::now());
  }
  auto r = goro::with_cancel(goro::background());
  goro::go([burstyLimiter, ctx = r.ctx] {
    goro::ticker tick(10ms);
    for (;;) {
      std::optional<goro::time_point> t;
      if (goro::select(goro::case_recv(tick.c(), t), goro::case_recv(ctx.done())) == 1) return;
      if (goro::select(goro::case_send(burstyLimiter, *t), goro::case_recv(ctx.done())) == 1) return;
    }
  });
  auto burstyRequests = goro::make_chan<int>(5);
  for (int i = 1; i <= 5; i++) {
    burstyRequests.send(i);
  }
  burstyRequests.close();
  for (int req : burstyRequests) {
    burstyLimiter.recv();
    bursty_at.push_back(ms_since(t1));
    std::printf("request %d %6.1f ms (bursty)\n", req, bursty_at.back());
  }
  r.cancel();

  // Only lower bounds: a ticker never delivers early, but a loaded machine
  // may deliver late.
  bool spaced = at.size() == 5 && at[0] >= 9;
  for (std::size_t i = 1; i < at.size(); i++) spaced &= at[i] >= 10.0 * static_cast<double>(i + 1) - 1;
  bool ok = check(spaced, "one request per tick: the 5th at %.1f ms, not before 50 ms", at.back());
  ok &= check(bursty_at.size() == 5 && bursty_at[4] >= 19,
              "bursty: 3 requests at once, then one per tick: the 5th at %.1f ms, not before 20 ms", bursty_at.back());
  return ok;
}
