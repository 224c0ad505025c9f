// debug.hpp — fatal errors, panics, and the signals the runtime handles.
#pragma once

#include <string>

#include "runtime/sched.hpp"

namespace goro::rt {

// Installs the process-wide handlers once (SIGSEGV/SIGBUS for stack
// overflow, chaining to any earlier handler for other faults).
void install_signal_handlers();
// Per-M: the alternate signal stack the overflow handler runs on.
void setup_thread_signals(M* m);
void teardown_thread_signals(M* m) noexcept;

// "goroutine 7 [chan receive]:" plus the creation site, in Go's format.
void append_goroutine_header(std::string& out, G* g, const char* state);
void append_created_by(std::string& out, G* g);
class Traceback;
// Appends one goroutine as the dump shows it (header with state and wait
// time, stack, creation site); false (nothing appended) when g is dead or
// idle. Called with sched.allg_lock held.
bool append_goroutine(std::string& out, Traceback& tb, G* g, std::int64_t now) GORO_REQUIRES(sched.allg_lock);
// Appends the goroutine dump (the caller's goroutine first; all: every one).
void append_dump(std::string& out, bool all);
std::int64_t coarse_now() noexcept;  // CLOCK_MONOTONIC_COARSE, a few ns per call
// Goroutine 1 after the run's function returned: config::fail_on_leak and
// goro/testing.hpp's hook (leak.cpp).
void check_leaks_at_exit();
bool leak_check_at_exit_enabled() noexcept;
// Checks for a deadlock (sched.cpp, the last M going idle): reports and
// exits when nothing can ever wake any goroutine.
void check_deadlock();
// The signal thread (signals.cpp): started by run(), stopped before it returns.
void signals_start();
void signals_stop() noexcept;
bool signals_registered() noexcept;
// Writes everything to stderr with write(2), retrying short writes.
void write_stderr(const char* s, std::size_t n) noexcept;

}  // namespace goro::rt
