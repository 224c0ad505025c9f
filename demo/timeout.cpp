// timeout — select with time.After. Seed 001, "Keeping Things Clean & Tidy":
// make sure every goroutine can exit; a goroutine that could wait forever on
// a channel selects with a timeout:
//
//   select {
//   case msg := <-ch:
//       fmt.Println("Received:", msg)
//   case <-time.After(time.Second):
//       fmt.Println("Timeout! Exiting.")
//       return // Important to exit the goroutine
//   }
//
// Here that select runs in a loop in a goroutine that is given three
// messages (queued in ch beforehand, so that timing cannot interfere) and
// then nothing more: instead of waiting forever, it times out and exits.
// The timeout is 20ms instead of 1s.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

struct outcome {
  int received;
  std::chrono::steady_clock::duration waited;  // how long the last select waited
};

}  // namespace

bool demo::timeout_main() {
  auto ch = goro::make_chan<std::string>(3);
  ch.send("one");
  ch.send("two");
  ch.send("three");
  auto exited = goro::make_chan<outcome>(1);

  goro::go([ch, exited] {
    int received = 0;
    for (;;) {
      const auto start = std::chrono::steady_clock::now();
      std::optional<std::string> msg;
      switch (goro::select(goro::case_recv(ch, msg),               // case msg := <-ch:
                           goro::case_recv(goro::after(20ms)))) {  // case <-time.After(time.Second): (seed: 1s)
        case 0:
          std::printf("Received: %s\n", msg->c_str());
          received++;
          break;
        case 1:
          std::printf("Timeout! Exiting.\n");
          exited.send({received, std::chrono::steady_clock::now() - start});
          return;  // Important to exit the goroutine
      }
    }
  });

  const outcome o = *exited.recv();
  bool ok = check(o.received == 3, "the goroutine received the 3 messages, then timed out and exited");
  ok &= check(o.waited >= 20ms, "it gave up only after its timeout (its last select waited %.1f ms)",
              std::chrono::duration<double, std::milli>(o.waited).count());
  return ok;
}
