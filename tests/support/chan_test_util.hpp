// chan_test_util.hpp — helpers shared by the channel, select and sync tests.
//
// Blocking is observed, never timed: a goroutine that must block is watched
// in the goroutine dump until it shows the expected wait state (Go's state
// names: "chan receive (nil chan)", "select (no cases)", "semacquire", ...).
// Once a goroutine is parked on something nothing can complete, it stays
// parked, so seeing it parked is the proof.
#pragma once

#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <thread>
#include <sstream>
#include <string>
#include <string_view>

#include "test_support.hpp"

namespace goro_test {

// Procs for parameterized suites: every test runs with 1, 2 and 4 processors.
inline std::string procs_name(const testing::TestParamInfo<int>& info) { return "procs" + std::to_string(info.param); }

// A state without the wait time Go appends once a goroutine has been parked
// for a minute ("chan receive, 2 minutes" -> "chan receive"): a slow run may
// get there.
inline std::string_view without_wait_time(std::string_view state) {
  const std::size_t comma = state.rfind(", ");
  if (comma == std::string_view::npos) return state;
  std::string_view rest = state.substr(comma + 2);
  std::size_t i = 0;
  while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
  rest = rest.substr(i);
  return i > 0 && (rest == " minute" || rest == " minutes") ? state.substr(0, comma) : state;
}

inline std::string goroutine_dump() {
  std::ostringstream os;
  goro::dump_goroutines(os);
  return os.str();
}

// The state goroutine `id` shows in the dump ("" if it is not listed),
// without the wait time.
inline std::string goroutine_state(std::int64_t id) {
  const std::string dump = goroutine_dump();
  const std::string head = "goroutine " + std::to_string(id) + " [";
  std::size_t at = 0;
  while ((at = dump.find(head, at)) != std::string::npos) {
    if (at == 0 || dump[at - 1] == '\n') {
      std::size_t b = at + head.size();
      std::size_t e = dump.find("]:", b);
      if (e == std::string::npos) return "";
      return std::string(without_wait_time(std::string_view(dump).substr(b, e - b)));
    }
    at += head.size();
  }
  return "";
}

// Yields (from a goroutine) or spins (from a plain thread) until goroutine
// `id` is parked in `state`. False when the bail-out expires: the goroutine
// never got there, which is the failure the caller reports.
inline bool wait_until_parked(std::int64_t id, std::string_view state,
                              std::chrono::seconds limit = std::chrono::seconds(60)) {
  bailout b(limit);
  while (!b.expired()) {
    if (goroutine_state(id) == state) return true;
    goro::yield();
  }
  ADD_FAILURE() << "goroutine " << id << " never parked in [" << state << "]; it shows [" << goroutine_state(id)
                << "]\n"
                << goroutine_dump();
  return false;
}

// How many goroutines the dump shows in `state` (the wait time allowed).
inline int count_in_state(std::string_view state) {
  const std::string dump = goroutine_dump();
  const std::string tag = " [" + std::string(state);
  int n = 0;
  for (std::size_t at = 0; (at = dump.find(tag, at)) != std::string::npos; at += tag.size()) {
    const std::size_t b = at + 2, e = dump.find("]:", b);
    if (e != std::string::npos && dump.find('\n', b) > e &&
        without_wait_time(std::string_view(dump).substr(b, e - b)) == state)
      ++n;
  }
  return n;
}

// Yields until at least `n` goroutines are parked in `state`.
inline bool wait_until_count_parked(int n, std::string_view state,
                                    std::chrono::seconds limit = std::chrono::seconds(60)) {
  bailout b(limit);
  while (!b.expired()) {
    if (count_in_state(state) >= n) return true;
    goro::yield();
  }
  ADD_FAILURE() << "only " << count_in_state(state) << " of " << n << " goroutines parked in [" << state << "]\n"
                << goroutine_dump();
  return false;
}

// The calling thread's kernel id.
inline long this_thread_tid() { return static_cast<long>(::syscall(SYS_gettid)); }

// Is thread `tid` of this process asleep in futex(2) — the way goro blocks a
// plain thread? (/proc/self/task/<tid>/stat says S, .../syscall names futex.)
inline bool thread_blocked_in_futex(long tid) {
  const std::string dir = "/proc/self/task/" + std::to_string(tid);
  std::ifstream stat(dir + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const std::size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'S') return false;
  std::ifstream sc(dir + "/syscall");
  long nr = -1;
  return static_cast<bool>(sc >> nr) && nr == SYS_futex;
}

// Yields (or, on a plain thread, sleeps a little) until plain thread `tid`
// blocks in futex(2); false (after reporting) when the bail-out expires.
inline bool wait_until_thread_blocks(long tid, std::chrono::seconds limit = std::chrono::seconds(60)) {
  bailout b(limit);
  while (!b.expired()) {
    if (thread_blocked_in_futex(tid)) return true;
    if (goro::this_goroutine::id() != 0) goro::yield();
    else std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ADD_FAILURE() << "thread " << tid << " never blocked";
  return false;
}

// Yields until pred() holds; false (after reporting) when the bail-out expires.
template <class Pred>
bool yield_until(Pred pred, const char* what, std::chrono::seconds limit = std::chrono::seconds(60)) {
  bailout b(limit);
  while (!pred()) {
    if (b.expired()) {
      ADD_FAILURE() << "never happened: " << what << "\n" << goroutine_dump();
      return false;
    }
    goro::yield();
  }
  return true;
}

}  // namespace goro_test
