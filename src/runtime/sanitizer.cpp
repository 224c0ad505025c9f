// sanitizer.cpp — goroutine switches for ThreadSanitizer and AddressSanitizer.
// Compiled empty unless the runtime is built with one of them.
#include "runtime/sanitizer.hpp"
