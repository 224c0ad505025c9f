// lifetime_test.cpp — what nobody can reach is freed (issue 23): contexts
// that are never cancelled, chains with values in the middle, cancelled
// children of dropped parents, deadline contexts dropped long before their
// deadline — each a thousand times in a loop. Every test counts the values
// it stored (each value's destructor is counted), checks the pending timers
// (introspect::pending_timers), and in an AddressSanitizer build asks
// LeakSanitizer once run() has returned. And what can still be reached
// behaves as in Go: a done() channel someone holds is closed when an
// ancestor is cancelled or the deadline passes, whatever was dropped.
#include <goro/goro.hpp>
#include <goro/introspect.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "test_support.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define GORO_TEST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORO_TEST_LSAN 1
#endif
#endif
#if defined(GORO_TEST_LSAN)
#include <sanitizer/lsan_interface.h>
#endif

namespace {

using namespace std::chrono_literals;

// A value whose copies are counted: live() is how many exist now.
struct counted {
  static std::atomic<int> n;
  counted() { n.fetch_add(1); }
  counted(const counted&) { n.fetch_add(1); }
  ~counted() { n.fetch_sub(1); }
  static int live() { return n.load(); }
};
std::atomic<int> counted::n{0};

bool is_done(const goro::recv_chan<std::monostate>& d) {
  bool closed = false;
  goro::select(goro::case_recv(d, [&](std::optional<std::monostate> v) { closed = !v; }), goro::case_default());
  return closed;
}

// Waits (generously) for d to close; false if it never does.
bool wait_closed(const goro::recv_chan<std::monostate>& d) {
  goro::timer bail(30s);
  return goro::select(goro::case_recv(d), goro::case_recv(bail.c())) == 0;
}

class ContextLifetimeTest : public testing::TestWithParam<int> {
 protected:
  // Runs body in a runtime; then, in an AddressSanitizer build, nothing may
  // be left that nobody references.
  void run(void (*body)()) {
    goro::run(body, goro::config{.procs = GetParam()});
#if defined(GORO_TEST_LSAN)
    EXPECT_EQ(__lsan_do_recoverable_leak_check(), 0) << "LeakSanitizer found leaks (see stderr)";
#endif
  }
};

constexpr int kRounds = 1000;

// ------------------------------------------------- never cancelled

// A cancelable parent and child, neither cancelled, every handle dropped.
TEST_P(ContextLifetimeTest, NeverCancelledPairsAreFreed) {
  run([] {
    goro::context_key<counted> k;
    const std::size_t timers = goro::introspect::pending_timers();
    for (int i = 0; i < kRounds; ++i) {
      auto parent = goro::with_cancel(goro::with_value(goro::background(), k, counted{}));
      auto child = goro::with_cancel(goro::with_value(parent.ctx, k, counted{}));
      ASSERT_EQ(counted::live(), 2);
    }
    EXPECT_EQ(counted::live(), 0);
    EXPECT_EQ(goro::introspect::pending_timers(), timers);
  });
}

// Go keeps a never-cancelled child attached to a living parent until the
// parent ends; once nobody holds the child or waits on its done(), nobody
// could tell, and goro frees it at once. A long-lived parent does not
// accumulate the children its callers forgot to cancel.
TEST_P(ContextLifetimeTest, ForgottenChildrenOfALivingParentAreFreed) {
  run([] {
    goro::context_key<counted> k;
    auto parent = goro::with_cancel(goro::background());
    for (int i = 0; i < kRounds; ++i) {
      auto child = goro::with_cancel(goro::with_value(parent.ctx, k, counted{}));
      auto grandchild = goro::with_timeout(child.ctx, 1h);
    }
    EXPECT_EQ(counted::live(), 0);
    EXPECT_FALSE(parent.ctx.err());
    parent.cancel();
  });
}

// bg → cancel → value → cancel → value → deadline → value, never cancelled.
TEST_P(ContextLifetimeTest, ChainsWithValuesInTheMiddleAreFreed) {
  run([] {
    goro::context_key<counted> k;
    const std::size_t timers = goro::introspect::pending_timers();
    for (int i = 0; i < kRounds; ++i) {
      auto a = goro::with_cancel(goro::background());
      auto b = goro::with_cancel(goro::with_value(a.ctx, k, counted{}));
      auto c = goro::with_timeout(goro::with_value(b.ctx, k, counted{}), 1h);
      goro::context leaf = goro::with_value(c.ctx, k, counted{});
      ASSERT_EQ(counted::live(), 3);
      ASSERT_NE(leaf.value(k), nullptr);
    }
    EXPECT_EQ(counted::live(), 0);
    EXPECT_EQ(goro::introspect::pending_timers(), timers);
  });
}

// ------------------------------------------------- cancelled, dropped

// The parent's handles are dropped first; the child is cancelled, then dropped.
TEST_P(ContextLifetimeTest, ACancelledChildOfADroppedParentIsFreed) {
  run([] {
    goro::context_key<counted> k;
    for (int i = 0; i < kRounds; ++i) {
      std::optional<goro::cancel_pair> child;
      {
        auto parent = goro::with_cancel(goro::with_value(goro::background(), k, counted{}));
        child = goro::with_cancel(goro::with_value(parent.ctx, k, counted{}));
      }
      ASSERT_EQ(counted::live(), 2);  // the child holds its parent's node
      child->cancel();
      EXPECT_EQ(child->ctx.err(), goro::errc::canceled);
      child.reset();
      ASSERT_EQ(counted::live(), 0);
    }
  });
}

// Cancelled parents: the whole tree goes when its handles do.
TEST_P(ContextLifetimeTest, CancelledTreesAreFreed) {
  run([] {
    goro::context_key<counted> k;
    for (int i = 0; i < kRounds; ++i) {
      auto root = goro::with_cancel(goro::background());
      std::vector<goro::cancel_pair> kids;
      for (int j = 0; j < 4; ++j) kids.push_back(goro::with_cancel(goro::with_value(root.ctx, k, counted{})));
      root.cancel();
      for (auto& kid : kids) ASSERT_EQ(kid.ctx.err(), goro::errc::canceled);
    }
    EXPECT_EQ(counted::live(), 0);
  });
}

// ------------------------------------------------- deadlines

// A deadline context dropped (or cancelled) long before its deadline
// releases its timer at once, under background and under a cancelable
// parent alike.
TEST_P(ContextLifetimeTest, ADroppedDeadlineContextReleasesItsTimerAtOnce) {
  run([] {
    goro::context_key<counted> k;
    const std::size_t timers = goro::introspect::pending_timers();
    auto parent = goro::with_cancel(goro::background());
    for (int i = 0; i < kRounds; ++i) {
      {
        auto a = goro::with_timeout(goro::with_value(goro::background(), k, counted{}), 1h);
        auto b = goro::with_timeout(parent.ctx, 1h);
        auto c = goro::with_deadline(a.ctx, std::chrono::steady_clock::now() + 30min);
        ASSERT_EQ(goro::introspect::pending_timers(), timers + 3);
      }
      ASSERT_EQ(goro::introspect::pending_timers(), timers);
      ASSERT_EQ(counted::live(), 0);
      {
        auto a = goro::with_timeout(parent.ctx, 1h);
        a.cancel();
        ASSERT_EQ(goro::introspect::pending_timers(), timers);
      }
    }
    parent.cancel();
  });
}

// ------------------------------------------------- still reachable

// Dropping a child's handles while someone still waits on its done()
// changes nothing: it is cancelled with its parent, as in Go.
TEST_P(ContextLifetimeTest, AWatchedChildIsCancelledWithItsParent) {
  run([] {
    for (int i = 0; i < 100; ++i) {
      auto root = goro::with_cancel(goro::background());
      goro::recv_chan<std::monostate> d;
      goro::recv_chan<std::monostate> deep;
      {
        auto mid = goro::with_cancel(root.ctx);
        d = mid.ctx.done();
        auto leaf = goro::with_cancel(goro::with_cancel(mid.ctx).ctx);
        deep = leaf.ctx.done();
      }
      auto waiter = goro::make_chan<bool>(1);
      goro::go([deep, waiter] { waiter.send(wait_closed(deep)); });
      EXPECT_FALSE(is_done(d));
      root.cancel();
      EXPECT_TRUE(wait_closed(d));
      EXPECT_EQ(waiter.recv(), std::optional<bool>(true));
    }
  });
}

// A deadline context whose handles are dropped while its done() is held
// still expires: the pending timer keeps it, as Go's timer keeps its
// context. Its children expire with it.
TEST_P(ContextLifetimeTest, AWatchedDeadlineStillExpires) {
  run([] {
    const std::size_t timers = goro::introspect::pending_timers();
    goro::recv_chan<std::monostate> d, below;
    {
      auto c = goro::with_timeout(goro::background(), 20ms);
      d = c.ctx.done();
      below = goro::with_cancel(c.ctx).ctx.done();
    }
    EXPECT_TRUE(wait_closed(d));
    EXPECT_TRUE(wait_closed(below));
    for (goro_test::bailout b; goro::introspect::pending_timers() != timers && !b.expired();) goro::sleep(1ms);
    EXPECT_EQ(goro::introspect::pending_timers(), timers);
  });
}

// A cancel_func kept after the context's handles are gone still works.
TEST_P(ContextLifetimeTest, ACancelFuncOutlivesItsContext) {
  run([] {
    auto parent = goro::with_cancel(goro::background());
    goro::cancel_func f;
    {
      auto c = goro::with_timeout(parent.ctx, 1h);
      f = c.cancel;
    }
    f();
    f();
    parent.cancel();
    f();
  });
}

// ------------------------------------------------- depth

// Long chains are freed and cancelled in loops, not by recursion on a
// goroutine's stack.
TEST_P(ContextLifetimeTest, DeepChainsAreFreedAndCancelledWithoutRecursion) {
  run([] {
    const int depth = goro_test::scaled(100'000, 20'000);
    goro::context_key<int> k;
    {
      goro::context c = goro::background();
      for (int i = 0; i < depth; ++i) c = goro::with_value(c, k, i);
      EXPECT_EQ(*c.value(k), depth - 1);
    }
    {
      auto root = goro::with_cancel(goro::background());
      goro::context c = root.ctx;
      for (int i = 0; i < depth; ++i) c = goro::with_cancel(c).ctx;
      EXPECT_FALSE(c.err());
      root.cancel();
      EXPECT_EQ(c.err(), goro::errc::canceled);
    }
    {
      // Never cancelled: the chain is held from its leaf.
      goro::context c = goro::with_cancel(goro::background()).ctx;
      for (int i = 0; i < depth; ++i) c = goro::with_cancel(goro::with_value(c, k, i)).ctx;
    }
  });
}

INSTANTIATE_TEST_SUITE_P(Procs, ContextLifetimeTest, testing::Values(1, 4),
                         [](const testing::TestParamInfo<int>& i) { return "procs" + std::to_string(i.param); });

}  // namespace
