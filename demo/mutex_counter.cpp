// mutex_counter — the racy counter, fixed with a mutex. Seed 001, "The Peril
// of Unsynchronized Access":
//
//   var counter int = 0
//   var wg sync.WaitGroup
//
//   func increment() {
//       defer wg.Done()
//       for i := 0; i < 1000; i++ {
//           counter++ // Data race!
//       }
//   }
//
//   func main() {
//       wg.Add(2)
//       go increment()
//       go increment()
//       wg.Wait()
//       fmt.Println("Counter:", counter) // Usually not 2000
//   }
//
// The seed's counter++ is a data race: two goroutines read-modify-write it
// without synchronization and lose updates. This demo runs only the fixed
// form, with a goro::mutex around counter++ (the seed's "Option 1"). The racy
// form is what the race detector is for: `go run -race` in Go, and in goro a
// ThreadSanitizer build (`cmake --preset tsan`, or -fsanitize=thread), which
// reports the two unsynchronized accesses with both goroutines' stacks.
#include <goro/goro.hpp>

#include <cstdio>
#include <mutex>

#include "demo.hpp"

namespace {

int counter = 0;
goro::wait_group wg;
goro::mutex mu;  // guards counter

void increment() {
  demo::defer done([] { wg.done(); });
  for (int i = 0; i < 1000; i++) {
    std::lock_guard<goro::mutex> lock(mu);
    counter++;  // no data race: mu is held
  }
}

}  // namespace

bool demo::mutex_counter_main() {
  counter = 0;
  wg.add(2);
  goro::go(increment);
  goro::go(increment);
  wg.wait();
  std::printf("Counter: %d\n", counter);  // Always 2000

  return check(counter == 2000, "Counter is 2000: no update lost");
}
