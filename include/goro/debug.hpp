// goro/debug.hpp — goroutine dumps (Go's runtime.Stack(buf, true)) and the
// goroutine profile (pprof).
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

}  // namespace goro
