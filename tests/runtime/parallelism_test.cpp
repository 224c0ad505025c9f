// parallelism_test.cpp — the progress guarantee (DESIGN §6): while a
// processor is idle, no goroutine stays runnable. Go's
// TestGoroutineParallelism and TestGoroutineParallelism2: N goroutines on
// gomaxprocs(N) can finish only if all N run at the same moment (they meet
// at a spin barrier, then take turns on one atomic, busy-waiting, never
// calling goro). One goroutine left in a queue that no idle processor
// serves (a busy P's runnext, a spare P, the global queue) hangs the group.
//
// The group is made runnable in every way the runtime has: spawned flat,
// nested (the spawners exit at once), from a plain thread, released by a
// channel close, by a wait group, by a timer, by socket readiness, by the
// return of blocking(); with and without a
// burst of parallel work just before, and with a listener open (the
// netpoller and blocking() in the path, as in Go's test). A watchdog turns
// a hang into a failure that prints the goroutine dump (SIGQUIT).
#include <goro/goro.hpp>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "test_support.hpp"

namespace {

// SIGALRM after kLimit seconds: name the test, then SIGQUIT, whose handler
// prints every goroutine and exits with status 2.
constexpr unsigned kLimit = 60;
char alarm_msg[256];
void on_alarm(int) {
  ssize_t r = ::write(2, alarm_msg, std::strlen(alarm_msg));
  (void)r;
  ::raise(SIGQUIT);
}
void arm_watchdog() {
  const testing::TestInfo* t = testing::UnitTest::GetInstance()->current_test_info();
  std::snprintf(alarm_msg, sizeof alarm_msg, "\nwatchdog: %s.%s hung for %u s; goroutine dump follows\n",
                t->test_suite_name(), t->name(), kLimit);
  struct sigaction sa {};
  sa.sa_handler = &on_alarm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, nullptr);
  alarm(kLimit);
}

// One group of n goroutines that must all run at once.
struct Group {
  explicit Group(int n) : n(n) {}
  const int n;
  std::atomic<int> arrived{0};
  std::atomic<std::uint32_t> turn{0};
  goro::wait_group wg;

  void member(int idx) {
    // Spin barrier: every member must be running at the same time.
    arrived.fetch_add(1);
    while (arrived.load() != n) {
    }
    // Take turns, three rounds (Go's test).
    for (int round = 0; round < 3; ++round) {
      std::uint32_t mine = static_cast<std::uint32_t>(n * round + idx);
      while (turn.load() != mine) {
      }
      turn.store(mine + 1);
    }
    wg.done();
  }
};

// A burst of n goroutines that spin until all of them have run, then exit
// (Go's "load": the Ms that ran them are going idle as the group starts).
void burst(int n) {
  auto x = std::make_shared<std::atomic<int>>(0);
  auto done = goro::make_chan<bool>();
  for (int i = 0; i < n; ++i)
    goro::go([x, done, n] {
      if (x->fetch_add(1) + 1 == n) {
        done.send(true);
        return;
      }
      while (x->load() != n) {
      }
    });
  done.recv();
}

enum class Ready { flat, nested, plain_thread, chan_close, wait_group, timer, socket, blocking };

const char* ready_name(Ready r) {
  switch (r) {
    case Ready::flat: return "Flat";
    case Ready::nested: return "Nested";
    case Ready::plain_thread: return "PlainThread";
    case Ready::chan_close: return "ChanClose";
    case Ready::wait_group: return "WaitGroup";
    case Ready::blocking: return "Blocking";
    case Ready::timer: return "Timer";
    case Ready::socket: return "Socket";
  }
  return "?";
}

void run_group(int n, Ready how) {
  auto g = std::make_shared<Group>(n);
  g->wg.add(n);
  switch (how) {
    case Ready::flat:
      for (int i = 0; i < n; ++i) goro::go([g](int i) { g->member(i); }, i);
      break;
    case Ready::nested:
      for (int s = 0; s < n; s += 2)
        goro::go(
            [g](int s) {
              for (int i = s; i < s + 2 && i < g->n; ++i) goro::go([g](int i) { g->member(i); }, i);
            },
            s);
      break;
    case Ready::plain_thread: {
      std::thread t([g] {
        for (int i = 0; i < g->n; ++i) goro::go([g](int i) { g->member(i); }, i);
      });
      g->wg.wait();
      t.join();
      return;
    }
    case Ready::chan_close: {
      auto gate = goro::make_chan<int>();
      for (int i = 0; i < n; ++i)
        goro::go(
            [g, gate](int i) {
              gate.recv();
              g->member(i);
            },
            i);
      goro::yield();
      gate.close();
      break;
    }
    case Ready::wait_group: {
      // Released together by the last done() (a ready() per waiter).
      auto gate = std::make_shared<goro::wait_group>();
      gate->add(1);
      for (int i = 0; i < n; ++i)
        goro::go(
            [g, gate](int i) {
              gate->wait();
              g->member(i);
            },
            i);
      goro::yield();
      gate->done();
      break;
    }
    case Ready::blocking:
      // Each member returns from blocking() after sysmon retook its P
      // (exitsyscall: another idle P, or the global queue).
      for (int i = 0; i < n; ++i)
        goro::go(
            [g](int i) {
              goro::blocking([] { ::usleep(2000); });
              g->member(i);
            },
            i);
      break;
    case Ready::timer:
      for (int i = 0; i < n; ++i)
        goro::go(
            [g](int i) {
              goro::sleep(std::chrono::milliseconds(1));
              g->member(i);
            },
            i);
      break;
    case Ready::socket: {
      goro::net::listener ln = goro::net::listen("tcp", "127.0.0.1:0");
      std::string addr = ln.addr();
      for (int i = 0; i < n; ++i)
        goro::go(
            [g, addr](int i) {
              goro::net::conn c = goro::net::dial("tcp", addr);
              std::byte b[1];
              if (goro::net::read_full(c, b) != 1) std::abort();
              g->member(i);
              c.close();
            },
            i);
      std::vector<goro::net::conn> peers;
      for (int i = 0; i < n; ++i) peers.push_back(ln.accept());
      for (auto& c : peers) c.write(std::string_view("x"));  // readies every reader
      g->wg.wait();
      for (auto& c : peers) c.close();
      ln.close();
      return;
    }
  }
  g->wg.wait();
}

// procs, how, prior burst, listener open
using Param = std::tuple<int, Ready, bool, bool>;

class Parallelism : public testing::TestWithParam<Param> {};

TEST_P(Parallelism, AllMembersRunAtOnce) {
  auto [procs, how, load, listener] = GetParam();
  arm_watchdog();
  const int tries = goro_test::scaled(3, 1);
  goro::run(
      [&, procs = procs, how = how, load = load, listener = listener] {
        goro::net::listener ln;
        if (listener) ln = goro::net::listen("tcp", "127.0.0.1:0");
        for (int t = 0; t < tries; ++t) {
          if (load) burst(procs);
          run_group(procs, how);
        }
        if (listener) ln.close();
      },
      goro::config{.procs = procs});
  alarm(0);
}

std::string param_name(const testing::TestParamInfo<Param>& info) {
  auto [procs, how, load, listener] = info.param;
  return std::string(ready_name(how)) + (load ? "_Load" : "") + (listener ? "_Listener" : "") + "_procs" +
         std::to_string(procs);
}

INSTANTIATE_TEST_SUITE_P(Procs, Parallelism,
                         testing::Combine(testing::Values(2, 3, 4, 8),
                                          testing::Values(Ready::flat, Ready::nested, Ready::plain_thread,
                                                          Ready::chan_close, Ready::wait_group, Ready::timer,
                                                          Ready::socket, Ready::blocking),
                                          testing::Bool(), testing::Bool()),
                         param_name);

// Go's own shape: gomaxprocs raised at run time from one processor, and
// lowered again after each try, so processors retire and come back while
// Ms are being handed them (a P handed to a waking M was once listed idle
// a second time by the growth: two owners, a dead goroutine resumed).
class ParallelismResize : public testing::TestWithParam<int> {};

TEST_P(ParallelismResize, GroupsRunAcrossGomaxprocsChanges) {
  const int procs = GetParam();
  arm_watchdog();
  const int tries = goro_test::scaled(10, 3);
  goro::run(
      [&] {
        goro::net::listener ln = goro::net::listen("tcp", "127.0.0.1:0");
        for (int t = 0; t < tries; ++t) {
          int prev = goro::gomaxprocs(procs);
          burst(procs);
          run_group(procs, t % 2 ? Ready::nested : Ready::flat);
          goro::gomaxprocs(prev);
        }
        ln.close();
      },
      goro::config{.procs = 1});
  alarm(0);
}

INSTANTIATE_TEST_SUITE_P(Procs, ParallelismResize, testing::Values(2, 3, 4, 8),
                         [](const testing::TestParamInfo<int>& info) { return "procs" + std::to_string(info.param); });

// A spare P lent while main computes takes a goroutine locked to another
// thread from main's runnext and hands itself to that thread (startlockedm);
// when the locked goroutine parks again, its thread gives the spare P back
// (stoplockedm → handoffp): to the spare list, never to the idle list,
// where it was once dropped and lost (and spare Ps are bounded now).
TEST(SpareProcessors, ASpareHandedToALockedGoroutineComesBack) {
  arm_watchdog();
  goro::run(
      [] {
        auto ping = goro::make_chan<int>();
        auto pong = goro::make_chan<int>();
        goro::go([ping, pong] {
          goro::lock_os_thread();
          for (auto v : ping) pong.send(v);
          goro::unlock_os_thread();
        });
        const int rounds = goro_test::scaled(20, 5);
        for (int r = 0; r < rounds; ++r) {
          ping.send(r);  // readies the locked goroutine into main's runnext...
          // ...and computes past sysmon's 10 ms, without a scheduling point,
          // so that sysmon lends a spare P whose M takes it.
          auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
          while (std::chrono::steady_clock::now() < until) {
          }
          EXPECT_EQ(*pong.recv(), r);
        }
        ping.close();
        // Every spare P made is back on the spare list once idle again.
        goro_test::bailout limit;
        goro::introspect::spare_processors_info info;
        while ((info = goro::introspect::spare_processors()).lent != 0 && !limit.expired())
          goro::sleep(std::chrono::milliseconds(1));
        EXPECT_EQ(info.lent, 0) << info.made << " spare processors made";
        EXPECT_GT(info.made, 0) << "sysmon never lent a spare processor: the test did not test";
      },
      goro::config{.procs = 1});
  alarm(0);
}

}  // namespace
