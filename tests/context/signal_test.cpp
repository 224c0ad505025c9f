// signal_test.cpp — Go's os/signal: notify_signals, stop_signals,
// notify_context.
//
// SIGUSR1/SIGUSR2 kill the process by default, so a signal is raised only
// while a registration catches it; the one test that checks that
// stop_signals restores the default does so in a death test's child.
#include <goro/goro.hpp>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <set>

#include "watchdog.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

// Receives from c, or gives up after a generous time.
std::optional<int> recv_within(const goro::chan<int>& c, std::chrono::seconds limit = std::chrono::seconds(20)) {
  std::optional<int> out;
  goro::timer bail(limit);  // stopped on return: nothing left pending
  if (goro::select(goro::case_recv(c, out), goro::case_recv(bail.c())) == 1)
    ADD_FAILURE() << "no signal within " << limit.count() << " s";
  return out;
}

class SignalTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(SignalTest, RaisedSignalArrivesOnTheChannel) {
  goro::run([] {
    auto ch = goro::make_chan<int>(1);
    goro::notify_signals(ch, {SIGUSR1});
    ASSERT_EQ(::raise(SIGUSR1), 0);
    EXPECT_EQ(recv_within(ch), SIGUSR1);
    // Again: the registration stays.
    ::kill(::getpid(), SIGUSR1);
    EXPECT_EQ(recv_within(ch), SIGUSR1);
    goro::stop_signals(ch);
  });
}

TEST_F(SignalTest, SeveralSignalsOnOneChannel) {
  goro::run([] {
    auto ch = goro::make_chan<int>(4);
    goro::notify_signals(ch, {SIGUSR1, SIGUSR2});
    ::raise(SIGUSR2);
    ::raise(SIGUSR1);
    std::set<int> got;
    for (int i = 0; i < 2; ++i)
      if (auto s = recv_within(ch)) got.insert(*s);
    EXPECT_EQ(got, (std::set<int>{SIGUSR1, SIGUSR2}));
    goro::stop_signals(ch);
  });
}

TEST_F(SignalTest, AFullChannelDropsTheSignal) {
  goro::run([] {
    auto ch = goro::make_chan<int>(1);
    auto marker = goro::make_chan<int>(1);
    goro::notify_signals(ch, {SIGUSR1});
    goro::notify_signals(marker, {SIGUSR2});
    for (int i = 0; i < 3; ++i) ::raise(SIGUSR1);
    // Signals are delivered in order: once SIGUSR2 is in, the SIGUSR1s are done.
    ::raise(SIGUSR2);
    EXPECT_EQ(recv_within(marker), SIGUSR2);
    EXPECT_EQ(ch.size(), 1u);
    EXPECT_EQ(ch.try_recv(), SIGUSR1);
    EXPECT_FALSE(ch.try_recv());  // the others were dropped, not queued
    goro::stop_signals(ch);
    goro::stop_signals(marker);
  });
}

TEST_F(SignalTest, StopSignalsStopsDeliveryToThatChannel) {
  goro::run([] {
    auto stopped = goro::make_chan<int>(1);
    auto still = goro::make_chan<int>(1);
    goro::notify_signals(stopped, {SIGUSR1});
    goro::notify_signals(still, {SIGUSR1});
    goro::stop_signals(stopped);
    ::raise(SIGUSR1);  // `still` keeps the handler installed
    EXPECT_EQ(recv_within(still), SIGUSR1);
    EXPECT_FALSE(stopped.try_recv());  // delivered to all registrations in one pass
    goro::stop_signals(still);
  });
}

// With no registration left, the signal's previous disposition is back: the
// default for SIGUSR1 kills the process (run in a child).
void raise_after_stop() {
  goro::run([] {
    auto ch = goro::make_chan<int>(1);
    goro::notify_signals(ch, {SIGUSR1});
    ::raise(SIGUSR1);
    if (recv_within(ch) != SIGUSR1) _exit(4);
    goro::stop_signals(ch);
    ::raise(SIGUSR1);  // kills
    goro::sleep(1s);
  });
  _exit(0);
}

TEST_F(SignalTest, StopSignalsRestoresTheDefaultDisposition) {
  EXPECT_EXIT(raise_after_stop(), testing::KilledBySignal(SIGUSR1), "");
}

TEST_F(SignalTest, NotifyContextIsCancelledByTheSignal) {
  goro::run([] {
    auto r = goro::notify_context(goro::background(), {SIGUSR2});
    EXPECT_FALSE(r.ctx.err());
    ::raise(SIGUSR2);
    goro::timer bail(20s);
    ASSERT_EQ(goro::select(goro::case_recv(r.ctx.done()), goro::case_recv(bail.c())), 0u);
    EXPECT_EQ(r.ctx.err(), goro::errc::canceled);
    r.cancel();
  });
}

TEST_F(SignalTest, NotifyContextFollowsItsParentAndItsCancel) {
  goro::run([] {
    auto parent = goro::with_cancel(goro::background());
    auto r = goro::notify_context(parent.ctx, {SIGUSR2});
    auto other = goro::notify_context(goro::background(), {SIGUSR2});
    parent.cancel();
    EXPECT_EQ(r.ctx.err(), goro::errc::canceled);
    EXPECT_FALSE(other.ctx.err());
    other.cancel();
    EXPECT_EQ(other.ctx.err(), goro::errc::canceled);
    // A live registration still catches it afterwards.
    auto third = goro::notify_context(goro::background(), {SIGUSR2});
    ::raise(SIGUSR2);
    goro::timer bail(20s);
    EXPECT_EQ(goro::select(goro::case_recv(third.ctx.done()), goro::case_recv(bail.c())), 0u);
    third.cancel();
    goro::sleep(10ms);  // notify_context's clean-up goroutines finish before run() ends
  });
}

// A goroutine waiting only for a signal is not a deadlock: the signal comes
// from another process.
void wait_for_a_signal_from_outside() {
  int rc = goro::run([] {
    auto ch = goro::make_chan<int>(1);
    goro::notify_signals(ch, {SIGUSR1});
    pid_t parent = ::getpid();
    pid_t child = ::fork();
    if (child == 0) {
      ::usleep(100'000);
      ::kill(parent, SIGUSR1);
      _exit(0);
    }
    auto v = ch.recv();  // nothing in this process can wake it
    int status = 0;
    goro::blocking([&] { ::waitpid(child, &status, 0); });
    return v == SIGUSR1 ? 0 : 5;
  });
  _exit(rc);
}

TEST_F(SignalTest, WaitingForASignalIsNotADeadlock) {
  EXPECT_EXIT(wait_for_a_signal_from_outside(), testing::ExitedWithCode(0), "");
}

}  // namespace
