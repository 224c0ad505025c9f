// leak_test.cpp — goroutine leak detection (goro/leak.hpp, Go's goleak):
// current_goroutines, find_leaks and config::fail_on_leak.
//
// Each leak of the seeds is made on purpose — a receiver nobody sends to,
// a goroutine per request that nobody collects, a forgotten ticker loop, a
// worker that ignores ctx.done() — and its report must name the line that
// started it. Goroutines that are only about to exit, the baseline's, the
// caller and the runtime's own machinery must never be reported. No timing:
// "about to exit" goroutines are released right before the look and the
// grace is generous; a leak's grace is short only because nothing will end
// it.
#include <goro/goro.hpp>
#include <goro/testing.hpp>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>
#include <string>
#include <thread>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

int count_of(const std::string& s, const std::string& what) {
  int n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// Goroutines in a report: its "goroutine N [state]:" headers.
int headers(const std::string& r) { return (r.rfind("goroutine ", 0) == 0) + count_of(r, "\ngoroutine "); }

// "leak_test.cpp:LINE" as the report's lines show it.
std::string here(int line) { return "leak_test.cpp:" + std::to_string(line) + "\n"; }

// Goroutines the report says were created at `line` of this file: the
// line after each "created by" (a frame of the goroutine's own function
// may name the same line when it is written on the line of its go()).
int created_at(const std::string& r, int line) {
  int n = 0;
  const std::string site = here(line);
  for (std::size_t at = r.find("created by "); at != std::string::npos; at = r.find("created by ", at + 1)) {
    std::size_t next = r.find('\n', at);
    if (next == std::string::npos) break;
    std::size_t end = r.find('\n', next + 1);
    std::string file_line = r.substr(next + 1, end == std::string::npos ? std::string::npos : end - next);
    if (file_line.size() >= site.size() && file_line.compare(file_line.size() - site.size(), site.size(), site) == 0)
      ++n;
  }
  return n;
}

// The seeds' first leak: nothing sends to ch, so the receiver waits for ever.
int g_leak_line = 0;
void leak() {
  auto ch = goro::make_chan<int>();
  g_leak_line = __LINE__ + 1;
  goro::go([ch] {
    std::optional<int> v = ch.recv();
    (void)v;
  });
  // Returns, but the goroutine lives on, waiting for ever.
}

TEST(LeakDetection, AReceiverNobodySendsToIsReportedWithItsCreationLine) {
  goro::testing::allow_leaks leaks;  // leaks on purpose
  goro::run([] {
    auto before = goro::current_goroutines();
    leak();
    std::string r = goro::find_leaks(before, 100ms);
    EXPECT_EQ(headers(r), 1) << r;
    EXPECT_EQ(r.rfind("goroutine ", 0), 0u) << r;
    EXPECT_NE(r.find(" [chan receive"), std::string::npos) << r;
    EXPECT_NE(r.find("created by "), std::string::npos) << r;
    EXPECT_EQ(created_at(r, g_leak_line), 1) << r;
  });
}

// The seeds' second: a goroutine per request whose result nobody collects
// once the handler gave up waiting.
int g_handler_line = 0;
void handler(goro::chan<int> requests) {
  while (auto req = requests.recv()) {
    auto result = goro::make_chan<int>();
    g_handler_line = __LINE__ + 1;
    goro::go([result, v = *req] { result.send(v * 2); });
    // Gives up at once (as a handler would after its timeout): the sender
    // is left blocked for ever on the unbuffered channel.
  }
}

TEST(LeakDetection, UnboundedSpawningInAHandlerReportsEveryGoroutine) {
  goro::testing::allow_leaks leaks;  // leaks on purpose
  goro::run([] {
    auto before = goro::current_goroutines();
    auto requests = goro::make_chan<int>(16);
    for (int i = 0; i < 10; ++i) requests.send(i);
    requests.close();
    handler(requests);
    std::string r = goro::find_leaks(before, 100ms);
    EXPECT_EQ(headers(r), 10) << r;
    EXPECT_EQ(count_of(r, " [chan send"), 10) << r;
    EXPECT_EQ(created_at(r, g_handler_line), 10) << r;
  });
}

TEST(LeakDetection, AForgottenTickerLoopIsReported) {
  goro::testing::allow_leaks leaks;  // leaks on purpose
  goro::run([] {
    auto before = goro::current_goroutines();
    goro::ticker tk(1ms);
    const int line = __LINE__ + 1;
    goro::go([c = tk.c()] {
      while (c.recv()) {
      }
    });
    // Neither stopped nor told to return: the loop outlives the function.
    std::string r = goro::find_leaks(before, 50ms);
    EXPECT_EQ(headers(r), 1) << r;
    EXPECT_NE(r.find(here(line)), std::string::npos) << r;
    tk.stop();
  });
}

TEST(LeakDetection, AWorkerThatIgnoresItsContextIsReportedAndOneThatListensIsNot) {
  goro::testing::allow_leaks leaks;  // leaks on purpose
  goro::run([] {
    auto before = goro::current_goroutines();
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    auto jobs = goro::make_chan<int>();
    const int deaf_line = __LINE__ + 1;
    goro::go([jobs] {
      while (auto j = jobs.recv()) {  // never looks at ctx.done()
      }
    });
    goro::go([jobs, done = ctx.done()] {
      for (;;)
        if (goro::select(goro::case_recv(jobs), goro::case_recv(done)) == 1) return;
    });
    jobs.send(1);
    jobs.send(2);
    cancel();
    std::string r = goro::find_leaks(before, 200ms);
    EXPECT_EQ(headers(r), 1) << r;
    EXPECT_NE(r.find(here(deaf_line)), std::string::npos) << r;
  });
}

TEST(LeakDetection, GoroutinesAboutToExitAreNotReported) {
  goro::run([] {
    auto before = goro::current_goroutines();
    auto release = goro::make_chan<std::monostate>();
    auto wg = std::make_shared<goro::wait_group>();
    const int n = 200;
    wg->add(n);
    for (int i = 0; i < n; ++i)
      goro::go([release, wg] {
        wg->done();
        release.recv();
      });
    wg->wait();
    // All of them are blocked now; closing wakes them, and find_leaks looks
    // while most have not run yet.
    release.close();
    EXPECT_EQ(goro::find_leaks(before, 60s), "");
  });
}

TEST(LeakDetection, TheBaselineAndTheCallerAreNotReported) {
  goro::run([] {
    auto block = goro::make_chan<int>();
    for (int i = 0; i < 3; ++i) goro::go([block] { block.recv(); });
    auto before = goro::current_goroutines();  // the three and goroutine 1
    EXPECT_EQ(before.size(), 4u);
    EXPECT_TRUE(before.contains(goro::this_goroutine::id()));
    auto verdict = goro::make_chan<std::string>(1);
    goro::go([before, verdict] { verdict.send(goro::find_leaks(before, 10s)); });
    EXPECT_EQ(*verdict.recv(), "");
    EXPECT_NE(goro::find_leaks({}, 0ns), "");  // without the baseline, the three are left
    block.close();
  });
}

TEST(LeakDetection, TheRuntimesOwnMachineryIsNeverReported) {
  // Timers, the poller, the system monitor and signal delivery work on
  // threads of their own: a program using all of them and ending every
  // goroutine it started leaves nothing to report.
  goro::run([] {
    auto before = goro::current_goroutines();
    goro::timer pending(1h);  // waits in a heap, no goroutine
    auto fired = goro::make_chan<std::monostate>(1);
    goro::after_func(1ms, [fired] { fired.send({}); });
    fired.recv();  // the after_func goroutine ran (and is exiting)
    auto sigs = goro::make_chan<int>(1);
    goro::notify_signals(sigs, {SIGUSR2});
    auto ln = goro::net::listen("tcp", "127.0.0.1:0");
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 30s);
    auto c = goro::net::dial(ctx, "tcp", ln.addr());  // its cancel watcher ends with the dial
    auto s = ln.accept();
    c.write(std::string_view("x"));
    std::byte b[1];
    EXPECT_EQ(s.read(b), 1u);
    c.close();
    s.close();
    ln.close();
    cancel();
    EXPECT_EQ(goro::find_leaks(before, 60s), "");
    goro::stop_signals(sigs);
    pending.stop();
  });
}

TEST(LeakDetection, CurrentGoroutinesListsTheLiveOnes) {
  goro::run([] {
    auto block = goro::make_chan<int>();
    auto ids = goro::make_chan<std::int64_t>(5);
    for (int i = 0; i < 5; ++i)
      goro::go([block, ids] {
        ids.send(goro::this_goroutine::id());
        block.recv();
      });
    std::vector<std::int64_t> want{goro::this_goroutine::id()};
    for (int i = 0; i < 5; ++i) want.push_back(*ids.recv());
    auto now = goro::current_goroutines();
    EXPECT_EQ(now.size(), 6u);
    for (auto id : want) EXPECT_TRUE(now.contains(id)) << id;
    EXPECT_TRUE(std::is_sorted(now.ids().begin(), now.ids().end()));
    block.close();
  });
}

TEST(LeakDetection, WithNoRuntimeThereIsNothingToReport) {
  EXPECT_TRUE(goro::current_goroutines().empty());
  EXPECT_EQ(goro::find_leaks(), "");
  EXPECT_TRUE(goro::leak_snapshot{}.empty());
}

TEST(LeakDetection, FindLeaksWorksFromAPlainThread) {
  goro::testing::allow_leaks leaks;  // leaks on purpose
  goro::run([] {
    auto before = goro::current_goroutines();
    auto block = goro::make_chan<int>();
    const int line = __LINE__ + 1;
    goro::go([block] { block.recv(); });
    std::string r;
    std::thread t([&] { r = goro::find_leaks(before, 50ms); });
    goro::blocking([&] { t.join(); });
    EXPECT_EQ(headers(r), 1) << r;
    EXPECT_NE(r.find(here(line)), std::string::npos) << r;
    block.close();
  });
}

// config::fail_on_leak: the whole program is checked when run's function returns.
TEST(FailOnLeak, LeakedGoroutinesAreReportedAndRunReturns1) {
  goro::testing::allow_leaks leaks;  // leaks on purpose
  int line = 0;
  testing::internal::CaptureStderr();
  int rc = goro::run(
      [&line] {
        auto ch = goro::make_chan<int>();
        line = __LINE__ + 1;
        for (int i = 0; i < 2; ++i) goro::go([ch] { ch.recv(); });
      },
      goro::config{.procs = 1, .fail_on_leak = true});
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(err.rfind("goro: 2 goroutine(s) leaked\n\ngoroutine ", 0), 0u) << err;
  EXPECT_EQ(count_of(err, " [chan receive"), 2) << err;
  EXPECT_EQ(created_at(err, line), 2) << err;
}

TEST(FailOnLeak, ANonZeroResultIsKept) {
  goro::testing::allow_leaks leaks;  // leaks on purpose
  testing::internal::CaptureStderr();
  int rc = goro::run(
      [] {
        auto ch = goro::make_chan<int>();
        goro::go([ch] { ch.recv(); });
        return 7;
      },
      goro::config{.procs = 1, .fail_on_leak = true});
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 7);
  EXPECT_EQ(err.rfind("goro: 1 goroutine(s) leaked\n", 0), 0u) << err;
}

TEST(FailOnLeak, AGoroutineAboutToWakeABlockedOneLetsItExit) {
  testing::internal::CaptureStderr();
  int rc = goro::run(
      [] {
        auto ch = goro::make_chan<int>();
        auto parked = goro::make_chan<std::int64_t>(1);
        goro::go([ch, parked] {
          parked.send(goro::this_goroutine::id());
          ch.recv();
        });
        const std::int64_t id = *parked.recv();
        goro_test::bailout limit;
        std::ostringstream dump;
        while (!limit.expired()) {  // until the receiver is blocked
          dump.str("");
          goro::dump_goroutines(dump);
          if (dump.str().find("goroutine " + std::to_string(id) + " [chan receive") != std::string::npos) break;
          goro::yield();
        }
        goro::go([ch] { ch.send(1); });  // runnable, not run yet, as the function returns
      },
      goro::config{.procs = 1, .fail_on_leak = true});
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(err, "");
}

TEST(FailOnLeak, GoroutinesAboutToExitAreNotReported) {
  testing::internal::CaptureStderr();
  int rc = goro::run(
      [] {
        auto release = goro::make_chan<std::monostate>();
        auto wg = std::make_shared<goro::wait_group>();
        wg->add(100);
        for (int i = 0; i < 100; ++i)
          goro::go([release, wg] {
            wg->done();
            release.recv();
          });
        wg->wait();
        release.close();  // all of them are about to exit as run's function returns
      },
      goro::config{.procs = 1, .fail_on_leak = true});
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(err, "");
}

TEST(FailOnLeak, OffByDefault) {
  goro::testing::allow_leaks leaks;  // leaks on purpose
  testing::internal::CaptureStderr();
  int rc = goro::run([] {
    auto ch = goro::make_chan<int>();
    goro::go([ch] { ch.recv(); });
  });
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(err, "");
}

// goro/testing.hpp: this binary's main installs goro::testing::leak_check
// (tests/support/test_main.cpp), as every goro test binary's does.
int g_helper_line = 0;
// One processor: the goroutine has not started when the function returns,
// so the check counts it whatever the machine's speed (one already running
// on another processor is not counted: it may be about to block or to exit).
void leaky_run() {
  goro::run(
      [] {
        auto ch = goro::make_chan<int>();
        g_helper_line = __LINE__ + 1;
        goro::go([ch] { ch.recv(); });
      },
      goro::config{.procs = 1});
}

TEST(LeakCheck, ATestWhoseRunLeavesGoroutinesFailsWithTheirReport) {
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(leaky_run(), "goro: 1 goroutine(s) leaked");
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(leaky_run(), here(g_helper_line));
}

TEST(LeakCheck, AllowLeaksTurnsTheCheckOffInItsScope) {
  {
    goro::testing::allow_leaks leaks;
    leaky_run();  // no failure
  }
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(leaky_run(), "goro: 1 goroutine(s) leaked");
}

}  // namespace
