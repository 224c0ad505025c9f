// asan_test.cpp — AddressSanitizer understands goroutine stacks. Registered
// only in an AddressSanitizer build (GORO_SANITIZER=address): it runs the
// programs of asan_programs.cpp as child processes, on 1 and on 2
// processors. A stack-buffer-overflow on a goroutine's stack is reported
// with the goroutine's function in the frames; a busy, correct workload
// (switches, channels, exceptions, stacks reused) produces no report.
// LeakSanitizer does not report what goroutines discarded by run() still
// reference, and does report a real leak.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "child_process.hpp"

namespace {

using goro_tools::child_options;
using goro_tools::child_result;
using goro_tools::run_child;

class AsanTest : public testing::TestWithParam<int> {
 protected:
  child_result run(const char* program, std::vector<std::string> env = {}) {
    child_options o;
    o.env = std::move(env);
    o.timeout = std::chrono::seconds(100);
    return run_child({GORO_ASAN_PROGRAMS, program, std::to_string(GetParam())}, o);
  }
};

TEST_P(AsanTest, StackBufferOverflowInAGoroutineIsReported) {
  child_result r = run("stack_overflow");
  EXPECT_FALSE(r.timed_out) << r.describe();
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("ERROR: AddressSanitizer: stack-buffer-overflow"), std::string::npos) << r.describe();
  // The faulting frame is the goroutine's function.
  //   #0 0x... in overflow_the_buffer .../asan_programs.cpp:31
  EXPECT_NE(r.err.find("#0 "), std::string::npos) << r.describe();
  const std::string frame0 = r.err.substr(r.err.find("#0 "), r.err.find('\n', r.err.find("#0 ")) - r.err.find("#0 "));
  EXPECT_NE(frame0.find("overflow_the_buffer"), std::string::npos) << r.describe();
  EXPECT_NE(frame0.find("asan_programs.cpp:"), std::string::npos) << r.describe();
  // ... called by the goroutine's lambda.
  const std::size_t at1 = r.err.find("#1 ");
  ASSERT_NE(at1, std::string::npos) << r.describe();
  EXPECT_NE(r.err.substr(at1, r.err.find('\n', at1) - at1).find("asan_programs.cpp:"), std::string::npos)
      << r.describe();
}

TEST_P(AsanTest, BusyWorkloadIsClean) {
  child_result r = run("workload");
  EXPECT_FALSE(r.timed_out) << r.describe();
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.err.find("AddressSanitizer"), std::string::npos) << r.describe();
  EXPECT_EQ(r.err.find("LeakSanitizer"), std::string::npos) << r.describe();
  EXPECT_EQ(r.err.find("runtime error:"), std::string::npos) << "UBSan: " << r.describe();
  EXPECT_NE(r.out.find("total "), std::string::npos) << r.describe();
}

TEST_P(AsanTest, WhatDiscardedGoroutinesReferenceIsNotALeak) {
  // Also with fake stacks, where the locals whose address is taken live.
  for (const char* uar : {"0", "1"}) {
    child_result r = run("discarded", {std::string("ASAN_OPTIONS=detect_stack_use_after_return=") + uar});
    EXPECT_FALSE(r.timed_out) << r.describe();
    EXPECT_EQ(r.exit_code, 0) << "detect_stack_use_after_return=" << uar << ": " << r.describe();
    EXPECT_EQ(r.err.find("LeakSanitizer"), std::string::npos) << r.describe();
    EXPECT_EQ(r.err.find("AddressSanitizer"), std::string::npos) << r.describe();
    EXPECT_EQ(r.err.find("runtime error:"), std::string::npos) << "UBSan: " << r.describe();
  }
}

TEST_P(AsanTest, ARealLeakIsStillReported) {
  child_result r = run("leak");
  EXPECT_FALSE(r.timed_out) << r.describe();
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("ERROR: LeakSanitizer: detected memory leaks"), std::string::npos) << r.describe();
  // The array, allocated by leak_ints, and nothing the discarded goroutines
  // hold.
  EXPECT_NE(r.err.find("leak_ints"), std::string::npos) << r.describe();
  EXPECT_EQ(r.err.find("hold_and_block"), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find("SUMMARY: AddressSanitizer: 400 byte(s) leaked in 1 allocation(s)."), std::string::npos)
      << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Procs, AsanTest, testing::Values(1, 2),
                         [](const testing::TestParamInfo<int>& i) { return "procs" + std::to_string(i.param); });

}  // namespace
