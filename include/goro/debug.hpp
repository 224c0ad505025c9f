// goro/debug.hpp — goroutine dumps (Go's runtime.Stack(buf, true)).
#pragma once

#include <iosfwd>

namespace goro {

// Writes every goroutine in Go's traceback format:
//   goroutine 7 [chan receive]:
//   created by main() in goroutine 1
//   	/path/file.cpp:12
void dump_goroutines(std::ostream& out);

}  // namespace goro
