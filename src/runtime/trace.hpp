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
// g stops running on m; `why` is the end reason shown with the slice;
// io_wait: it parks on the network poller (its wait is a slice of its own).
void trace_end(M* m, G* g, const char* why, bool io_wait = false) noexcept;
// The caller made g runnable (ready(), or the poller): starts a wake-up
// flow at the caller's track, and ends g's IO wait if it was in one.
void trace_wake(G* g) noexcept;
// g, running on m, enters a blocking() call on P p (which m gives up):
// its slice on p's track ends; on m's track a "blocking" slice begins.
void trace_block_begin(M* m, G* g, P* p) noexcept;
// g's blocking() call returned; m holds a P again, or none (the goroutine
// then waits for one: its slice ends).
void trace_block_end(M* m, G* g) noexcept;
// m is being deleted (teardown): its event buffer goes back to the pool.
void trace_thread_exit(M* m) noexcept;

}  // namespace goro::rt
