// select_test.cpp — goro::select: uniform random choice among ready cases,
// default, nil cases, case_recv into an optional, case_send moving only when
// chosen, runtime-sized case lists (reflect.Select), select {} and panics.
#include <goro/goro.hpp>
#include <goro/testing.hpp>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "chan_test_util.hpp"
#include "test_support.hpp"

namespace {

using goro_test::scaled;

class SelectTest : public testing::TestWithParam<int> {
 protected:
  goro::config cfg() const { return goro::config{.procs = GetParam()}; }
};

template <class F>
void expect_panic(F&& f, const char* msg) {
  try {
    f();
    ADD_FAILURE() << "no panic; expected: " << msg;
  } catch (const goro::panic_error& e) {
    EXPECT_STREQ(e.what(), msg);
  }
}

// --------------------------------------------------------- random choice
//
// The bounds: with n trials of a fair choice among k cases, each count has
// standard deviation sqrt(n (1/k)(1 - 1/k)). For k = 2, n = 100,000 that is
// 158, and 45%..55% is +-5,000, over 31 standard deviations; n = 10,000
// (small scale) gives +-500 = 10 standard deviations. A correct runtime
// fails with probability below 1e-22.

TEST_P(SelectTest, ChoosesUniformlyAmongReadyReceives) {
  const int n = scaled(100'000, 10'000);
  goro::run(
      [&] {
        auto a = goro::make_chan<int>(1), b = goro::make_chan<int>(1);
        a.send(0);
        b.send(1);
        int count[2] = {0, 0};
        int pairs[2][2] = {{0, 0}, {0, 0}};  // (previous choice, this choice)
        std::size_t prev = 2;
        for (int i = 0; i < n; ++i) {
          std::size_t k = goro::select(goro::case_recv(a, [&](std::optional<int> v) { EXPECT_EQ(v, 0); }),
                                       goro::case_recv(b, [&](std::optional<int> v) { EXPECT_EQ(v, 1); }));
          ASSERT_LT(k, 2u);
          ++count[k];
          if (prev < 2) ++pairs[prev][k];
          prev = k;
          (k == 0 ? a : b).send(static_cast<int>(k));  // ready again
        }
        EXPECT_GE(count[0], n * 45 / 100);
        EXPECT_LE(count[0], n * 55 / 100);
        EXPECT_GE(count[1], n * 45 / 100);
        EXPECT_LE(count[1], n * 55 / 100);
        // Independent choices, not a rotation: each of the four (previous,
        // next) pairs comes about a quarter of the time (a fixed rotation
        // 0,1,0,1 would give only two of them). Each count has standard
        // deviation under sqrt(n)/4 = 79 (25 at small scale); 20%..30% is
        // 25 (10) standard deviations.
        for (auto& row : pairs)
          for (int c : row) {
            EXPECT_GE(c, n * 20 / 100);
            EXPECT_LE(c, n * 30 / 100);
          }
      },
      cfg());
}

TEST_P(SelectTest, ChoosesUniformlyAmongReadySendsAndReceives) {
  // Three cases always ready: a receive, a send, a receive from a closed
  // channel. Each is 1/3: sd 149 (n = 100,000), bounds +-5% = 33 sd; small
  // scale: sd 47, +-5% = 10 sd.
  const int n = scaled(100'000, 10'000);
  goro::run(
      [&] {
        auto in = goro::make_chan<int>(1), out = goro::make_chan<int>(1), closed = goro::make_chan<int>();
        closed.close();
        in.send(1);
        int count[3] = {0, 0, 0};
        for (int i = 0; i < n; ++i) {
          int v = 2;
          std::size_t k = goro::select(goro::case_recv(in), goro::case_send(out, v), goro::case_recv(closed));
          ASSERT_LT(k, 3u);
          ++count[k];
          if (k == 0) in.send(1);
          if (k == 1) {
            EXPECT_EQ(out.recv(), 2);
          }
        }
        for (int k = 0; k < 3; ++k) {
          EXPECT_GE(count[k], n * 28 / 100) << "case " << k;
          EXPECT_LE(count[k], n * 39 / 100) << "case " << k;
        }
      },
      cfg());
}

TEST_P(SelectTest, RuntimeSizedSelectChoosesUniformly) {
  // 10 ready cases (more than the runtime's small fixed-size path): each is
  // 1/10, sd 95 (n = 100,000), bounds 8%..12% = 21 sd; small: sd 30, 6.7 sd.
  const int n = scaled(100'000, 10'000), k = 10;
  goro::run(
      [&] {
        std::vector<goro::chan<int>> chans;
        for (int i = 0; i < k; ++i) {
          chans.push_back(goro::make_chan<int>(1));
          chans.back().send(i);
        }
        std::vector<int> count(k, 0);
        for (int i = 0; i < n; ++i) {
          std::vector<goro::select_case> cases;
          for (int j = 0; j < k; ++j)
            cases.push_back(goro::case_recv(chans[j], [&, j](std::optional<int> v) { EXPECT_EQ(v, j); }));
          std::size_t c = goro::select(cases);
          ASSERT_LT(c, static_cast<std::size_t>(k));
          ++count[c];
          chans[c].send(static_cast<int>(c));
        }
        for (int j = 0; j < k; ++j) {
          EXPECT_GE(count[j], n * 8 / 100) << "case " << j;
          EXPECT_LE(count[j], n * 12 / 100) << "case " << j;
        }
      },
      cfg());
}

TEST(Select, ChoosesUniformlyOnAPlainThread) {
  const int n = scaled(100'000, 10'000);
  auto a = goro::make_chan<int>(1), b = goro::make_chan<int>(1);
  a.send(0);
  b.send(1);
  int count[2] = {0, 0};
  for (int i = 0; i < n; ++i) {
    std::size_t k = goro::select(goro::case_recv(a), goro::case_recv(b));
    ASSERT_LT(k, 2u);
    ++count[k];
    (k == 0 ? a : b).send(0);
  }
  EXPECT_GE(count[0], n * 45 / 100);
  EXPECT_LE(count[0], n * 55 / 100);
}

// ---------------------------------------------------------------- default

TEST_P(SelectTest, DefaultRunsOnlyWhenNothingIsReady) {
  goro::run(
      [] {
        auto ch = goro::make_chan<int>(1);
        bool ran_default = false, ran_recv = false;
        EXPECT_EQ(goro::select(goro::case_recv(ch, [&] { ran_recv = true; }),
                               goro::case_default([&] { ran_default = true; })),
                  1u);
        EXPECT_TRUE(ran_default);
        EXPECT_FALSE(ran_recv);
        ch.send(4);
        ran_default = false;
        for (int i = 0; i < 1000; ++i) {
          // A ready case always wins over default.
          std::optional<int> got;
          EXPECT_EQ(goro::select(goro::case_default([&] { ran_default = true; }),
                                 goro::case_recv(ch, [&](std::optional<int> v) { got = v; })),
                    1u);
          EXPECT_EQ(got, 4);
          ch.send(4);
        }
        EXPECT_FALSE(ran_default);
        // A select with only a default.
        EXPECT_EQ(goro::select(goro::case_default()), 0u);
        // A full channel's send case is not ready.
        EXPECT_EQ(goro::select(goro::case_send(ch, 5), goro::case_default()), 1u);
        EXPECT_EQ(ch.recv(), 4);
      },
      cfg());
}

TEST_P(SelectTest, NilCasesAreNeverChosen) {
  goro::run(
      [] {
        goro::chan<int> nil_ch;
        goro::recv_chan<int> nil_r;
        goro::send_chan<int> nil_s;
        for (int i = 0; i < 1000; ++i) {
          EXPECT_EQ(goro::select(goro::case_recv(nil_ch), goro::case_send(nil_ch, 1), goro::case_recv(nil_r),
                                 goro::case_send(nil_s, 2), goro::case_default()),
                    4u);
        }
        // Beside a ready case the nil cases never win.
        auto ready = goro::make_chan<int>(1);
        for (int i = 0; i < 1000; ++i) {
          ready.send(i);
          EXPECT_EQ(goro::select(goro::case_recv(nil_ch), goro::case_send(nil_s, 1), goro::case_recv(ready)), 2u);
        }
        // Go's idiom: a closed input is turned off by setting it to nil.
        auto a = goro::make_chan<int>(4), b = goro::make_chan<int>(4);
        for (int i = 0; i < 3; ++i) a.send(i), b.send(10 + i);
        a.close();
        b.close();
        int sum = 0, live = 2;
        goro::chan<int> ra = a, rb = b;
        while (live > 0) {
          goro::select(goro::case_recv(ra,
                                       [&](std::optional<int> v) {
                                         if (v) sum += *v;
                                         else ra = {}, --live;
                                       }),
                       goro::case_recv(rb, [&](std::optional<int> v) {
                         if (v) sum += *v;
                         else rb = {}, --live;
                       }));
        }
        EXPECT_EQ(sum, 0 + 1 + 2 + 10 + 11 + 12);
      },
      cfg());
}

// --------------------------------------------------- case_recv variants

TEST_P(SelectTest, CaseRecvIntoOptional) {
  goro::run(
      [] {
        auto ch = goro::make_chan<std::string>(2);
        ch.send("one");
        std::optional<std::string> out;
        EXPECT_EQ(goro::select(goro::case_recv(ch, out)), 0u);
        EXPECT_EQ(out, "one");
        // Not chosen: out is untouched.
        out = "keep";
        EXPECT_EQ(goro::select(goro::case_recv(ch, out), goro::case_default()), 1u);
        EXPECT_EQ(out, "keep");
        // Closed: out becomes nullopt (v, ok := <-ch with ok false).
        ch.close();
        EXPECT_EQ(goro::select(goro::case_recv(ch, out)), 0u);
        EXPECT_EQ(out, std::nullopt);

        // Move-only values.
        auto up = goro::make_chan<std::unique_ptr<int>>(1);
        up.send(std::make_unique<int>(8));
        std::optional<std::unique_ptr<int>> p;
        goro::select(goro::case_recv(up, p));
        ASSERT_TRUE(p && *p);
        EXPECT_EQ(**p, 8);
      },
      cfg());
}

TEST_P(SelectTest, CaseRecvHandlerForms) {
  goro::run(
      [] {
        auto ch = goro::make_chan<int>(3);
        ch.send(1);
        ch.send(2);
        int got = 0;
        goro::select(goro::case_recv(ch, [&](std::optional<int> v) { got = *v; }));
        EXPECT_EQ(got, 1);
        bool ran = false;
        goro::select(goro::case_recv(ch, [&] { ran = true; }));  // handler without the value
        EXPECT_TRUE(ran);
        EXPECT_EQ(ch.size(), 0u);
        ch.close();
        bool closed = false;
        goro::select(goro::case_recv(ch, [&](std::optional<int> v) { closed = !v; }));
        EXPECT_TRUE(closed);
        goro::recv_chan<int> r = ch;
        EXPECT_EQ(goro::select(goro::case_recv(r)), 0u);  // recv_chan cases
      },
      cfg());
}

TEST_P(SelectTest, HandlersRunAfterTheChannelsAreUnlocked) {
  // A handler that uses the very channels of its select would deadlock if
  // select still held their locks.
  goro::run(
      [] {
        auto a = goro::make_chan<int>(1), b = goro::make_chan<int>(1);
        a.send(1);
        b.send(0);  // full: its send case is not ready
        goro::select(goro::case_recv(a,
                                     [&](std::optional<int> v) {
                                       a.send(*v + 1);
                                       EXPECT_EQ(b.recv(), 0);
                                       b.send(*v + 2);
                                       EXPECT_EQ(a.size(), 1u);
                                     }),
                     goro::case_send(b, 5, [&] { ADD_FAILURE() << "b was full"; }),
                     goro::case_default([] { ADD_FAILURE() << "a was ready"; }));
        EXPECT_EQ(a.recv(), 2);
        EXPECT_EQ(b.recv(), 3);
        int v = 7;
        goro::select(goro::case_send(a, v, [&] { EXPECT_EQ(a.recv(), 7); }));
      },
      cfg());
}

// ------------------------------------------------------------- case_send

TEST_P(SelectTest, CaseSendMovesOnlyTheChosenValue) {
  goro::run(
      [] {
        auto full = goro::make_chan<std::unique_ptr<int>>(1), room = goro::make_chan<std::unique_ptr<int>>(1);
        goro::chan<std::unique_ptr<int>> nil_ch;
        full.send(std::make_unique<int>(0));
        for (int i = 0; i < 200; ++i) {
          auto a = std::make_unique<int>(1), b = std::make_unique<int>(2), c = std::make_unique<int>(3);
          bool ran_a = false, ran_b = false, ran_c = false;
          std::size_t k = goro::select(goro::case_send(full, a, [&] { ran_a = true; }),
                                       goro::case_send(room, b, [&] { ran_b = true; }),
                                       goro::case_send(nil_ch, c, [&] { ran_c = true; }));
          EXPECT_EQ(k, 1u);
          EXPECT_FALSE(ran_a);
          EXPECT_TRUE(ran_b);
          EXPECT_FALSE(ran_c);
          ASSERT_TRUE(a);
          EXPECT_EQ(*a, 1);  // not chosen: untouched
          EXPECT_FALSE(b);   // chosen: moved into the channel
          ASSERT_TRUE(c);
          EXPECT_EQ(*c, 3);
          EXPECT_EQ(**room.recv(), 2);
        }
        // Default chosen: nothing moved.
        auto d = std::make_unique<int>(4);
        EXPECT_EQ(goro::select(goro::case_send(full, d), goro::case_default()), 1u);
        ASSERT_TRUE(d);
        EXPECT_EQ(*d, 4);
        // Two ready send cases: exactly the chosen one is moved.
        for (int i = 0; i < 200; ++i) {
          auto x = goro::make_chan<std::unique_ptr<int>>(1), y = goro::make_chan<std::unique_ptr<int>>(1);
          auto px = std::make_unique<int>(10), py = std::make_unique<int>(20);
          std::size_t k = goro::select(goro::case_send(x, px), goro::case_send(y, py));
          if (k == 0) {
            EXPECT_FALSE(px);
            ASSERT_TRUE(py);
            EXPECT_EQ(x.size(), 1u);
            EXPECT_EQ(y.size(), 0u);
          } else {
            EXPECT_FALSE(py);
            ASSERT_TRUE(px);
            EXPECT_EQ(x.size(), 0u);
            EXPECT_EQ(y.size(), 1u);
          }
        }
        // A temporary or a convertible value is held by the case itself.
        auto s = goro::make_chan<std::string>(2);
        goro::select(goro::case_send(s, "literal"));
        goro::select(goro::case_send(s, std::string("temp")));
        EXPECT_EQ(s.recv(), "literal");
        EXPECT_EQ(s.recv(), "temp");
      },
      cfg());
}

TEST_P(SelectTest, BlockedSendCaseDeliversToALateReceiver) {
  goro::run(
      [] {
        auto a = goro::make_chan<std::unique_ptr<int>>(), b = goro::make_chan<std::unique_ptr<int>>();
        auto ids = goro::make_chan<std::int64_t>(1);
        auto result = goro::make_chan<std::pair<std::size_t, bool>>(1);  // (case, other value kept)
        goro::go([=] {
          ids.send(goro::this_goroutine::id());
          auto pa = std::make_unique<int>(1), pb = std::make_unique<int>(2);
          std::size_t k = goro::select(goro::case_send(a, pa), goro::case_send(b, pb));
          result.send({k, k == 0 ? pb && *pb == 2 && !pa : pa && *pa == 1 && !pb});
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "select"));
        EXPECT_EQ(**b.recv(), 2);
        auto [k, kept] = *result.recv();
        EXPECT_EQ(k, 1u);
        EXPECT_TRUE(kept);
        // The losing case was withdrawn from a: nothing waits there any more.
        auto p = std::make_unique<int>(3);
        EXPECT_EQ(a.try_recv(), std::nullopt);
        EXPECT_FALSE(a.try_send(p));
      },
      cfg());
}

TEST_P(SelectTest, BlockedReceiveCaseIsWithdrawnFromTheOtherChannels) {
  goro::run(
      [] {
        auto a = goro::make_chan<int>(), b = goro::make_chan<int>(), c = goro::make_chan<int>();
        auto ids = goro::make_chan<std::int64_t>(1);
        auto result = goro::make_chan<std::pair<std::size_t, int>>(1);
        goro::go([=] {
          ids.send(goro::this_goroutine::id());
          std::optional<int> va, vb, vc;
          std::size_t k = goro::select(goro::case_recv(a, va), goro::case_recv(b, vb), goro::case_recv(c, vc));
          int v = k == 0 ? *va : k == 1 ? *vb : *vc;
          result.send({k, v});
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "select"));
        c.send(30);
        EXPECT_EQ(*result.recv(), (std::pair<std::size_t, int>{2, 30}));
        EXPECT_FALSE(a.try_send(1));  // no receiver left behind on a or b
        EXPECT_FALSE(b.try_send(2));
      },
      cfg());
}

TEST_P(SelectTest, SelectDoesNotMatchItself) {
  // Go's select3: a select with both a send and a receive on the same
  // unbuffered channel cannot pair them.
  goro::run(
      [] {
        auto c = goro::make_chan<int>();
        for (int i = 0; i < 100; ++i)
          EXPECT_EQ(goro::select(goro::case_send(c, 1), goro::case_recv(c), goro::case_default()), 2u);
        // A partner completes one of them.
        auto ids = goro::make_chan<std::int64_t>(1);
        auto result = goro::make_chan<std::size_t>(1);
        goro::go([=] {
          ids.send(goro::this_goroutine::id());
          result.send(goro::select(goro::case_send(c, 5), goro::case_recv(c)));
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "select"));
        EXPECT_EQ(c.recv(), 5);
        EXPECT_EQ(result.recv(), 0u);
      },
      cfg());
}

// One channel in several receive cases. Blocked: one send completes exactly
// one case, and the select's other record on the channel is withdrawn (a
// later send finds no receiver). Ready: each case is chosen, at random.
TEST_P(SelectTest, OneChannelInSeveralCases) {
  goro::run(
      [] {
        auto c = goro::make_chan<int>();
        auto ids = goro::make_chan<std::int64_t>(1);
        auto result = goro::make_chan<std::pair<std::size_t, int>>(1);
        goro::go([=] {
          ids.send(goro::this_goroutine::id());
          std::optional<int> v0, v1, v2;
          std::size_t k = goro::select(goro::case_recv(c, v0), goro::case_recv(c, v1), goro::case_recv(c, v2));
          result.send({k, k == 0 ? v0.value_or(-1) : k == 1 ? v1.value_or(-1) : v2.value_or(-1)});
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "select"));
        c.send(7);
        auto [k, v] = *result.recv();
        EXPECT_LT(k, 3u);
        EXPECT_EQ(v, 7);
        EXPECT_FALSE(c.try_send(8)) << "a record of the finished select was left on the channel";
        // Ready (buffered, one value at a time): every case gets chosen.
        auto b = goro::make_chan<int>(1);
        std::array<int, 3> wins{};
        for (int i = 0; i < 300; ++i) {
          b.send(i);
          std::size_t w = goro::select(goro::case_recv(b), goro::case_recv(b), goro::case_recv(b));
          ASSERT_LT(w, 3u);
          ++wins[w];
        }
        for (int w : wins) EXPECT_GT(w, 30) << wins[0] << " " << wins[1] << " " << wins[2];
      },
      cfg());
}

// ------------------------------------------------------ runtime-sized

TEST_P(SelectTest, RuntimeSizedListOfCases) {
  const int k = 20;  // beyond the runtime's fixed-size fast path
  goro::run(
      [&] {
        std::vector<goro::chan<int>> chans;
        for (int i = 0; i < k; ++i) chans.push_back(goro::make_chan<int>());
        auto ids = goro::make_chan<std::int64_t>(1);
        goro::go([=] {
          ids.send(goro::this_goroutine::id());
          for (int i = k - 1; i >= 0; --i) chans[i].send(i * 100);
        });
        ids.recv();
        std::vector<bool> seen(k, false);
        for (int n = 0; n < k; ++n) {
          int got = -1;
          std::vector<goro::select_case> cases;
          for (int i = 0; i < k; ++i)
            cases.push_back(goro::case_recv(chans[i], [&](std::optional<int> v) { got = *v; }));
          std::size_t idx = goro::select(cases);
          ASSERT_LT(idx, static_cast<std::size_t>(k));
          EXPECT_EQ(got, static_cast<int>(idx) * 100);
          EXPECT_FALSE(seen[idx]);
          seen[idx] = true;
        }
      },
      cfg());
}

TEST_P(SelectTest, RuntimeSizedMixedCasesWithDefaultAndSpan) {
  goro::run(
      [] {
        auto in = goro::make_chan<int>(1), out = goro::make_chan<int>(1);
        goro::chan<int> nil_ch;
        std::optional<int> got;
        int value = 9;
        bool def = false;
        std::vector<goro::select_case> cases;
        cases.push_back(goro::case_recv(in, got));
        cases.push_back(goro::case_send(out, value));
        cases.push_back(goro::case_recv(nil_ch));
        cases.push_back(goro::case_default([&] { def = true; }));
        // Only the send is ready.
        EXPECT_EQ(goro::select(std::span<goro::select_case>(cases)), 1u);
        EXPECT_EQ(out.recv(), 9);
        // Nothing ready: default (a type-erased default still makes it non-blocking).
        std::vector<goro::select_case> again;
        out.send(0);
        again.push_back(goro::case_recv(in, got));
        again.push_back(goro::case_send(out, value));
        again.push_back(goro::case_default([&] { def = true; }));
        EXPECT_EQ(goro::select(again), 2u);
        EXPECT_TRUE(def);
        // A receive becomes ready.
        in.send(3);
        std::vector<goro::select_case> third;
        third.push_back(goro::case_recv(in, got));
        third.push_back(goro::case_default());
        EXPECT_EQ(goro::select(third), 0u);
        EXPECT_EQ(got, 3);
        // Type-erased cases mix with static ones in the variadic form.
        in.send(4);
        goro::select_case erased = goro::case_recv(in, got);
        EXPECT_EQ(goro::select(std::move(erased), goro::case_default()), 0u);
        EXPECT_EQ(got, 4);
        goro::select_case erased_default = goro::case_default();
        EXPECT_EQ(goro::select(goro::case_recv(in), std::move(erased_default)), 1u);
      },
      cfg());
}

// ------------------------------------------------------ blocking forever

TEST_P(SelectTest, EmptySelectBlocksForever) {
  goro::testing::allow_leaks leaks;  // blocked for ever, by design
  std::atomic<int> passed{0};
  auto ids = goro::make_chan<std::int64_t>(2);
  goro::run(
      [&] {
        goro::go([&] {
          ids.send(goro::this_goroutine::id());
          goro::select();
          passed.fetch_add(1);
        });
        goro::go([&] {
          ids.send(goro::this_goroutine::id());
          std::vector<goro::select_case> none;
          goro::select(none);
          passed.fetch_add(1);
        });
        EXPECT_TRUE(goro_test::wait_until_parked(*ids.recv(), "select (no cases)"));
        EXPECT_TRUE(goro_test::wait_until_parked(*ids.recv(), "select (no cases)"));
        for (int i = 0; i < 100; ++i) goro::yield();
        EXPECT_EQ(passed.load(), 0);
      },
      cfg());
  EXPECT_EQ(passed.load(), 0);
}

TEST_P(SelectTest, SelectOnlyOnNilChannelsBlocksForever) {
  goro::testing::allow_leaks leaks;  // blocked for ever, by design
  std::atomic<int> passed{0};
  auto ids = goro::make_chan<std::int64_t>(1);
  goro::chan<int> nil_ch;
  goro::run(
      [&] {
        goro::go([&] {
          ids.send(goro::this_goroutine::id());
          goro::select(goro::case_recv(nil_ch), goro::case_send(nil_ch, 7));
          passed.fetch_add(1);
        });
        EXPECT_TRUE(goro_test::wait_until_parked(*ids.recv(), "select"));
        for (int i = 0; i < 100; ++i) goro::yield();
        EXPECT_EQ(passed.load(), 0);
      },
      cfg());
  EXPECT_EQ(passed.load(), 0);
}

// ------------------------------------------------------------ panics

TEST_P(SelectTest, SendOnClosedInsideSelectPanics) {
  goro::run(
      [] {
        auto closed = goro::make_chan<int>(1);
        closed.close();
        auto other = goro::make_chan<int>();
        expect_panic([&] { goro::select(goro::case_send(closed, 1)); }, "send on closed channel");
        // Even with a default, as in Go.
        expect_panic([&] { goro::select(goro::case_send(closed, 1), goro::case_default()); }, "send on closed channel");
        expect_panic([&] { goro::select(goro::case_send(closed, 1), goro::case_recv(other)); },
                     "send on closed channel");
        std::vector<goro::select_case> cases;
        cases.push_back(goro::case_send(closed, 2));
        expect_panic([&] { goro::select(cases); }, "send on closed channel");
        // The channels are left unlocked and usable.
        EXPECT_EQ(closed.recv(), std::nullopt);
        EXPECT_EQ(goro::select(goro::case_recv(other), goro::case_default()), 1u);
      },
      cfg());
}

TEST_P(SelectTest, CloseWakesASelectParkedOnSendWithAPanic) {
  goro::run(
      [] {
        auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
        auto ids = goro::make_chan<std::int64_t>(1);
        auto result = goro::make_chan<std::string>(1);
        goro::go([=] {
          ids.send(goro::this_goroutine::id());
          try {
            goro::select(goro::case_send(a, 1), goro::case_recv(b));
            result.send("no panic");
          } catch (const goro::panic_error& e) {
            result.send(e.what());
          }
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "select"));
        a.close();
        EXPECT_EQ(result.recv(), "send on closed channel");
        // Its receive case was withdrawn from b.
        EXPECT_FALSE(b.try_send(1));
      },
      cfg());
}

TEST_P(SelectTest, CloseWakesASelectParkedOnReceive) {
  goro::run(
      [] {
        auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
        auto ids = goro::make_chan<std::int64_t>(1);
        auto result = goro::make_chan<std::pair<std::size_t, bool>>(1);
        goro::go([=] {
          ids.send(goro::this_goroutine::id());
          std::optional<int> va = 1, vb = 1;
          std::size_t k = goro::select(goro::case_recv(a, va), goro::case_recv(b, vb));
          result.send({k, (k == 0 ? va : vb).has_value()});
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "select"));
        b.close();
        EXPECT_EQ(*result.recv(), (std::pair<std::size_t, bool>{1, false}));
      },
      cfg());
}

// ---------------------------------------------------- plain threads

TEST_P(SelectTest, PlainThreadBlocksInSelect) {
  const int n = scaled(10'000, 1'000);
  goro::run(
      [&] {
        auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
        auto quit = goro::make_chan<std::monostate>();
        auto sum = goro::make_chan<long long>(1);
        std::thread t([=] {
          long long s = 0;
          bool running = true;
          while (running) {
            goro::select(goro::case_recv(a, [&](std::optional<int> v) { s += *v; }),
                         goro::case_recv(b, [&](std::optional<int> v) { s += *v; }),
                         goro::case_recv(quit, [&] { running = false; }));
          }
          sum.send(s);
        });
        goro::wait_group wg;
        wg.add(2);
        goro::go([&, a] {
          for (int i = 0; i < n; ++i) a.send(i);
          wg.done();
        });
        goro::go([&, b] {
          for (int i = 0; i < n; ++i) b.send(i);
          wg.done();
        });
        wg.wait();
        quit.close();
        EXPECT_EQ(sum.recv(), static_cast<long long>(n) * (n - 1));
        t.join();
      },
      cfg());
}

INSTANTIATE_TEST_SUITE_P(Procs, SelectTest, testing::Values(1, 2, 4), goro_test::procs_name);

}  // namespace
