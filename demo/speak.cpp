// speak — the main goroutine and a goroutine take turns. Seed 004, "The
// Goroutine":
//
//   func speak(word string) {
//       for i := 0; i < 3; i++ {
//           fmt.Println(word)
//           time.Sleep(100 * time.Millisecond)
//       }
//   }
//
//   func main() {
//       // Runs in a new goroutine
//       go speak("Goroutine says: Hi!")
//       // Runs in the main goroutine
//       speak("Main says: Hello!")
//       // Give the goroutine time to finish before main exits
//       time.Sleep(1 * time.Second)
//   }
//
// The sleeps are 10ms and 100ms instead of 100ms and 1s. As the seed says
// next, sleeping to wait for a goroutine is a hack (on a loaded machine the
// goroutine may not be done yet): the self-check waits on a wait_group too,
// as the programs that follow do.
#include <goro/goro.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

std::atomic<int> spoken;  // lines printed by the goroutine, for the self-check
goro::wait_group wg;      // for the self-check too

void speak(const char* word) {
  for (int i = 0; i < 3; i++) {
    std::printf("%s\n", word);
    if (word[0] == 'G') spoken++;
    goro::sleep(10ms);  // seed: 100ms
  }
}

}  // namespace

bool demo::speak_main() {
  spoken = 0;
  // Runs in a new goroutine
  wg.add(1);
  goro::go([] {
    speak("Goroutine says: Hi!");
    wg.done();
  });
  // Runs in the main goroutine
  speak("Main says: Hello!");
  // Give the goroutine time to finish before main exits
  goro::sleep(100ms);  // seed: 1s

  wg.wait();
  return check(spoken == 3, "the goroutine spoke 3 times, taking turns with main");
}
