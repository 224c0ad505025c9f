// goro/trace.hpp — the execution tracer (Go's runtime/trace).
//
//   goro::trace::start("/tmp/run.json");
//   ... the program runs ...
//   goro::trace::stop();   // writes the file
//
// The file is a Chrome Trace Event JSON timeline, opened by Perfetto
// (ui.perfetto.dev) or chrome://tracing: one track per processor (P) and one
// per OS thread (M), a slice for every stretch a goroutine ran (named after
// the goroutine, its end reason in the slice's arguments: "chan receive",
// "sleep", "yield", "exit", ...), and a flow arrow from the goroutine that
// woke another to the slice where the woken one next runs. Tracing may
// start before run() and stop after it; while it is off, the scheduler pays
// one relaxed load per switch.
#pragma once

#include <string>

namespace goro::trace {

// Starts recording; events are kept in memory until stop(). Throws
// std::logic_error if tracing is already on, std::system_error if the file
// cannot be created (it is created here, written by stop()).
void start(const std::string& path);
// Stops recording and writes the file. Does nothing if tracing is off.
void stop() noexcept;
// Whether a trace is being recorded.
bool enabled() noexcept;

}  // namespace goro::trace
