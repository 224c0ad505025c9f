// race_fixes — 1000 goroutines count, three ways. Seed 002, "Data Races":
//
//   func race() {
//       counter := 0
//       for i := 0; i < 1000; i++ {
//           go func() {
//               counter++ // DATA RACE: read-modify-write without sync
//           }()
//       }
//       time.Sleep(time.Second)
//       fmt.Println(counter) // Not 1000. Different every run.
//   }
//
//   Fixes:
//   // Option 1: Mutex
//   var mu sync.Mutex
//   mu.Lock()
//   counter++
//   mu.Unlock()
//
//   // Option 2: Atomic
//   var counter int64
//   atomic.AddInt64(&counter, 1)
//
//   // Option 3: Channel (move data, not share it)
//   results := make(chan int, 1000)
//   for i := 0; i < 1000; i++ {
//       go func() { results <- 1 }()
//   }
//   total := 0
//   for i := 0; i < 1000; i++ {
//       total += <-results
//   }
//
// Only the three fixes run here; race() itself is what ThreadSanitizer
// catches (`cmake --preset tsan`), as `go run -race` does. The seed waits
// with time.Sleep(time.Second), which is not synchronization: options 1 and
// 2 wait on a wait_group instead (option 3 needs no waiting: it receives
// exactly 1000 values).
#include <goro/goro.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>

#include "demo.hpp"

namespace {

// Option 1: Mutex
int with_mutex() {
  int counter = 0;
  goro::mutex mu;
  goro::wait_group wg;
  for (int i = 0; i < 1000; i++) {
    wg.add(1);
    goro::go([&] {
      mu.lock();
      counter++;
      mu.unlock();
      wg.done();
    });
  }
  wg.wait();
  return counter;
}

// Option 2: Atomic
std::int64_t with_atomic() {
  std::atomic<std::int64_t> counter{0};
  goro::wait_group wg;
  for (int i = 0; i < 1000; i++) {
    wg.add(1);
    goro::go([&] {
      counter.fetch_add(1);  // atomic.AddInt64(&counter, 1)
      wg.done();
    });
  }
  wg.wait();
  return counter;
}

// Option 3: Channel (move data, not share it)
int with_channel() {
  auto results = goro::make_chan<int>(1000);
  for (int i = 0; i < 1000; i++) {
    goro::go([results] { results.send(1); });
  }
  int total = 0;
  for (int i = 0; i < 1000; i++) {
    total += *results.recv();
  }
  return total;
}

}  // namespace

bool demo::race_fixes_main() {
  const int m = with_mutex();
  std::printf("Option 1 (mutex):   %d\n", m);
  const std::int64_t a = with_atomic();
  std::printf("Option 2 (atomic):  %lld\n", static_cast<long long>(a));
  const int c = with_channel();
  std::printf("Option 3 (channel): %d\n", c);

  return check(m == 1000 && a == 1000 && c == 1000, "each option counted all 1000 goroutines");
}
