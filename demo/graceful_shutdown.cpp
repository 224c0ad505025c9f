// graceful_shutdown — a worker pool with graceful shutdown. Seed 001,
// "Real-World Example: HTTP Server with Graceful Shutdown":
//
//   // Worker pool for handling background tasks
//   func startWorkerPool(ctx context.Context, wg *sync.WaitGroup, numWorkers int) {
//       for i := 0; i < numWorkers; i++ {
//           wg.Add(1)
//           go func(workerID int) {
//               defer wg.Done()
//               fmt.Printf("🟢 Worker %d started\n", workerID)
//               for {
//                   select {
//                   case <-ctx.Done():
//                       fmt.Printf("🔴 Worker %d shutting down gracefully\n", workerID)
//                       return
//                   case <-time.After(2 * time.Second):
//                       fmt.Printf("⚙️ Worker %d processing task...\n", workerID)
//                   }
//               }
//           }(i)
//       }
//   }
//
//   func main() {
//       // Create cancellable context for graceful shutdown
//       ctx, cancel := context.WithCancel(context.Background())
//       var wg sync.WaitGroup
//       // Start HTTP server
//       server := &http.Server{Addr: ":8080"}
//       ... (ListenAndServe in a goroutine)
//       // Start worker pool
//       startWorkerPool(ctx, &wg, 3)
//       // Wait for interrupt signal (Ctrl+C)
//       sigChan := make(chan os.Signal, 1)
//       signal.Notify(sigChan, syscall.SIGINT, syscall.SIGTERM)
//       <-sigChan
//       fmt.Println("\n🛑 Shutdown signal received. Initiating graceful shutdown...")
//       // Cancel context to signal all goroutines
//       cancel()
//       // Shutdown HTTP server with timeout
//       shutdownCtx, shutdownCancel := context.WithTimeout(context.Background(), 10*time.Second)
//       defer shutdownCancel()
//       if err := server.Shutdown(shutdownCtx); err != nil { ... }
//       // Wait for all workers to finish
//       wg.Wait()
//       fmt.Println("✅ All goroutines stopped. Clean shutdown completed!")
//   }
//
// goro has no HTTP server yet (goro::http is planned), so the server's part
// is left out. The signal handling is real: goro::notify_signals is
// signal.Notify, and 70ms after the start the program sends itself SIGINT,
// as if Ctrl+C had been pressed (pressing Ctrl+C then works as well). A
// task comes every 20ms instead of every 2s.
#include <goro/goro.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

std::atomic<int> started, stopped;  // for the self-check

// Worker pool for handling background tasks
void startWorkerPool(goro::context ctx, goro::wait_group* wg, int numWorkers) {
  for (int i = 0; i < numWorkers; i++) {
    wg->add(1);
    goro::go(
        [ctx, wg](int workerID) {
          demo::defer done([wg] { wg->done(); });
          std::printf("🟢 Worker %d started\n", workerID);
          started++;
          for (;;) {
            bool shutting_down = false;
            goro::select(goro::case_recv(ctx.done(),
                                         [&] {
                                           std::printf("🔴 Worker %d shutting down gracefully\n", workerID);
                                           shutting_down = true;
                                         }),
                         goro::case_recv(goro::after(20ms),  // seed: 2 * time.Second
                                         [&] { std::printf("⚙️ Worker %d processing task...\n", workerID); }));
            if (shutting_down) {
              stopped++;
              return;
            }
          }
        },
        i);
  }
}

}  // namespace

bool demo::graceful_shutdown_main() {
  started = 0;
  stopped = 0;

  // Create cancellable context for graceful shutdown
  auto [ctx, cancel] = goro::with_cancel(goro::background());
  goro::wait_group wg;

  // Start worker pool
  startWorkerPool(ctx, &wg, 3);

  // Wait for interrupt signal (Ctrl+C)
  auto sigChan = goro::make_chan<int>(1);
  goro::notify_signals(sigChan, {SIGINT, SIGTERM});
  goro::after_func(70ms, [] { ::kill(::getpid(), SIGINT); });  // not in the seed: "press Ctrl+C"
  const int sig = *sigChan.recv();
  goro::stop_signals(sigChan);
  std::printf("\n🛑 Shutdown signal received (%s). Initiating graceful shutdown...\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  // Cancel context to signal all goroutines
  cancel();

  // Wait for all workers to finish
  wg.wait();
  std::printf("✅ All goroutines stopped. Clean shutdown completed!\n");

  return check(started == 3 && stopped == 3, "all 3 workers started, then shut down gracefully before Wait returned");
}
