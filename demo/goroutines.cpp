// goroutines — anonymous, named and loop goroutines. Seed 001, "Creating
// Goroutines" and "Multiple Goroutines & Closure Capture":
//
//   go func() {
//       // Your code here
//       fmt.Println("Hello from a goroutine!")
//   }() //Don't forget the trailing parentheses to invoke the anonymous function
//
//   func myFunc() {
//       fmt.Println("Hello from a named function goroutine!")
//   }
//   go myFunc()
//
//   func main() {
//       for i := 0; i < 5; i++ {
//           go func(j int) { // Pass 'i' as 'j' to capture the value.
//               fmt.Println("Goroutine", j)
//           }(i)
//       }
//       time.Sleep(time.Second) // Give goroutines time to complete.
//   }
//
// goro::go decay-copies its arguments at the call, as std::thread does, so
// `goro::go(f, i)` always passes this iteration's i: the closure-capture bug
// the seed warns about cannot happen (a lambda capturing i by value [i] is
// just as safe). The sleep is 50ms instead of 1s; as it is not
// synchronization, the self-check then waits on a wait_group too, so that
// it never depends on the sleep being long enough.
#include <goro/goro.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

goro::wait_group wg;            // for the self-check only
std::atomic<unsigned> printed;  // bit j: "Goroutine j" was printed; bits 5, 6: the two hellos

void myFunc() {
  std::printf("Hello from a named function goroutine!\n");
  printed |= 1u << 6;
  wg.done();
}

}  // namespace

bool demo::goroutines_main() {
  printed = 0;
  wg.add(7);

  goro::go([] {
    // Your code here
    std::printf("Hello from a goroutine!\n");
    printed |= 1u << 5;
    wg.done();
  });

  // Braces, not parentheses: `goro::go(myFunc);` would parse as the
  // declaration of a variable named myFunc (goro::go is a class template).
  goro::go(myFunc);

  for (int i = 0; i < 5; i++) {
    goro::go(
        [](int j) {  // Pass 'i' as 'j' to capture the value.
          std::printf("Goroutine %d\n", j);
          printed |= 1u << j;
          wg.done();
        },
        i);
  }
  goro::sleep(50ms);  // Give goroutines time to complete. (seed: 1s)

  wg.wait();
  return check(printed == 0x7f, "all 7 goroutines ran, each loop goroutine with its own j (0..4)");
}
