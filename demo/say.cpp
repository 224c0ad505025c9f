// say — hello world. Seed 001, "The 'go' Keyword":
//
//   func say(s string) {
//       for i := 0; i < 5; i++ {
//           time.Sleep(100 * time.Millisecond)
//           fmt.Println(s)
//       }
//   }
//
//   func main() {
//       go say("world") // Launch a new goroutine
//       say("hello")    // Main goroutine
//   }
//
// The sleeps are 10ms instead of 100ms. As in Go, main does not wait for the
// "world" goroutine: when main returns, the goroutine is discarded, so
// "world" is printed 4 or 5 times, interleaved with "hello".
#include <goro/goro.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string_view>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

// Lines printed so far. At namespace scope rather than in main's frame: the
// "world" goroutine may still be running when main returns.
std::atomic<int> hellos, worlds;

void say(std::string_view s) {
  for (int i = 0; i < 5; i++) {
    goro::sleep(10ms);  // seed: 100ms
    std::printf("%.*s\n", static_cast<int>(s.size()), s.data());
    (s == "hello" ? hellos : worlds)++;
  }
}

}  // namespace

bool demo::say_main() {
  hellos = 0;
  worlds = 0;

  goro::go(say, "world");  // Launch a new goroutine
  say("hello");            // Main goroutine

  std::printf("(world printed %d times before main returned)\n", worlds.load());
  return check(hellos == 5, "main printed hello 5 times while the goroutine said world");
}
