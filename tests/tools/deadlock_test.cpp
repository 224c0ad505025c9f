// deadlock_test.cpp — the deadlock detector (Go's "all goroutines are
// asleep"), run on the programs in scenarios.cpp as child processes, each
// with 1 and with 2 processors.
//
// A deadlock must be reported: `fatal error: all goroutines are asleep -
// deadlock!`, then every goroutine with its wait reason, exit status 2. And
// it must never be reported while something outside the goroutines can still
// wake one of them: a sleeping goroutine, a timer or a context deadline, a
// plain thread, another process connecting to a socket a goroutine waits
// on, a goroutine inside blocking(), a registered signal. Once that source
// is gone and everything is blocked, the report must come after all.
#include <gtest/gtest.h>

#include <string>

#include "child_process.hpp"

namespace {

using goro_tools::child_options;
using goro_tools::child_result;
using goro_tools::count_of;
using goro_tools::run_child;

constexpr const char* kFatal = "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine ";

class DeadlockTest : public testing::TestWithParam<int> {
 protected:
  child_result run(const char* scenario) {
    child_options o;
    o.timeout = std::chrono::seconds(30);
    return run_child({GORO_TOOLS_SCENARIOS, scenario, std::to_string(GetParam())}, o);
  }

  // The child reported a deadlock and nothing else went wrong.
  static void expect_report(const child_result& r) {
    EXPECT_FALSE(r.timed_out) << "no deadlock report: " << r.describe();
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find(kFatal), std::string::npos) << r.describe();
    EXPECT_EQ(count_of(r.err, "fatal error:"), 1u) << r.describe();
  }

  // The child finished by itself: no report, status 0, "ok" printed.
  static void expect_no_report(const child_result& r) {
    EXPECT_FALSE(r.timed_out) << r.describe();
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.err.find("deadlock"), std::string::npos) << "false deadlock report: " << r.describe();
    EXPECT_NE(r.out.find("ok\n"), std::string::npos) << r.describe();
  }

  // How many goroutine headers with this state the report has.
  static std::size_t headers(const child_result& r, const char* state) {
    return goro_tools::count_headers(r.err, state);
  }
};

// ---------------------------------------------------------------------------
// Deadlocks are reported.

TEST_P(DeadlockTest, SelfDeadlockFromTheSeeds) {
  child_result r = run("self_deadlock");
  expect_report(r);
  EXPECT_TRUE(goro_tools::has_header(r.err, 1, "chan send")) << r.describe();
  EXPECT_EQ(r.out, "");
  // With libdw the frames name the function that blocked.
  if (r.err.find("build with libdw") == std::string::npos) {
    EXPECT_NE(r.err.find("self_deadlock"), std::string::npos) << r.describe();
  }
}

TEST_P(DeadlockTest, CircularDeadlockFromTheSeeds) {
  child_result r = run("circular");
  expect_report(r);
  EXPECT_TRUE(goro_tools::has_header(r.err, 1, "sync.WaitGroup.Wait")) << r.describe();
  EXPECT_EQ(headers(r, "chan receive"), 2u) << r.describe();
  // Both goroutines name where main created them:
  //   created by void {anonymous}::circular() in goroutine 1
  //   	.../scenarios.cpp:97
  int created = 0;
  for (const auto& c : goro_tools::created_by_entries(r.err)) {
    EXPECT_NE(c.line.find("circular"), std::string_view::npos) << c.line;
    EXPECT_TRUE(c.line.size() > 15 && c.line.substr(c.line.size() - 15) == " in goroutine 1") << c.line;
    EXPECT_TRUE(c.location.substr(0, 1) == "\t" && c.location.find("scenarios.cpp:") != std::string_view::npos)
        << c.location;
    ++created;
  }
  EXPECT_EQ(created, 2) << r.describe();
}

TEST_P(DeadlockTest, CircularDeadlockBothSending) {
  child_result r = run("circular_send");
  expect_report(r);
  EXPECT_EQ(headers(r, "chan send"), 2u) << r.describe();
  EXPECT_TRUE(goro_tools::has_header(r.err, 1, "sync.WaitGroup.Wait")) << r.describe();
}

TEST_P(DeadlockTest, GoroutineSendingToNobody) {
  child_result r = run("goroutine_send");
  expect_report(r);
  EXPECT_EQ(headers(r, "chan send"), 1u) << r.describe();
  EXPECT_TRUE(goro_tools::has_header(r.err, 1, "sync.WaitGroup.Wait")) << r.describe();
}

TEST_P(DeadlockTest, ReceiveOnNilChannel) {
  child_result r = run("nil_recv");
  expect_report(r);
  EXPECT_TRUE(goro_tools::has_header(r.err, 1, "chan receive (nil chan)")) << r.describe();
}

TEST_P(DeadlockTest, SendOnNilChannel) {
  child_result r = run("nil_send");
  expect_report(r);
  EXPECT_TRUE(goro_tools::has_header(r.err, 1, "chan send (nil chan)")) << r.describe();
}

TEST_P(DeadlockTest, SelectWithNoCases) {
  child_result r = run("select_no_cases");
  expect_report(r);
  EXPECT_TRUE(goro_tools::has_header(r.err, 1, "select (no cases)")) << r.describe();
}

TEST_P(DeadlockTest, SelectNobodyServes) {
  child_result r = run("select_nobody");
  expect_report(r);
  EXPECT_TRUE(goro_tools::has_header(r.err, 1, "select")) << r.describe();
}

TEST_P(DeadlockTest, MutexLockedTwice) {
  child_result r = run("mutex_twice");
  expect_report(r);
  EXPECT_TRUE(goro_tools::has_header(r.err, 1, "sync.Mutex.Lock")) << r.describe();
}

TEST_P(DeadlockTest, WaitGroupNeverDone) {
  child_result r = run("wait_group_never");
  expect_report(r);
  EXPECT_TRUE(goro_tools::has_header(r.err, 1, "sync.WaitGroup.Wait")) << r.describe();
}

TEST_P(DeadlockTest, ManyGoroutinesAllBlocked) {
  child_result r = run("many_blocked");
  expect_report(r);
  EXPECT_EQ(headers(r, "chan receive"), 20u) << r.describe();
  EXPECT_EQ(headers(r, "sync.Mutex.Lock"), 20u) << r.describe();
  EXPECT_EQ(headers(r, "select (no cases)"), 20u) << r.describe();
  EXPECT_EQ(headers(r, nullptr), 61u) << r.describe();
}

// ---------------------------------------------------------------------------
// Something can still wake a goroutine: no report.

TEST_P(DeadlockTest, NoReportWhileAGoroutineSleeps) { expect_no_report(run("sleeping")); }
TEST_P(DeadlockTest, NoReportWhileATimerIsPending) { expect_no_report(run("timer_pending")); }
TEST_P(DeadlockTest, NoReportWhileAfterIsPending) { expect_no_report(run("after_pending")); }
TEST_P(DeadlockTest, NoReportWhileAfterFuncIsPending) { expect_no_report(run("after_func_pending")); }
TEST_P(DeadlockTest, NoReportWhileATickerTicks) { expect_no_report(run("ticker_pending")); }
TEST_P(DeadlockTest, NoReportWhileASelectTimesOut) { expect_no_report(run("select_timeout")); }
TEST_P(DeadlockTest, NoReportWhileAContextDeadlineIsPending) { expect_no_report(run("context_deadline")); }
TEST_P(DeadlockTest, NoReportWhileAGoroutineWaitsForAContextDeadline) {
  expect_no_report(run("context_deadline_goroutine"));
}
TEST_P(DeadlockTest, NoReportWhileAPlainThreadIsAlive) { expect_no_report(run("plain_thread")); }
TEST_P(DeadlockTest, NoReportWhileAConnectionIsAwaited) { expect_no_report(run("accept_read")); }
TEST_P(DeadlockTest, NoReportWhileABlockingCallRuns) { expect_no_report(run("blocking_call")); }
TEST_P(DeadlockTest, NoReportWhileASignalIsRegistered) { expect_no_report(run("signal_registered")); }
TEST_P(DeadlockTest, NoReportWhileANotifyContextWaits) { expect_no_report(run("notify_context_pending")); }

// ---------------------------------------------------------------------------
// The wake-up source is gone: the deadlock that follows is reported.

class DeadlockAfterTest : public DeadlockTest {
 protected:
  void check(const char* scenario) {
    child_result r = run(scenario);
    EXPECT_NE(r.out.find("ok\n"), std::string::npos) << "the first part did not complete: " << r.describe();
    expect_report(r);
    EXPECT_TRUE(goro_tools::has_header(r.err, 1, "chan receive")) << r.describe();
  }
};

TEST_P(DeadlockAfterTest, AfterASleepEnded) { check("sleep_then_deadlock"); }
TEST_P(DeadlockAfterTest, AfterATimerFired) { check("after_then_deadlock"); }
TEST_P(DeadlockAfterTest, AfterAPlainThreadEnded) { check("thread_then_deadlock"); }
TEST_P(DeadlockAfterTest, AfterABlockingCallReturned) { check("blocking_then_deadlock"); }
TEST_P(DeadlockAfterTest, AfterStopSignals) { check("signal_then_deadlock"); }
TEST_P(DeadlockAfterTest, AfterAConnectionWasServed) { check("accept_then_deadlock"); }
TEST_P(DeadlockAfterTest, AfterATimerWasStopped) { check("stopped_timer_then_deadlock"); }
TEST_P(DeadlockAfterTest, AfterAContextWasCancelledBeforeItsDeadline) { check("cancelled_context_then_deadlock"); }

std::string procs_name(const testing::TestParamInfo<int>& i) { return "procs" + std::to_string(i.param); }

INSTANTIATE_TEST_SUITE_P(Procs, DeadlockTest, testing::Values(1, 2), procs_name);
INSTANTIATE_TEST_SUITE_P(Procs, DeadlockAfterTest, testing::Values(1, 2), procs_name);

}  // namespace
