// test_support.hpp — helpers shared by goro's tests.
#pragma once

#include <chrono>
#include <cstdlib>
#include <string_view>

namespace goro_test {

// True when GORO_TEST_SCALE=small (sanitizer builds): tests cut their
// goroutine counts and rounds, they never skip.
inline bool small_scale() {
  const char* s = std::getenv("GORO_TEST_SCALE");
  return s && std::string_view(s) == "small";
}

// `full` normally, `small` under GORO_TEST_SCALE=small.
template <class T>
T scaled(T full, T small) {
  return small_scale() ? small : full;
}

// A generous bail-out for loops that wait for the scheduler to do something
// (never a timing assertion: reaching it means the runtime is stuck).
class bailout {
 public:
  explicit bailout(std::chrono::seconds limit = std::chrono::seconds(30))
      : end_(std::chrono::steady_clock::now() + limit) {}
  bool expired() const { return std::chrono::steady_clock::now() > end_; }

 private:
  std::chrono::steady_clock::time_point end_;
};

}  // namespace goro_test
