// goro/leak.hpp — goroutine leak detection (Go's go.uber.org/goleak).
//
//   auto before = goro::current_goroutines();
//   start_workers();
//   stop_workers();
//   if (auto r = goro::find_leaks(before); !r.empty()) fail(r);
//
// A leaked goroutine is one that outlives the work that started it: blocked
// for ever on a channel nobody sends to, a worker that ignores ctx.done(), a
// ticker loop nobody stops. The report names each one the way the goroutine
// dump does — state and wait time, stack, and the `created by` line — so
// the line that started it is on screen. goro::config{.fail_on_leak = true}
// checks a whole program: see goro::run. goro/testing.hpp checks every test
// of a GoogleTest binary.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace goro {

// The goroutines alive at one moment, by id (sorted, as goroutine ids are
// never reused within a run). Default-constructed: empty.
class leak_snapshot {
 public:
  leak_snapshot() = default;
  explicit leak_snapshot(std::vector<std::int64_t> ids) : ids_(std::move(ids)) { std::sort(ids_.begin(), ids_.end()); }

  const std::vector<std::int64_t>& ids() const noexcept { return ids_; }
  std::size_t size() const noexcept { return ids_.size(); }
  bool empty() const noexcept { return ids_.empty(); }
  bool contains(std::int64_t id) const noexcept { return std::binary_search(ids_.begin(), ids_.end(), id); }

 private:
  std::vector<std::int64_t> ids_;
};

// The ids of every goroutine alive now, the caller's included. Empty when no
// runtime runs.
leak_snapshot current_goroutines();

// Waits up to `grace` for every goroutine that is not in `baseline` and is
// not the caller to exit. Returns "" when they all did; otherwise a report in
// the dump format (goro::dump_goroutines) of those still alive:
//   goroutine 9 [chan receive]:
//   worker(goro::chan<int>)
//   	/src/app.cpp:17
//   created by main() in goroutine 1
//   	/src/app.cpp:30
// Callable from a goroutine (it sleeps between looks) or a plain thread.
// The runtime does its own work — timers, the network poller, the system
// monitor, signal delivery — on threads of its own, so a report only ever
// names goroutines some program code started.
std::string find_leaks(const leak_snapshot& baseline = {}, std::chrono::nanoseconds grace = std::chrono::seconds(1));

}  // namespace goro

namespace goro::detail {
// The hook goro/testing.hpp installs: while set, every goro::run checks for
// leaks when its function returns, as config::fail_on_leak does, and hands
// the report (headed "goro: N goroutine(s) leaked") to the hook. Returns
// the previous hook. Not for programs: use fail_on_leak.
using leak_hook = void (*)(const std::string& report);
leak_hook set_leak_hook(leak_hook hook) noexcept;
}  // namespace goro::detail
