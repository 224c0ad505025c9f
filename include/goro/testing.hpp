// goro/testing.hpp — GoogleTest support: a test that leaves goroutines
// behind fails, naming each one and the line that started it.
//
//   int main(int argc, char** argv) {
//     ::testing::InitGoogleTest(&argc, argv);
//     ::testing::AddGlobalTestEnvironment(new goro::testing::leak_check);
//     return RUN_ALL_TESTS();
//   }
//
// While the environment is installed, every goro::run of the binary checks,
// when its function returns, that no other goroutine is still blocked (after
// a grace of up to a second in which those about to be woken may exit; a
// clean run pays nothing) and otherwise fails the running test with the
// report, headed "goro: N goroutine(s) leaked". A test that leaves goroutines on
// purpose — to check that run discards them — says so with allow_leaks.
// Header-only: goro itself does not depend on GoogleTest.
#pragma once

#include <gtest/gtest.h>

#include <goro/leak.hpp>
#include <string>
#include <thread>

namespace goro::testing {

class leak_check : public ::testing::Environment {
 public:
  void SetUp() override { prev_ = goro::detail::set_leak_hook(&fail); }
  void TearDown() override { goro::detail::set_leak_hook(prev_); }

 private:
  // Called on goroutine 1, which may have moved between threads: GoogleTest
  // keeps per-thread state, so the failure is added from a thread of its own.
  static void fail(const std::string& report) {
    std::thread([&report] { ADD_FAILURE() << report; }).join();
  }
  goro::detail::leak_hook prev_ = nullptr;
};

// In scope, goro::run does not check for leaks (goroutines still alive when
// its function returns are discarded, as in a Go program's exit).
class allow_leaks {
 public:
  allow_leaks() noexcept : prev_(goro::detail::set_leak_hook(nullptr)) {}
  ~allow_leaks() { goro::detail::set_leak_hook(prev_); }
  allow_leaks(const allow_leaks&) = delete;
  allow_leaks& operator=(const allow_leaks&) = delete;

 private:
  goro::detail::leak_hook prev_;
};

}  // namespace goro::testing
