// sigquit_test.cpp — SIGQUIT (Go's ^\): a program with 1,000 goroutines (200
// under GORO_TEST_SCALE=small) in assorted states prints `SIGQUIT: quit` and
// every goroutine's header with its state (the wait time ", W minutes" that
// follows it once a goroutine has waited a minute is allowed: a sanitizer
// build on a busy machine gets there), and exits with status 2. The program
// (scenarios.cpp, sigquit_1000) lists "g <id> <state>" for each goroutine and
// "ready" on stdout; then the test sends the signal.
#include <gtest/gtest.h>

#include <signal.h>

#include <map>
#include <sstream>
#include <string>

#include "child_process.hpp"
#include "test_support.hpp"

namespace {

using goro_tools::child_options;
using goro_tools::child_result;
using goro_tools::count_of;
using goro_tools::run_child;

class SigquitTest : public testing::TestWithParam<int> {};

TEST_P(SigquitTest, ThousandGoroutinesInAssortedStates) {
  bool sent = false;
  child_options o;
  o.timeout = std::chrono::seconds(100);
  o.on_stdout = [&](pid_t pid, const std::string& out) {
    if (!sent && out.find("ready\n") != std::string::npos) {
      sent = true;
      ::kill(pid, SIGQUIT);
    }
  };
  child_result r = run_child({GORO_TOOLS_SCENARIOS, "sigquit_1000", std::to_string(GetParam())}, o);
  ASSERT_TRUE(sent) << "the program never got ready: " << r.describe();
  EXPECT_FALSE(r.timed_out) << r.describe();
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_EQ(r.err.rfind("SIGQUIT: quit\n\ngoroutine ", 0), 0u) << r.describe();
  EXPECT_EQ(r.err.find("deadlock"), std::string::npos) << r.describe();

  // Every goroutine the program listed shows with its state.
  std::map<long, std::string> expected;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("g ", 0) != 0) continue;
    auto sp = line.find(' ', 2);
    expected[std::stol(line.substr(2, sp - 2))] = line.substr(sp + 1);
  }
  // 1,000 goroutines; 200 under GORO_TEST_SCALE=small (scenarios.cpp).
  const std::size_t n = goro_test::scaled<std::size_t>(1000, 200);
  ASSERT_EQ(expected.size(), n) << "the program lists " << n << " distinct goroutine ids";
  int wrong = 0;
  std::string first_wrong;
  for (const auto& [id, state] : expected) {
    if (!goro_tools::has_header(r.err, id, state.c_str())) {
      if (++wrong <= 10) {
        // What the dump says about it instead.
        const std::string any = "\ngoroutine " + std::to_string(id) + " [";
        auto at = r.err.find(any);
        first_wrong += "  goroutine " + std::to_string(id) + ": expected [" + state + "], dump has " +
                       (at == std::string::npos ? std::string("nothing")
                                                : r.err.substr(at + 1, r.err.find('\n', at + 1) - at - 1)) +
                       "\n";
      }
    }
  }
  EXPECT_EQ(wrong, 0) << "goroutines missing or in the wrong state:\n" << first_wrong;
  EXPECT_TRUE(goro_tools::has_header(r.err, 1, "sync.WaitGroup.Wait")) << "main goroutine";
  // The n goroutines and main (the runtime may have a few of its own).
  EXPECT_GE(count_of(r.err, "\ngoroutine ") + 1, n + 1);
  std::printf("SIGQUIT dump: %zu bytes, child ran %.2f s\n", r.err.size(), r.seconds);
}

INSTANTIATE_TEST_SUITE_P(Procs, SigquitTest, testing::Values(1, 2),
                         [](const testing::TestParamInfo<int>& i) { return "procs" + std::to_string(i.param); });

}  // namespace
