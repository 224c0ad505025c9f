// trace.hpp — the execution tracer's hooks in the scheduler (trace.cpp).
//
// Each hook is called only while trace_on is set (the callers test it with
// one relaxed load, so tracing costs nothing measurable while off).
#pragma once

#include <atomic>

#include "runtime/sched.hpp"

namespace goro::rt {

extern std::atomic<bool> trace_on;

// g starts running on m (and m->p): opens its slice, ends a wake-up flow.
void trace_begin(M* m, G* g) noexcept;
// g stops running on m; `why` is the end reason shown with the slice.
void trace_end(M* m, G* g, const char* why) noexcept;
// The caller made g runnable: starts a wake-up flow at the caller's track.
void trace_wake(G* g) noexcept;
// m is being deleted (teardown): its event buffer goes back to the pool.
void trace_thread_exit(M* m) noexcept;

}  // namespace goro::rt
