// goro/panic.hpp — the exception runtime misuse throws, with Go's message.
#pragma once

#include <stdexcept>
#include <string>

namespace goro {

// Thrown for runtime misuse that Go reports with a panic: "send on closed
// channel", "close of nil channel", "sync: negative WaitGroup counter", ...
// Escaping a goroutine it ends the process like any other exception.
class panic_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace goro
