// ping — unbuffered channels synchronize. Seed 004, "Channels: Share Memory
// By Communicating":
//
//   func main() {
//       messages := make(chan string)
//       go func() {
//           messages <- "ping" // Blocks here until "pong" is ready to receive
//       }()
//       msg := <-messages // Blocks here until "ping" is sent
//       fmt.Println(msg)
//   }
//
// The self-check also shows the rendezvous: the sender is still blocked
// until main receives.
#include <goro/goro.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "demo.hpp"

using namespace std::chrono_literals;

bool demo::ping_main() {
  auto messages = goro::make_chan<std::string>();
  auto sent = std::make_shared<std::atomic<bool>>(false);
  goro::go([messages, sent] {
    messages.send("ping");  // Blocks here until main is ready to receive
    *sent = true;
  });
  goro::sleep(5ms);  // not in the seed: give the sender time to block
  const bool blocked = !*sent;
  std::optional<std::string> msg = messages.recv();  // Blocks here until "ping" is sent
  std::printf("%s\n", msg->c_str());

  bool ok = check(msg == "ping", "received ping");
  ok &= check(blocked, "the sender waited for the receiver (unbuffered channel)");
  return ok;
}
