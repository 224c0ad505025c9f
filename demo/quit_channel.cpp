// quit_channel — shutdown signal: close(quit). Seed 001, "Keeping Things
// Clean & Tidy", Shutdown Signals: "Use channels to communicate shutdown
// signals to goroutines."
//
//   quit := make(chan struct{})
//   go func() {
//       for {
//           select {
//           case <-quit:
//               fmt.Println("Exiting goroutine")
//               return
//           default:
//               // Do some work
//           }
//       }
//   }()
//   // Later, to signal shutdown:
//   close(quit)
//
// "Some work" here is a unit of simulated work of 1ms (goro::sleep). main
// lets the goroutine work for 20ms, closes quit, and waits on a second
// channel for the goroutine to say it has exited.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {
struct empty {};  // Go's struct{}
}  // namespace

bool demo::quit_channel_main() {
  auto quit = goro::make_chan<empty>();
  auto exited = goro::make_chan<int>(1);  // how many units of work it did

  goro::go([quit, exited] {
    int work = 0;
    for (;;) {
      bool quitting = false;
      goro::select(goro::case_recv(quit,
                                   [&] {
                                     std::printf("Exiting goroutine\n");
                                     quitting = true;
                                   }),
                   goro::case_default([&] {
                     // Do some work
                     goro::sleep(1ms);
                     work++;
                   }));
      if (quitting) {
        exited.send(work);
        return;
      }
    }
  });

  goro::sleep(20ms);
  // Later, to signal shutdown:
  quit.close();
  const std::optional<int> work = exited.recv();
  std::printf("the goroutine did %d units of work\n", *work);

  // How much work it did depends on the machine; that it stopped does not.
  return check(work.has_value(), "the goroutine worked until quit was closed, then exited");
}
