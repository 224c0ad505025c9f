// dump.cpp — goroutine dumps from the registry of every G descriptor.
//
// Format (Go's traceback): a header "goroutine N [state, W minutes]:", the
// goroutine's frames, then "created by F in goroutine P" and the creation
// site. Parked goroutines are unwound from their saved context; the
// goroutine calling the dump shows its own stack; goroutines running on
// other threads show their header only.
#include <ostream>
#include <string>
#include <time.h>

#include "goro/debug.hpp"
#include "runtime/debug.hpp"
#include "runtime/sched.hpp"
#include "runtime/traceback.hpp"

namespace goro::rt {

std::int64_t coarse_now() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool append_goroutine(std::string& s, Traceback& tb, G* g, std::int64_t now) GORO_REQUIRES(sched.allg_lock) {
  GStatus st = g->status.load(std::memory_order_acquire);
  std::string state;
  switch (st) {
    case GStatus::dead:
    case GStatus::idle: return false;
    case GStatus::runnable: state = "runnable"; break;
    case GStatus::running: state = "running"; break;
    case GStatus::syscall: state = "syscall"; break;
    case GStatus::waiting: {
      state = wait_reason_string(g->reason);
      std::int64_t mins = g->wait_since ? (now - g->wait_since) / 60'000'000'000 : 0;
      if (mins >= 1) state += ", " + std::to_string(mins) + (mins == 1 ? " minute" : " minutes");
      break;
    }
  }
  append_goroutine_header(s, g, state.c_str());
  if (st == GStatus::waiting || (st == GStatus::runnable && g->started)) tb.parked(s, g);
  append_created_by(s, g);
  return true;
}

void append_dump(std::string& s, bool all) {
  G* self = current_g();
  std::int64_t now = coarse_now();
  LockGuard l(sched.allg_lock);
  Traceback tb;  // one symbolization session for every stack
  bool first = true;
  // The caller first, as Go prints the current goroutine first.
  if (self) {
    first = false;
    append_goroutine_header(s, self, "running");
    tb.current(s);
    append_created_by(s, self);
  }
  if (!all) return;
  for (G* g = sched.allg; g; g = g->allnext) {
    if (g == self) continue;
    std::size_t mark = s.size();
    if (!first) s += '\n';
    if (append_goroutine(s, tb, g, now)) first = false;
    else s.resize(mark);
  }
}

}  // namespace goro::rt

namespace goro {

void dump_goroutines(std::ostream& out) {
  std::string s;
  rt::append_dump(s, true);
  out << s;
}

}  // namespace goro
