// hello — a message over an unbuffered channel. Seed 000, "Using Channels
// for Communication":
//
//   func main() {
//       ch := make(chan string)
//       go func() {
//           ch <- "Hello from goroutine"
//       }()
//       msg := <-ch
//       fmt.Println(msg)
//   }
#include <goro/goro.hpp>

#include <cstdio>
#include <string>

#include "demo.hpp"

bool demo::hello_main() {
  auto ch = goro::make_chan<std::string>();
  goro::go([ch] { ch.send("Hello from goroutine"); });
  std::optional<std::string> msg = ch.recv();
  std::printf("%s\n", msg->c_str());

  return check(msg == "Hello from goroutine", "main received the goroutine's message");
}
