// tsan_test.cpp — the race detector understands goroutines (Go's
// `go test -race`). Registered only in a ThreadSanitizer build
// (GORO_SANITIZER=thread): it runs the programs of race_programs.cpp, built
// with -fsanitize=thread, as child processes with
// TSAN_OPTIONS="halt_on_error=0 exitcode=66", each on 1 and on 2 processors.
//
// On one processor the goroutines of a racy program share one thread: only
// goro's fiber switches (which are not happens-before edges) let TSan tell
// them apart. Correct programs synchronize through goro only, and must be
// reported clean: a report there is a false positive of goro's annotations.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "child_process.hpp"

namespace {

using goro_tools::child_options;
using goro_tools::child_result;
using goro_tools::count_of;
using goro_tools::run_child;

constexpr const char* kWarning = "WARNING: ThreadSanitizer:";
constexpr const char* kDataRace = "WARNING: ThreadSanitizer: data race";

class TsanTest : public testing::TestWithParam<int> {
 protected:
  child_result run(const char* program) {
    child_options o;
    o.env = {"TSAN_OPTIONS=halt_on_error=0 exitcode=66"};
    o.timeout = std::chrono::seconds(100);
    return run_child({GORO_RACE_PROGRAMS, program, std::to_string(GetParam())}, o);
  }

  static void expect_race(const child_result& r) {
    EXPECT_FALSE(r.timed_out) << r.describe();
    EXPECT_EQ(r.exit_code, 66) << r.describe();
    EXPECT_NE(r.err.find(kDataRace), std::string::npos) << r.describe();
  }

  static void expect_clean(const child_result& r) {
    EXPECT_FALSE(r.timed_out) << r.describe();
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.err.find(kWarning), std::string::npos) << "false positive: " << r.describe();
  }

  // The source lines the program printed ("line N").
  static std::vector<int> lines(const child_result& r) {
    std::vector<int> v;
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);)
      if (l.rfind("line ", 0) == 0) v.push_back(std::stoi(l.substr(5)));
    return v;
  }

  // How many stack frames of the report point at race_programs.cpp:line.
  static long frames_at(const child_result& r, int line) {
    return static_cast<long>(goro_tools::count_location(r.err, "race_programs.cpp", line));
  }
};

// ---------------------------------------------------------------------------
// Races are reported, with both goroutines' stacks.

TEST_P(TsanTest, RacyCounterFromTheSeedsIsReported) {
  child_result r = run("racy_counter");
  expect_race(r);
  std::vector<int> l = lines(r);
  ASSERT_EQ(l.size(), 1u) << r.describe();
  // The current access and the previous one: the lambda's line in both.
  EXPECT_GE(frames_at(r, l[0]), 2) << "line " << l[0] << ": " << r.describe();
  EXPECT_NE(r.err.find("Previous"), std::string::npos) << r.describe();
}

TEST_P(TsanTest, WithdrawUnsafeIsReported) {
  child_result r = run("bank_unsafe");
  expect_race(r);
  EXPECT_GE(count_of(r.err, "WithdrawUnsafe"), 2u) << r.describe();
  std::vector<int> l = lines(r);
  ASSERT_EQ(l.size(), 2u) << r.describe();
  EXPECT_GE(frames_at(r, l[0]) + frames_at(r, l[1]), 2) << r.describe();
}

// ---------------------------------------------------------------------------
// Correct programs are not.

TEST_P(TsanTest, WithdrawSafeIsClean) { expect_clean(run("bank_safe")); }
TEST_P(TsanTest, CounterBehindAMutexIsClean) { expect_clean(run("mutex_counter")); }
TEST_P(TsanTest, AtomicCounterIsClean) { expect_clean(run("atomic_counter")); }
TEST_P(TsanTest, CounterPassedThroughAChannelIsClean) { expect_clean(run("chan_counter")); }
TEST_P(TsanTest, SumThroughAChannelIsClean) { expect_clean(run("chan_sum")); }
TEST_P(TsanTest, UnbufferedChannelHandoffIsClean) { expect_clean(run("chan_unbuffered")); }
TEST_P(TsanTest, BufferedChannelHandoffIsClean) { expect_clean(run("chan_buffered")); }
TEST_P(TsanTest, WriteBeforeCloseIsClean) { expect_clean(run("chan_close")); }
TEST_P(TsanTest, SelectHandoffIsClean) { expect_clean(run("select")); }
TEST_P(TsanTest, WaitGroupHandoffIsClean) { expect_clean(run("wait_group")); }
TEST_P(TsanTest, OnceHandoffIsClean) { expect_clean(run("once")); }
TEST_P(TsanTest, ContextCancelHandoffIsClean) { expect_clean(run("context_cancel")); }
TEST_P(TsanTest, GoStatementHandoffIsClean) { expect_clean(run("go_statement")); }
TEST_P(TsanTest, RwMutexIsClean) { expect_clean(run("rw_mutex")); }
TEST_P(TsanTest, CondHandoffIsClean) { expect_clean(run("cond")); }
TEST_P(TsanTest, SemaphoreCounterIsClean) { expect_clean(run("semaphore")); }
TEST_P(TsanTest, ErrgroupHandoffIsClean) { expect_clean(run("errgroup")); }
TEST_P(TsanTest, GoroutineChurnIsClean) { expect_clean(run("churn")); }

// Goroutine fibers are reused, but a goroutine started after another one
// finished is not ordered after it: their race is reported.
TEST_P(TsanTest, RaceWithAFinishedGoroutineIsReported) {
  child_result r = run("race_with_finished");
  expect_race(r);
  std::vector<int> l = lines(r);
  ASSERT_EQ(l.size(), 1u) << r.describe();
  EXPECT_GE(frames_at(r, l[0]), 1) << "line " << l[0] << ": " << r.describe();
}
TEST_P(TsanTest, RaceWithAFinishedGoroutineAfterChurnIsReported) {
  child_result r = run("race_with_finished_after_churn");
  expect_race(r);
  std::vector<int> l = lines(r);
  ASSERT_EQ(l.size(), 1u) << r.describe();
  EXPECT_GE(frames_at(r, l[0]), 1) << "line " << l[0] << ": " << r.describe();
}

// 20,000 goroutines blocked at once, then two 10-ary trees of 111,111
// goroutines. GCC 12's libtsan dies above 8128 live fibers ("Thread limit
// (8128 threads) exceeded"; the README states it), so only where the
// runtime has no such limit (Clang's).
#if defined(__clang__)
TEST_P(TsanTest, ManyLiveGoroutinesAreClean) { expect_clean(run("many_live")); }
#endif

// Goroutines parked on a mutex, a wait_group, a semaphore, select{}, a
// sleep and a nil channel when run() returns: the caller then rewrites what
// they wrote.
TEST_P(TsanTest, DiscardedGoroutinesHappenBeforeRunReturns) { expect_clean(run("discarded")); }

INSTANTIATE_TEST_SUITE_P(Procs, TsanTest, testing::Values(1, 2),
                         [](const testing::TestParamInfo<int>& i) { return "procs" + std::to_string(i.param); });

}  // namespace
