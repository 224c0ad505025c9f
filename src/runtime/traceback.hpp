// traceback.hpp — goroutine stack traces for dumps, panics and fatal errors.
#pragma once

#include <string>

#include "runtime/sched.hpp"

namespace goro::rt {

// Appends the stack of a goroutine that is not running, unwound from the
// context saved on its stack, one "function\n\tfile:line\n" pair per frame.
void append_parked_stack(std::string& out, G* g);
// Appends the calling thread's own stack (the running goroutine).
void append_current_stack(std::string& out);

}  // namespace goro::rt
