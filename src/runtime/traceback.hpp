// traceback.hpp — goroutine stack traces for dumps, panics and fatal errors.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/sched.hpp"

namespace goro::rt {

// A symbolization session. Reading the process's modules (every ELF file
// /proc/self/maps names, and later their line tables) is what costs, so a
// dump opens one session and unwinds every goroutine with it: a dump of a
// thousand goroutines reads the modules once, not a thousand times.
// Sessions are used by one thread at a time; unwinding a parked goroutine
// takes the leaf lock that guards libdw's callbacks.
class Traceback {
 public:
  Traceback();
  ~Traceback();
  Traceback(const Traceback&) = delete;
  Traceback& operator=(const Traceback&) = delete;

  // Appends the stack of a goroutine that is not running, unwound from the
  // context saved on its stack, one "function\n\tfile:line\n" pair per frame.
  void parked(std::string& out, G* g);
  // Appends the calling thread's own stack (the running goroutine).
  void current(std::string& out);
  // A return address's function and "file:line" of its call ("module
  // pc=0x..." without line information; "?" and the bare address without
  // libdw). For an address that is no return address (a signal's
  // interrupted pc), pass it plus one.
  void symbolize(std::uintptr_t pc, std::string* function, std::string* where);

 private:
  struct State;  // libdw's session (opened on first use) and the symbolized addresses
  std::unique_ptr<State> st_;
};

}  // namespace goro::rt
