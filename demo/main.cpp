// goro-demo — runs the Go programs of the seed documents, rewritten with
// goro, one after another.
//
//   goro-demo              runs them all, in the order below
//   goro-demo NAME...      runs only those (e.g. `goro-demo skynet`)
//   goro-demo --list       lists them with the seed each comes from
//   goro-demo --serve [ADDR]  the seeds' HTTP server with graceful shutdown,
//                          as written (default ":8080"): serves until
//                          Ctrl+C / SIGTERM (scripts/demo.sh drives it with curl)
//
// Each program runs as goroutine 1 of its own goro::run, as a Go program's
// main does: goroutines it leaves behind are discarded when it returns. Each
// checks its own result (a final balance, a sum, a count...). The exit status
// is 0 only if every program that ran passed its checks. GOMAXPROCS sets the
// number of processors, as in Go; GORO_DEMO_SCALE=small scales the heavy
// programs down (for sanitizer builds); a program still running after
// GORO_DEMO_TIMEOUT seconds (default 60) is reported as hung, with a
// goroutine dump, and the demo exits with status 3.
#include <goro/goro.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "demo.hpp"

namespace {

struct program {
  const char* name;
  const char* title;
  const char* source;  // where in the seeds (/work/shared/seeds) it comes from
  bool (*main)();
};

// clang-format off
constexpr program programs[] = {
  {"say",               "hello world",                                   "seed 001: The 'go' Keyword",                              demo::say_main},
  {"hello",             "a message over an unbuffered channel",          "seed 000: Using Channels for Communication",              demo::hello_main},
  {"ping",              "unbuffered channels synchronize",               "seed 004: Channels, Unbuffered Channels",                 demo::ping_main},
  {"speak",             "the main goroutine and a goroutine take turns", "seed 004: The Goroutine",                                 demo::speak_main},
  {"goroutines",        "anonymous, named and loop goroutines",          "seed 001: Creating Goroutines, Closure Capture",          demo::goroutines_main},
  {"wait_group",        "five workers and a WaitGroup",                  "seed 000: Synchronization with sync.WaitGroup",           demo::wait_group_main},
  {"workers",           "worker(id, &wg)",                               "seed 004: Synchronization with WaitGroups",               demo::workers_main},
  {"tasks",             "waiting for task completion",                   "seed 001: Practical Example: Waiting for Task Completion",demo::tasks_main},
  {"image_processing",  "concurrent image processing",                   "seed 001: Real-World Example: Concurrent Image Processing",demo::image_processing_main},
  {"mutex_counter",     "the racy counter, fixed with a mutex",          "seed 001: The Peril of Unsynchronized Access",            demo::mutex_counter_main},
  {"race_fixes",        "1000 goroutines count: mutex, atomic, channel", "seed 002: Data Races (Fixes)",                            demo::race_fixes_main},
  {"bank_account",      "WithdrawSafe: 10 withdrawals of $150 from $1000","seed 001: Real-World Example: Bank Account Race Condition",demo::bank_account_main},
  {"worker_pool",       "3 workers, 5 jobs",                             "seed 004: Pattern: The Worker Pool",                      demo::worker_pool_main},
  {"fan_out",           "10 workers read one jobs channel",              "seed 002: Channel Patterns, Fan-out",                     demo::fan_out_main},
  {"cpu_bound",         "a worker pool sized to GOMAXPROCS",             "seed 002: Too Many Goroutines for CPU-Bound Work",        demo::cpu_bound_main},
  {"fan_in",            "merge(channels...)",                            "seed 002: Channel Patterns, Fan-in",                      demo::fan_in_main},
  {"pipeline",          "gen -> square -> print",                        "seed 002: Channel Patterns, Pipeline",                    demo::pipeline_main},
  {"sum_via_chan",      "channel overhead for fine-grained work",        "seed 002: Channel Overhead for Fine-Grained Communication",demo::sum_via_chan_main},
  {"timeout",           "select with time.After",                        "seed 001: Keeping Things Clean & Tidy (leaks)",           demo::timeout_main},
  {"quit_channel",      "shutdown signal: close(quit)",                  "seed 001: Keeping Things Clean & Tidy (shutdown signals)",demo::quit_channel_main},
  {"ctx_done",          "stop a goroutine with context cancellation",    "seed 000: Goroutine Leaks, How do I stop a goroutine?",   demo::ctx_done_main},
  {"context_cancel",    "goodWorker checks ctx.Done()",                  "seed 002: Context Cancellation Ignored",                   demo::context_cancel_main},
  {"graceful_shutdown", "HTTP server + worker pool, graceful shutdown",          "seed 001: Real-World Example: HTTP Server with Graceful Shutdown",demo::graceful_shutdown_main},
  {"leak_detection",    "TestNoLeaks catches leak()",                    "seed 002: Goroutine Leaks",                               demo::leak_detection_main},
  {"deadlock",          "the runtime detects all goroutines asleep",     "seed 002: Channel Deadlocks",                             demo::deadlock_main},
  {"error_channel",     "collect errors over a channel",                 "seed 000: Step 3: Launch Goroutines and Handle Errors",   demo::error_channel_main},
  {"errgroup",          "the first error cancels the rest",              "seed 000: Steps 3 and 4 (errors, cancellation)",          demo::errgroup_main},
  {"rate_limiting",     "a ticker and a bursty buffered channel",        "seed 002: Buffered Channels (use case: rate limiting)",   demo::rate_limiting_main},
  {"fetch_benchmark",   "100 HTTP fetches: sequential, concurrent, pool",      "seed 002: Benchmarking Reality",                          demo::fetch_benchmark_main},
  {"false_sharing",     "padded vs unpadded atomic counters",            "seed 002: False Sharing",                                 demo::false_sharing_main},
  {"skynet",            "1,111,111 goroutines",                          "seeds 000/002: millions of goroutines",                   demo::skynet_main},
};
// clang-format on

void list() {
  for (const program& p : programs) std::printf("%-18s %-48s %s\n", p.name, p.title, p.source);
}

// A program that has not finished after GORO_DEMO_TIMEOUT seconds (default
// 60) hangs: the watchdog, a plain thread, prints the goroutines and ends
// the demo with status 3, so that a hang is reported instead of waited on.
class watchdog {
 public:
  watchdog() {
    const char* s = std::getenv("GORO_DEMO_TIMEOUT");
    if (s && std::atoi(s) > 0) limit_ = std::chrono::seconds(std::atoi(s));
    thread_ = std::thread([this] { loop(); });
  }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  ~watchdog() {
    {
      std::lock_guard<std::mutex> l(mu_);
      quit_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void start(const char* name) {
    {
      std::lock_guard<std::mutex> l(mu_);
      current_ = name;
      deadline_ = std::chrono::steady_clock::now() + limit_;
    }
    cv_.notify_one();
  }
  void stop() {
    std::lock_guard<std::mutex> l(mu_);
    current_ = nullptr;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> l(mu_);
    while (!quit_) {
      if (current_ && std::chrono::steady_clock::now() >= deadline_) {
        std::fflush(stdout);
        std::fprintf(stderr, "\ngoro-demo: %s has not finished after %lld s: it hangs. Its goroutines:\n\n", current_,
                     static_cast<long long>(limit_.count()));
        goro::dump_goroutines(std::cerr);
        std::cerr.flush();
        std::printf("\n== %s HUNG ==\n", current_);
        std::fflush(stdout);
        std::_Exit(3);
      }
      if (current_) cv_.wait_until(l, deadline_);
      else cv_.wait(l);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  const char* current_ = nullptr;  // guarded by mu_
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::seconds limit_{60};
  bool quit_ = false;
  std::thread thread_;
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

bool demo::check(bool ok, const char* fmt, ...) {
  std::va_list ap;
  va_start(ap, fmt);
  std::fputs(ok ? "  ok: " : "  FAILED: ", stdout);
  std::vprintf(fmt, ap);
  std::fputc('\n', stdout);
  va_end(ap);
  return ok;
}

bool demo::small_scale() {
  const char* s = std::getenv("GORO_DEMO_SCALE");
  return s && std::strcmp(s, "small") == 0;
}

int main(int argc, char** argv) {
  // Line-buffered even into a pipe, so that a stuck program shows where.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc == 3 && std::strcmp(argv[1], "--deadlock-child") == 0) return demo::deadlock_child(argv[2]);
  if (argc >= 2 && std::strcmp(argv[1], "--serve") == 0) {
    const char* addr = argc >= 3 ? argv[2] : ":8080";
    bool ok = false;
    const int rc = goro::run([&] { ok = demo::graceful_shutdown_serve(addr); });
    return ok && rc == 0 ? 0 : 1;
  }

  std::vector<const program*> selected;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--list" || a == "-l") {
      list();
      return 0;
    }
    if (a == "--help" || a == "-h") {
      std::printf("usage: goro-demo [--list] [NAME...]\n       goro-demo --serve [ADDR]\n");
      return 0;
    }
    const program* found = nullptr;
    for (const program& p : programs)
      if (a == p.name) found = &p;
    if (!found) {
      std::fprintf(stderr, "goro-demo: no program named '%s' (goro-demo --list lists them)\n", argv[i]);
      return 2;
    }
    selected.push_back(found);
  }
  if (selected.empty())
    for (const program& p : programs) selected.push_back(&p);

  const int procs = goro::run([] { return goro::gomaxprocs(); });
  std::printf("goro-demo: %zu program%s, GOMAXPROCS=%d%s\n\n", selected.size(), selected.size() == 1 ? "" : "s", procs,
              demo::small_scale() ? ", GORO_DEMO_SCALE=small" : "");

  watchdog dog;
  std::vector<const char*> failed;
  const auto t0 = std::chrono::steady_clock::now();
  for (const program* p : selected) {
    std::printf("== %s / %s ==\n", p->name, p->title);
    const auto t = std::chrono::steady_clock::now();
    bool ok = false;
    dog.start(p->name);
    const int rc = goro::run([&] { ok = p->main(); });
    dog.stop();
    ok = ok && rc == 0;
    std::printf("-- %s %s (%.1f ms)\n\n", p->name, ok ? "passed" : "FAILED", ms_since(t));
    if (!ok) failed.push_back(p->name);
  }

  const double total = ms_since(t0) / 1000;
  if (failed.empty()) {
    if (selected.size() == 1) std::printf("== %s passed (%.2f s) ==\n", selected[0]->name, total);
    else std::printf("== all %zu programs passed (%.2f s) ==\n", selected.size(), total);
    return 0;
  }
  std::printf("== %zu of %zu programs FAILED (%.2f s):", failed.size(), selected.size(), total);
  for (const char* n : failed) std::printf(" %s", n);
  std::printf(" ==\n");
  return 1;
}
