// goro/debug.hpp — goroutine dumps (Go's runtime.Stack(buf, true)), the
// goroutine profile and the CPU profile (pprof).
#pragma once

#include <iosfwd>

namespace goro {

// Writes every goroutine in Go's traceback format:
//   goroutine 7 [chan receive]:
//   created by main() in goroutine 1
//   	/path/file.cpp:12
void dump_goroutines(std::ostream& out);

// Writes the goroutine profile (Go's pprof.Lookup("goroutine").WriteTo(w, 0)):
// one sample per distinct stack, valued by how many goroutines have it, in
// pprof's protobuf format, gzipped, for `go tool pprof`. With no runtime
// running it writes a valid profile with no samples.
void write_goroutine_profile(std::ostream& out);

// pprof.StartCPUProfile(w): samples every thread that runs goroutines about
// 100 times a second of its CPU time (each thread's own CPU clock, so an idle
// thread costs nothing) until stop_cpu_profile, which writes the CPU profile
// to `out` — pprof's protobuf format, gzipped, for `go tool pprof`. Each
// sample carries the labels `goroutine` (the running goroutine's id) and
// `name` (its spawn_options name, when it has one), so
//   go tool pprof -tagfocus name=worker prof.pb.gz
// shows one kind of goroutine's work. A profile may span several runs, and
// may start before one. Throws std::logic_error("cpu profiling already in
// use") while one runs. `out` must live until stop_cpu_profile.
void start_cpu_profile(std::ostream& out);
// Stops the profile and writes it; does nothing when none runs.
void stop_cpu_profile();

}  // namespace goro
