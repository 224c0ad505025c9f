// graceful_shutdown — an HTTP server and a worker pool with graceful
// shutdown. Seed 001, "Real-World Example: HTTP Server with Graceful
// Shutdown", in full:
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
//       http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
//           fmt.Fprintf(w, "Server is running! 🚀")
//       })
//       go func() {
//           fmt.Println("🌐 HTTP Server listening on :8080")
//           if err := server.ListenAndServe(); err != http.ErrServerClosed {
//               fmt.Printf("❌ Server error: %v\n", err)
//           }
//       }()
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
//       if err := server.Shutdown(shutdownCtx); err != nil {
//           fmt.Printf("❌ Server shutdown error: %v\n", err)
//       }
//       // Wait for all workers to finish
//       wg.Wait()
//       fmt.Println("✅ All goroutines stopped. Clean shutdown completed!")
//   }
//
// Two ways to run it:
//  - `goro-demo graceful_shutdown` (part of the whole demo): the server
//    listens on a free loopback port; a visitor goroutine (not in the seed)
//    makes two requests, starts a slow one, and while that one is in flight
//    sends the process SIGINT, as if Ctrl+C had been pressed. The slow
//    request still gets its whole answer: that is the graceful part.
//  - `goro-demo --serve [ADDR]` (default ":8080", as the seed): the program
//    as the seed has it, serving until you press Ctrl+C or send SIGTERM.
//    scripts/demo.sh runs it and drives it with curl.
// Not in the seed: "/slow" answers after 1 s (a request to be in flight
// during the shutdown), and a task comes every 200ms instead of every 2s.
#include <goro/goro.hpp>
#include <goro/http.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

#include "demo.hpp"

using namespace std::chrono_literals;
namespace http = goro::http;

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
                         goro::case_recv(goro::after(200ms),  // seed: 2 * time.Second
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

// GET path from the server at addr with a plain socket; the response's
// status line and body ("" if the connection failed).
std::string visit(const std::string& addr, const std::string& path) {
  std::error_code ec;
  auto c = goro::net::dial("tcp", addr, ec);
  if (ec) return "";
  c.write("GET " + path + " HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n", ec);
  std::string resp;
  char buf[4096];
  for (;;) {
    std::size_t n = c.read(std::as_writable_bytes(std::span<char>(buf)), ec);
    if (n == 0) break;
    resp.append(buf, n);
  }
  std::size_t eol = resp.find("\r\n"), body = resp.find("\r\n\r\n");
  if (eol == std::string::npos || body == std::string::npos) return "";
  return resp.substr(0, eol) + " | " + resp.substr(body + 4);
}

// The seed's main. addr: where to listen; self_drive: visit the server and
// send SIGINT from inside (the whole demo), else wait for a real signal.
bool seed_main(const std::string& addr, bool self_drive) {
  started = 0;
  stopped = 0;

  // Create cancellable context for graceful shutdown
  auto [ctx, cancel] = goro::with_cancel(goro::background());
  goro::wait_group wg;

  // Start HTTP server
  http::serve_mux mux;
  mux.handle("/", [](http::response_writer& w, http::request&) { w.write("Server is running! 🚀"); });
  auto slow_started = goro::make_chan<int>(1);
  mux.handle("/slow", [slow_started](http::response_writer& w, http::request&) {  // not in the seed
    int one = 1;
    (void)slow_started.try_send(one);
    std::printf("⏳ /slow: a request in flight (answers in 1 s)\n");
    goro::sleep(1s);
    w.write("Slow request finished in full ✅");
  });
  http::server server(http::server_config{.addr = addr, .handler = std::ref(mux)});
  auto listening = goro::make_chan<std::string>(1);
  auto served = goro::make_chan<std::error_code>(1);
  goro::go([&] {
    std::error_code err;
    try {
      auto l = goro::net::listen("tcp", addr);  // ListenAndServe, with the address printed
      std::printf("🌐 HTTP Server listening on %s\n", l.addr().c_str());
      listening.send(l.addr());
      err = server.serve(std::move(l));
    } catch (const std::system_error& e) {
      err = e.code();
      listening.send("");
    }
    if (err != http::errc::server_closed) std::printf("❌ Server error: %s\n", err.message().c_str());
    served.send(err);
  });
  const std::string bound = *listening.recv();
  if (bound.empty()) return demo::check(false, "the server listens on %s", addr.c_str());

  // Start worker pool
  startWorkerPool(ctx, &wg, 3);

  // Wait for interrupt signal (Ctrl+C)
  auto sigChan = goro::make_chan<int>(1);
  goro::notify_signals(sigChan, {SIGINT, SIGTERM});

  std::atomic<bool> slow_ok{false};
  bool visits_ok = true;
  goro::wait_group visitors;
  if (self_drive) {  // not in the seed: a visitor, then "Ctrl+C" while a request is in flight
    for (const char* path : {"/", "/hello"}) {
      std::string r = visit(bound, path);
      std::printf("🌍 GET %s -> %s\n", path, r.c_str());
      visits_ok = visits_ok && r == "HTTP/1.1 200 OK | Server is running! 🚀";
    }
    visitors.add(1);
    goro::go([&] {
      std::string r = visit(bound, "/slow");
      std::printf("🌍 GET /slow -> %s\n", r.c_str());
      slow_ok = r == "HTTP/1.1 200 OK | Slow request finished in full ✅";
      visitors.done();
    });
    goro::go([slow_started] {  // "press Ctrl+C" while /slow runs
      slow_started.recv();
      ::kill(::getpid(), SIGINT);
    });
  }
  const int sig = *sigChan.recv();
  goro::stop_signals(sigChan);
  std::printf("\n🛑 Shutdown signal received (%s). Initiating graceful shutdown...\n",
              sig == SIGINT ? "SIGINT" : "SIGTERM");
  // Cancel context to signal all goroutines
  cancel();

  // Shutdown HTTP server with timeout
  goro::cancel_pair shutdown = goro::with_timeout(goro::background(), 10s);  // shutdownCtx, shutdownCancel
  demo::defer cancel_shutdown([&] { shutdown.cancel(); });                   // defer shutdownCancel()
  const std::error_code err = server.shutdown(shutdown.ctx);
  if (err) std::printf("❌ Server shutdown error: %s\n", err.message().c_str());

  // Wait for all workers to finish
  wg.wait();
  visitors.wait();
  std::printf("✅ All goroutines stopped. Clean shutdown completed!\n");

  bool ok = demo::check(!err, "server.shutdown returned no error");
  ok &= demo::check(*served.recv() == http::errc::server_closed, "ListenAndServe returned http: Server closed");
  ok &= demo::check(started == 3 && stopped == 3,
                    "all 3 workers started, then shut down gracefully before Wait returned");
  if (self_drive) {
    ok &= demo::check(visits_ok, "the server answered GET / and GET /hello");
    ok &= demo::check(slow_ok, "the request in flight during the shutdown got its whole answer");
  }
  return ok;
}

}  // namespace

bool demo::graceful_shutdown_main() { return seed_main("127.0.0.1:0", true); }

bool demo::graceful_shutdown_serve(const char* addr) { return seed_main(addr, false); }
