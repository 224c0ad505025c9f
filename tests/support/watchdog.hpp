// watchdog.hpp — turns a hung test into a prompt, named failure.
//
// Included by the time, context and net tests. A runtime hang (a lost
// wake-up, a deadlocked M that run() then joins forever) would otherwise
// only end at ctest's 120 s timeout. Each test arms alarm(2); if it is
// still running when SIGALRM arrives, the handler prints its name and
// sends the process SIGQUIT, whose handler (the runtime's signal thread,
// while a run is active) prints every goroutine's dump and exits with
// status 2; if the process is still there 10 s later, it exits with
// status 3. No thread of its own: an extra plain thread would make the
// runtime's deadlock detector give up.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>

namespace goro_test {

class watchdog : public testing::EmptyTestEventListener {
 public:
  static constexpr unsigned kLimitSeconds = 60;

  void OnTestStart(const testing::TestInfo& info) override {
    static bool installed = [] {
      struct sigaction sa {};
      sa.sa_handler = &on_alarm;
      sigemptyset(&sa.sa_mask);
      sigaction(SIGALRM, &sa, nullptr);
      return true;
    }();
    (void)installed;
    std::snprintf(msg_, sizeof msg_, "\nwatchdog: %s.%s still running after %u s (the runtime hangs)\n",
                  info.test_suite_name(), info.name(), kLimitSeconds);
    alarm(kLimitSeconds);
  }
  void OnTestEnd(const testing::TestInfo&) override { alarm(0); }

 private:
  static void on_alarm(int) {
    if (fired_) _exit(3);
    fired_ = 1;
    ssize_t r = ::write(2, msg_, std::strlen(msg_));
    (void)r;
    alarm(10);
    ::kill(::getpid(), SIGQUIT);  // the goroutine dump
  }
  static inline volatile sig_atomic_t fired_ = 0;
  static inline char msg_[512] = "";
};

// Installed once per test executable, before main runs the tests.
inline const bool watchdog_installed = [] {
  testing::UnitTest::GetInstance()->listeners().Append(new watchdog);
  return true;
}();

}  // namespace goro_test
