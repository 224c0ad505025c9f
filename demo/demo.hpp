// demo/demo.hpp — what the demo's programs share.
//
// Every file of demo/ but main.cpp is one Go program of the seed documents,
// rewritten with goro: its Go original is quoted at the top of the file, and
// the C++ keeps its structure, names and printed output. Each program is a
// function `bool NAME_main()` that main.cpp runs as goroutine 1 of a fresh
// goro::run, exactly as Go runs `func main()`: goroutines still alive when it
// returns are discarded. It returns whether its self-check passed.
//
// The seeds' sleeps are scaled down (usually 10x) so that the whole demo
// takes a few seconds; each file says where.
//
// The seeds' racy examples (an unsynchronized counter, WithdrawUnsafe) are
// shown in their fixed form only. Their racy form is exactly what
// ThreadSanitizer catches in a goro program, as `go run -race` does in Go:
// build with `cmake --preset tsan` (or -fsanitize=thread) and run.
#pragma once

#include <cstdlib>
#include <utility>

namespace demo {

// Prints "  ok: <what>" or "  FAILED: <what>" and returns ok.
bool check(bool ok, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// True when GORO_DEMO_SCALE=small (sanitizer builds): skynet and the other
// heavy programs use fewer goroutines and iterations.
bool small_scale();

// Go's `defer f()` for the end of the enclosing block:
//   demo::defer done([&] { wg.done(); });   // defer wg.Done()
template <class F>
class defer {
 public:
  explicit defer(F f) : f_(std::move(f)) {}
  defer(const defer&) = delete;
  defer& operator=(const defer&) = delete;
  ~defer() { f_(); }

 private:
  F f_;
};

// The programs, in the order main.cpp runs them.
bool say_main();
bool hello_main();
bool ping_main();
bool speak_main();
bool goroutines_main();
bool wait_group_main();
bool workers_main();
bool tasks_main();
bool image_processing_main();
bool mutex_counter_main();
bool race_fixes_main();
bool bank_account_main();
bool worker_pool_main();
bool fan_out_main();
bool cpu_bound_main();
bool fan_in_main();
bool pipeline_main();
bool sum_via_chan_main();
bool timeout_main();
bool quit_channel_main();
bool ctx_done_main();
bool context_cancel_main();
bool graceful_shutdown_main();
// The seed's server as it is: serves on addr until SIGINT or SIGTERM (goro-demo --serve).
bool graceful_shutdown_serve(const char* addr);
bool leak_detection_main();
bool deadlock_main();
bool error_channel_main();
bool errgroup_main();
bool rate_limiting_main();
bool fetch_benchmark_main();
bool false_sharing_main();
bool skynet_main();

// The child process of deadlock_main: `goro-demo --deadlock-child self|circular`.
int deadlock_child(const char* which);

}  // namespace demo
