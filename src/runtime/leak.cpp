// leak.cpp — goroutine leak detection (goro/leak.hpp).
//
// A look is one walk of the registry of G descriptors (sched.allg) under
// allg_lock: a goroutine counts when its descriptor is neither dead nor
// idle, its id is not in the baseline and it is not the caller. Ids are
// handed out by one counter per run, so an id in the baseline never names a
// later goroutine that reuses the same descriptor. find_leaks looks, and
// while something is left and the grace lasts, sleeps (1 ms, doubling up to
// 50 ms) and looks again; the report is written by the last look, in the
// dump's format (dump.cpp's append_goroutine), so a goroutine that exits
// between the looks is never reported.
//
// The end-of-run check (config::fail_on_leak, or goro/testing.hpp's hook)
// runs on goroutine 1 right after the run's function returns, before the
// runtime stops, and counts blocked goroutines only (parked, in a blocking
// call, or not started yet): when none is, it returns at once and the rest
// are discarded as usual — a runnable one may be about to touch the frame
// that just ended. While some are blocked, the others keep running for the
// grace, so one about to wake another lets it exit first.
#include <atomic>
#include <string>

#include "goro/leak.hpp"
#include "goro/time.hpp"
#include "runtime/debug.hpp"
#include "runtime/sched.hpp"
#include "runtime/traceback.hpp"

namespace goro::rt {

namespace {

std::atomic<detail::leak_hook> g_hook{nullptr};

// How long the end-of-run check waits for goroutines about to exit.
constexpr std::chrono::seconds kExitGrace{1};

// blocked_only: only goroutines parked, in a blocking call, or not started
// yet count (not one that is running or about to resume).
bool counts(G* g, G* self, const leak_snapshot& baseline, bool blocked_only) noexcept {
  GStatus st = g->status.load(std::memory_order_acquire);
  if (st == GStatus::dead || st == GStatus::idle || g == self) return false;
  if (blocked_only && st != GStatus::waiting && st != GStatus::syscall && !(st == GStatus::runnable && !g->started))
    return false;
  return !baseline.contains(g->id);
}

// One look: how many goroutines are left; with `report`, their dump.
int look(G* self, const leak_snapshot& baseline, bool blocked_only, std::string* report) {
  std::int64_t now = coarse_now();
  LockGuard l(sched.allg_lock);
  int n = 0;
  if (!report) {
    for (G* g = sched.allg; g; g = g->allnext) n += counts(g, self, baseline, blocked_only);
    return n;
  }
  Traceback tb;
  for (G* g = sched.allg; g; g = g->allnext) {
    if (!counts(g, self, baseline, blocked_only)) continue;
    std::size_t mark = report->size();
    if (n != 0) *report += '\n';
    if (append_goroutine(*report, tb, g, now)) ++n;
    else report->resize(mark);  // exited since counts() looked
  }
  return n;
}

}  // namespace

// find_leaks with the count of goroutines reported.
std::string find_leaks_counted(const leak_snapshot& baseline, std::chrono::nanoseconds grace, bool blocked_only,
                               int* count) {
  *count = 0;
  if (!sched.running.load(std::memory_order_acquire)) return {};
  G* self = current_g();
  auto deadline = std::chrono::steady_clock::now() + grace;
  std::chrono::nanoseconds pause = std::chrono::milliseconds(1);
  while (look(self, baseline, blocked_only, nullptr) != 0) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds::zero()) {
      std::string r;
      *count = look(self, baseline, blocked_only, &r);
      return r;
    }
    goro::sleep(pause < left ? pause : left);
    if (pause < std::chrono::milliseconds(50)) pause *= 2;
  }
  return {};
}

bool leak_check_at_exit_enabled() noexcept {
  return sched.fail_on_leak || g_hook.load(std::memory_order_acquire) != nullptr;
}

// Goroutine 1, right after the run's function returned (proc.cpp).
void check_leaks_at_exit() {
  detail::leak_hook hook = g_hook.load(std::memory_order_acquire);
  if (!sched.fail_on_leak && !hook) return;
  int n = 0;
  // Only blocked goroutines are leaks here (and ones not started yet): one
  // that is running or about to resume when the function returns is on its
  // way (and may still use the frame that just ended: it is not run again,
  // as when no check is asked for).
  // While some are blocked, everyone runs for the grace, so a goroutine
  // about to wake another lets it exit.
  std::string r = find_leaks_counted({}, kExitGrace, true, &n);
  if (n == 0) return;
  std::string s = "goro: " + std::to_string(n) + " goroutine(s) leaked\n\n" + r;
  if (hook) hook(s);
  if (sched.fail_on_leak) {
    write_stderr(s.data(), s.size());
    sched.exit_code = 1;
  }
}

}  // namespace goro::rt

namespace goro {

leak_snapshot current_goroutines() {
  std::vector<std::int64_t> ids;
  if (rt::sched.running.load(std::memory_order_acquire)) {
    const leak_snapshot none;
    rt::LockGuard l(rt::sched.allg_lock);
    for (rt::G* g = rt::sched.allg; g; g = g->allnext)
      if (rt::counts(g, nullptr, none, false)) ids.push_back(g->id);
  }
  return leak_snapshot(std::move(ids));
}

std::string find_leaks(const leak_snapshot& baseline, std::chrono::nanoseconds grace) {
  int n = 0;
  return rt::find_leaks_counted(baseline, grace, false, &n);
}

namespace detail {
leak_hook set_leak_hook(leak_hook hook) noexcept { return rt::g_hook.exchange(hook, std::memory_order_acq_rel); }
}  // namespace detail

}  // namespace goro
