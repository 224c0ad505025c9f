// go_programs_test.cpp — the behaviour of Go's test/chan programs, ported:
// sieve1, fifo, goroutines, select, select3, select6, select7, nonblock,
// doubleselect and zerosize. Where Go sleeps or polls with a ticker, these
// wait on goroutine states or yield; nothing is timed.
#include <goro/goro.hpp>
#include <goro/testing.hpp>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "chan_test_util.hpp"
#include "test_support.hpp"

namespace {

using goro_test::scaled;

class GoChanTest : public testing::TestWithParam<int> {
 protected:
  goro::config cfg() const { return goro::config{.procs = GetParam()}; }
};

std::vector<int> first_primes(int n) {
  std::vector<int> out;
  for (int x = 2; static_cast<int>(out.size()) < n; ++x) {
    bool prime = true;
    for (int p : out) {
      if (p * p > x) break;
      if (x % p == 0) {
        prime = false;
        break;
      }
    }
    if (prime) out.push_back(x);
  }
  return out;
}

// ------------------------------------------------------------- sieve1.go
//
// As in Go, the generator and the filters run forever and run() discards
// them. A discarded goroutine's frame is never unwound, so the goroutines
// here own no channel: they use channels kept in a registry that outlives
// run (std::deque keeps references stable), which frees them afterwards.

using chan_registry = std::deque<goro::chan<int>>;

void generate(const goro::chan<int>* ch) {
  for (int i = 2;; ++i) ch->send(i);
}

void filter(const goro::chan<int>* in, const goro::chan<int>* out, int prime) {
  for (;;) {
    int i = *in->recv();
    if (i % prime != 0) out->send(i);
  }
}

void sieve(chan_registry* reg, const goro::chan<int>* primes) {
  const goro::chan<int>* ch = &reg->emplace_back(goro::make_chan<int>());  // only this goroutine adds
  goro::go(generate, ch);
  for (;;) {
    int prime = *ch->recv();
    primes->send(prime);
    const goro::chan<int>* ch1 = &reg->emplace_back(goro::make_chan<int>());
    goro::go(filter, ch, ch1, prime);
    ch = ch1;
  }
}

TEST_P(GoChanTest, Sieve1) {
  goro::testing::allow_leaks leaks;  // as in Go's test, left blocked
  const std::vector<int> want = first_primes(100);
  chan_registry reg;
  auto primes = goro::make_chan<int>();
  goro::run(
      [&] {
        goro::go(sieve, &reg, &primes);
        for (int i = 0; i < 100; ++i) ASSERT_EQ(primes.recv(), want[i]) << "prime #" << i;
      },
      cfg());
}

// The same sieve shut down cleanly: closing `quit` stops the generator, and
// each filter closes its output when its input closes.
TEST_P(GoChanTest, SieveWithShutdown) {
  const int n = scaled(300, 100);
  const std::vector<int> want = first_primes(n);
  goro::run(
      [&] {
        auto quit = goro::make_chan<std::monostate>();
        auto primes = goro::make_chan<int>();
        goro::wait_group wg;
        wg.add(2);
        auto filters = std::make_shared<goro::wait_group>();
        goro::go([&, primes, quit, filters] {
          auto ch = goro::make_chan<int>();
          goro::go([&, ch, quit] {
            for (int i = 2;; ++i) {
              bool stop = false;
              goro::select(goro::case_send(ch, i), goro::case_recv(quit, [&] { stop = true; }));
              if (stop) break;
            }
            ch.close();
            wg.done();
          });
          goro::chan<int> in = ch;
          for (;;) {
            std::optional<int> prime = in.recv();
            if (!prime) break;
            // A prime after quit has nobody to receive it.
            bool stop = false;
            goro::select(goro::case_send(primes, *prime), goro::case_recv(quit, [&] { stop = true; }));
            if (stop) {
              for (int drained : in) (void)drained;  // let the chain run down
              break;
            }
            auto out = goro::make_chan<int>();
            filters->add(1);
            goro::go([in, out, p = *prime, filters] {
              for (int i : in)
                if (i % p != 0) out.send(i);
              out.close();
              filters->done();
            });
            in = out;
          }
          wg.done();
        });
        for (int i = 0; i < n; ++i) ASSERT_EQ(primes.recv(), want[i]) << "prime #" << i;
        quit.close();
        wg.wait();
        filters->wait();
        goro_test::yield_until([] { return goro::num_goroutine() == 1; }, "every sieve goroutine exits");
      },
      cfg());
}

// --------------------------------------------------------------- fifo.go

TEST_P(GoChanTest, AsynchFifo) {
  const int n = 1000;
  goro::run(
      [&] {
        auto ch = goro::make_chan<int>(n);
        for (int i = 0; i < n; ++i) ch.send(i);
        for (int i = 0; i < n; ++i) ASSERT_EQ(ch.recv(), i);
      },
      cfg());
}

void chain(goro::recv_chan<int> ch, int val, goro::recv_chan<int> in, goro::send_chan<int> out) {
  in.recv();
  if (ch.recv() != val) ADD_FAILURE() << "fifo out of order at " << val;
  out.send(1);
}

TEST_P(GoChanTest, SynchFifo) {
  // A daisy chain reads the elements in sequence.
  const int n = scaled(1000, 200);
  goro::run(
      [&] {
        auto ch = goro::make_chan<int>();
        auto in = goro::make_chan<int>();
        auto start = in;
        for (int i = 0; i < n; ++i) {
          auto out = goro::make_chan<int>();
          goro::go(chain, ch, i, in, out);
          in = out;
        }
        start.send(0);
        for (int i = 0; i < n; ++i) ch.send(i);
        in.recv();
        // Unlike Go, wait for the last links to return: a goroutine discarded
        // by run is not unwound, and its by-value channel parameters would leak.
        goro_test::yield_until([] { return goro::num_goroutine() == 1; }, "the chain exits");
      },
      cfg());
}

// --------------------------------------------------------- goroutines.go

TEST_P(GoChanTest, GoroutineChain) {
  const int n = scaled(10'000, 1'000);
  goro::run(
      [&] {
        auto leftmost = goro::make_chan<int>();
        auto left = leftmost, right = leftmost;
        for (int i = 0; i < n; ++i) {
          right = goro::make_chan<int>();
          goro::go([](goro::chan<int> l, goro::chan<int> r) { l.send(*r.recv() + 1); }, left, right);
          left = right;
        }
        goro::go([](goro::chan<int> c) { c.send(1); }, right);
        EXPECT_EQ(leftmost.recv(), n + 1);
        goro_test::yield_until([] { return goro::num_goroutine() == 1; }, "the chain exits");
      },
      cfg());
}

// ------------------------------------------------------------- select.go

TEST(GoChan, SelectEvaluatesEveryCaseExpression) {
  // Every case's value is evaluated on every select, nil channels included.
  goro::run([] {
    unsigned counter = 0, shift = 0;
    auto get_value = [&] {
      ++counter;
      return 1u << shift;
    };
    auto send = [&](goro::chan<unsigned> a, goro::chan<unsigned> b) {
      shift = 0;
      int i = 0;
      for (;;) {
        bool dflt = false;
        goro::select(goro::case_send(a, get_value(), [&] { ++i, a = {}; }),
                     goro::case_send(b, get_value(), [&] { ++i, b = {}; }), goro::case_default([&] { dflt = true; }));
        if (dflt) return i;
        ++shift;
      }
    };
    auto a = goro::make_chan<unsigned>(1), b = goro::make_chan<unsigned>(1);
    EXPECT_EQ(send(a, b), 2);
    unsigned av = *a.recv(), bv = *b.recv();
    EXPECT_EQ(av | bv, 3u);
    EXPECT_EQ(send(a, {}), 1);
    EXPECT_EQ(counter, 10u);
  });
}

// ------------------------------------------------------------ select3.go
//
// What blocks and what does not. "Always blocks" is shown by the goroutine
// parking in the expected state with nothing that could ever wake it;
// "never blocks" by the goroutine finishing. Blocked goroutines are
// discarded when run returns, so everything they touch outlives run.

struct Select3 {
  goro::chan<int> nilch;
  goro::chan<int> closedch = goro::make_chan<int>();
  std::vector<goro::chan<int>> pool;  // channels the blocking cases make
  std::atomic<int> passed_a_block{0};
  goro::chan<std::pair<int, std::int64_t>> ids = goro::make_chan<std::pair<int, std::int64_t>>(64);
  std::vector<std::pair<std::string, std::string>> blockers;  // (name, state)
  std::vector<std::function<void()>> fns;

  Select3() {
    closedch.close();
    for (int i = 0; i < 8; ++i) pool.push_back(goro::make_chan<int>());
  }

  goro::chan<int> fresh() {
    goro::chan<int> c = pool.back();
    pool.pop_back();
    return c;
  }

  // f must block forever, parked in `state`.
  void always_blocks(std::string name, std::string state, std::function<void()> f) {
    blockers.emplace_back(std::move(name), std::move(state));
    fns.push_back(std::move(f));
  }

  void start_blockers() {
    for (int k = 0; k < static_cast<int>(fns.size()); ++k) {
      goro::go([this, k] {
        ids.send({k, goro::this_goroutine::id()});
        fns[k]();
        passed_a_block.fetch_add(1);
        ADD_FAILURE() << blockers[k].first << ": did not block";
      });
    }
  }

  void check_blockers() {
    for (std::size_t i = 0; i < fns.size(); ++i) {
      auto [k, id] = *ids.recv();
      EXPECT_TRUE(goro_test::wait_until_parked(id, blockers[k].second)) << blockers[k].first;
    }
    for (int i = 0; i < 100; ++i) goro::yield();
    EXPECT_EQ(passed_a_block.load(), 0);
  }
};

// f must return without blocking (it finishes in its own goroutine).
void never_blocks(const char* name, const std::function<void()>& f) {
  auto done = goro::make_chan<std::monostate>(1);
  goro::go([&f, done] {
    f();
    done.send(std::monostate{});
  });
  goro_test::bailout limit(std::chrono::seconds(60));
  while (!done.try_recv()) {
    if (limit.expired()) {
      ADD_FAILURE() << name << ": blocked\n" << goro_test::goroutine_dump();
      return;
    }
    goro::yield();
  }
}

void always_panics(const char* name, const std::function<void()>& f) {
  try {
    f();
    ADD_FAILURE() << name << ": did not panic";
  } catch (const goro::panic_error& e) {
    EXPECT_STREQ(e.what(), "send on closed channel") << name;
  }
}

void never_panics(const char* name, const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    ADD_FAILURE() << name << ": panicked: " << e.what();
  }
}

TEST_P(GoChanTest, Select3BlockingRules) {
  goro::testing::allow_leaks leaks;  // as in Go's test, left blocked
  Select3 t;                         // outlives run: the blocked goroutines are discarded, not unwound
  auto& nilch = t.nilch;
  auto& closedch = t.closedch;
  auto unreachable = [] { ADD_FAILURE() << "unreachable case chosen"; };

  // sending/receiving from a nil channel blocks
  t.always_blocks("nil send", "chan send (nil chan)", [&] { nilch.send(7); });
  t.always_blocks("nil receive", "chan receive (nil chan)", [&] { nilch.recv(); });
  // receiving from a non-ready channel always blocks
  goro::chan<int> c1 = t.fresh();
  t.always_blocks("receive from a non-ready channel", "chan receive", [&, c1] { c1.recv(); });
  // sending to a full channel blocks
  goro::chan<int> full = goro::make_chan<int>(1);
  full.send(0);
  t.always_blocks("send to a full channel", "chan send", [&, full] { full.send(1); });
  // empty selects always block
  t.always_blocks("select {}", "select (no cases)", [] { goro::select(); });
  // selects with only nil channels always block
  t.always_blocks("select nil receive", "select", [&] { goro::select(goro::case_recv(nilch, unreachable)); });
  t.always_blocks("select nil send", "select", [&] { goro::select(goro::case_send(nilch, 7, unreachable)); });
  t.always_blocks("select nil receive and send", "select",
                  [&] { goro::select(goro::case_recv(nilch, unreachable), goro::case_send(nilch, 7, unreachable)); });
  // selects with non-ready non-nil channels always block
  goro::chan<int> c2 = t.fresh();
  t.always_blocks("select non-ready", "select", [&, c2] { goro::select(goro::case_recv(c2, unreachable)); });
  // select should not get confused if it sees itself
  goro::chan<int> c3 = t.fresh();
  t.always_blocks("select sees itself", "select",
                  [&, c3] { goro::select(goro::case_send(c3, 1, unreachable), goro::case_recv(c3, unreachable)); });

  goro::run(
      [&] {
        t.start_blockers();

        // sending/receiving from a nil channel inside a select is never selected
        never_panics("select nil send with default",
                     [&] { goro::select(goro::case_send(nilch, 7, unreachable), goro::case_default()); });
        never_panics("select nil receive with default",
                     [&] { goro::select(goro::case_recv(nilch, unreachable), goro::case_default()); });
        // sending to an async channel with free buffer space never blocks
        never_blocks("send with buffer space", [] {
          auto ch = goro::make_chan<int>(1);
          ch.send(7);
        });
        // receiving from a closed channel never blocks
        never_blocks("receive from closed", [&] {
          for (int i = 0; i < 10; ++i) {
            if (closedch.recv().has_value()) ADD_FAILURE() << "value from a closed channel";
          }
        });
        // sending to a closed channel panics
        always_panics("send to closed", [&] { closedch.send(7); });
        // selects with default cases don't block
        never_blocks("select default", [] { goro::select(goro::case_default()); });
        never_blocks("select nil receive with default",
                     [&] { goro::select(goro::case_recv(nilch, unreachable), goro::case_default()); });
        never_blocks("select nil send with default",
                     [&] { goro::select(goro::case_send(nilch, 7, unreachable), goro::case_default()); });
        // selects with ready channels don't block
        never_blocks("select send with buffer space", [&] {
          auto ch = goro::make_chan<int>(1);
          goro::select(goro::case_send(ch, 7), goro::case_default(unreachable));
        });
        never_blocks("select receive from buffer", [&] {
          auto ch = goro::make_chan<int>(1);
          ch.send(7);
          goro::select(goro::case_recv(ch), goro::case_default(unreachable));
        });
        // selects with closed channels behave like ordinary operations
        never_blocks("select receive from closed", [&] { goro::select(goro::case_recv(closedch)); });
        never_blocks("select receive value from closed", [&] {
          goro::select(goro::case_recv(closedch, [](std::optional<int> x) { EXPECT_FALSE(x.has_value()); }));
        });
        never_blocks("select receive into from closed", [&] {
          std::optional<int> x = 5;
          goro::select(goro::case_recv(closedch, x));
          EXPECT_FALSE(x.has_value());
        });
        always_panics("select send to closed", [&] { goro::select(goro::case_send(closedch, 7)); });

        t.check_blockers();
      },
      cfg());
  EXPECT_EQ(t.passed_a_block.load(), 0);
}

// ------------------------------------------------------------ select6.go

TEST_P(GoChanTest, Select6FailedCasesDoNotCorruptQueues) {
  // Issue 2075: a select's failed case must be withdrawn cleanly from a
  // channel with other waiters, or later waiters there never wake.
  const int rounds = scaled(2000, 200);
  goro::run(
      [&] {
        for (int r = 0; r < rounds; ++r) {
          auto c1 = goro::make_chan<bool>(), c2 = goro::make_chan<bool>(), c3 = goro::make_chan<bool>();
          goro::wait_group wg;
          wg.add(3);
          goro::go([&, c1] {
            c1.recv();
            wg.done();
          });
          goro::go([&, c1, c2, c3] {
            goro::select(goro::case_recv(c1, [] { ADD_FAILURE() << "dummy"; }),
                         goro::case_recv(c2, [&] { c3.send(true); }));
            c1.recv();
            wg.done();
          });
          goro::go([&, c2] {
            c2.send(true);
            wg.done();
          });
          c3.recv();
          c1.send(true);
          c1.send(true);
          wg.wait();
        }
      },
      cfg());
}

// ------------------------------------------------------------ select7.go

void recv1(goro::recv_chan<int> c) { c.recv(); }
void recv2(goro::recv_chan<int> c) { goro::select(goro::case_recv(c)); }
void recv3(goro::recv_chan<int> c) {
  auto c2 = goro::make_chan<int>();
  goro::select(goro::case_recv(c), goro::case_recv(c2));
}

// Each sender waits until the receiver is parked (Go: runtime.Gosched()).
void send_after_park(void (*recv)(goro::recv_chan<int>), int how) {
  auto c = goro::make_chan<int>();
  auto ids = goro::make_chan<std::int64_t>(1);
  goro::wait_group wg;
  wg.add(1);
  goro::go([&, c, ids, recv] {
    ids.send(goro::this_goroutine::id());
    recv(c);
    wg.done();
  });
  const std::int64_t id = *ids.recv();
  const char* state = recv == recv1 ? "chan receive" : "select";
  ASSERT_TRUE(goro_test::wait_until_parked(id, state));
  switch (how) {
    case 1: c.send(1); break;
    case 2: goro::select(goro::case_send(c, 1)); break;
    case 3: {
      auto c2 = goro::make_chan<int>();
      goro::select(goro::case_send(c, 1), goro::case_send(c2, 1));
      break;
    }
  }
  wg.wait();
}

TEST_P(GoChanTest, Select7ParkedReceiverAndSenderForms) {
  goro::run(
      [] {
        for (auto recv : {recv1, recv2, recv3})
          for (int how : {1, 2, 3}) send_after_park(recv, how);
      },
      cfg());
}

// ----------------------------------------------------------- nonblock.go

template <class T>
void nonblock_round(std::size_t buffer, T sent_by_main, T sent_by_partner) {
  auto c = goro::make_chan<T>(buffer);
  auto sync = goro::make_chan<bool>();
  // Nothing to receive yet.
  EXPECT_EQ(goro::select(goro::case_recv(c, [](auto) { ADD_FAILURE() << "blocked sender"; }), goro::case_default()),
            1u);

  // Non-blocking sends: a partner receives.
  goro::go([=] {
    if (c.recv() != sent_by_main) ADD_FAILURE() << "receiver got the wrong value";
    sync.send(true);
  });
  goro_test::bailout limit(std::chrono::seconds(60));
  for (;;) {
    T v = sent_by_main;
    if (goro::select(goro::case_send(c, v), goro::case_default()) == 0) break;
    ASSERT_FALSE(limit.expired()) << "receiver never ready, buffer=" << buffer;
    goro::yield();
  }
  sync.recv();

  // Non-blocking receives: a partner sends.
  goro::go([=] {
    c.send(sent_by_partner);
    sync.send(true);
  });
  if (buffer > 0) sync.recv();
  std::optional<T> got;
  for (;;) {
    if (goro::select(goro::case_recv(c, got), goro::case_default()) == 0) break;
    ASSERT_FALSE(limit.expired()) << "sender never ready, buffer=" << buffer;
    goro::yield();
  }
  EXPECT_EQ(got, sent_by_partner);
  if (buffer == 0) sync.recv();
}

TEST_P(GoChanTest, Nonblock) {
  goro::run(
      [] {
        for (std::size_t buffer : {0u, 1u}) {
          nonblock_round<std::int32_t>(buffer, 123, 234);
          nonblock_round<std::int64_t>(buffer, 123456, 234567);
          nonblock_round<bool>(buffer, true, true);
          nonblock_round<std::string>(buffer, std::string("hello"), std::string("hello again"));
        }
      },
      cfg());
}

TEST_P(GoChanTest, NonblockingTryOpsWithAPartner) {
  // The same with try_send / try_recv.
  goro::run(
      [] {
        for (std::size_t buffer : {0u, 1u}) {
          auto c = goro::make_chan<std::string>(buffer);
          auto sync = goro::make_chan<bool>();
          EXPECT_EQ(c.try_recv(), std::nullopt);
          goro::go([=] {
            EXPECT_EQ(c.recv(), "ping");
            sync.send(true);
          });
          std::string v = "ping";
          ASSERT_TRUE(goro_test::yield_until([&] { return c.try_send(v); }, "try_send accepted"));
          EXPECT_TRUE(v.empty());  // moved from
          sync.recv();
          goro::go([=] {
            c.send("pong");
            sync.send(true);
          });
          if (buffer > 0) sync.recv();
          std::optional<std::string> got;
          ASSERT_TRUE(goro_test::yield_until([&] { return (got = c.try_recv()).has_value(); }, "try_recv got a value"));
          EXPECT_EQ(got, "pong");
          if (buffer == 0) sync.recv();
        }
      },
      cfg());
}

// ------------------------------------------------------- doubleselect.go

TEST_P(GoChanTest, DoubleSelect) {
  // One sender selects over four channels; four muxes forward onto one
  // channel; a receiver checks that no value arrives twice.
  const int iterations = scaled(100'000, 10'000);
  goro::run(
      [&] {
        std::array<goro::chan<int>, 4> c = {goro::make_chan<int>(), goro::make_chan<int>(), goro::make_chan<int>(),
                                            goro::make_chan<int>()};
        auto done = goro::make_chan<bool>();
        auto cmux = goro::make_chan<int>();
        goro::go([=] {
          for (int i = 0; i < iterations; ++i)
            goro::select(goro::case_send(c[0], i), goro::case_send(c[1], i), goro::case_send(c[2], i),
                         goro::case_send(c[3], i));
          for (auto& ch : c) ch.close();
        });
        for (int k = 0; k < 4; ++k) {
          goro::go(
              [=](goro::send_chan<int> out, goro::recv_chan<int> in) {
                for (int v : in) out.send(v);
                done.send(true);
              },
              cmux, c[k]);
        }
        goro::go([=] {
          for (int k = 0; k < 4; ++k) done.recv();
          cmux.close();
        });
        std::vector<unsigned char> seen(iterations, 0);
        int count = 0;
        for (int v : cmux) {
          ASSERT_GE(v, 0);
          ASSERT_LT(v, iterations);
          ASSERT_EQ(seen[v], 0) << "got duplicate value: " << v;
          seen[v] = 1;
          ++count;
        }
        EXPECT_EQ(count, iterations);
        goro_test::yield_until([] { return goro::num_goroutine() == 1; }, "the muxes exit");
      },
      cfg());
}

TEST_P(GoChanTest, ManySelectorsOverTheSameChannels) {
  // Several senders and several receivers all select over the same four
  // channels: every value is received exactly once.
  const int senders = 4, receivers = 4, per_sender = scaled(25'000, 2'500);
  const int total = senders * per_sender;
  goro::run(
      [&] {
        std::array<goro::chan<int>, 4> c = {goro::make_chan<int>(), goro::make_chan<int>(1), goro::make_chan<int>(),
                                            goro::make_chan<int>(3)};
        std::vector<std::atomic<unsigned char>> seen(total);
        std::atomic<int> received{0};
        goro::wait_group sent, got;
        sent.add(senders);
        got.add(receivers);
        for (int s = 0; s < senders; ++s) {
          goro::go([&, s] {
            for (int i = 0; i < per_sender; ++i) {
              int v = s * per_sender + i;
              goro::select(goro::case_send(c[0], v), goro::case_send(c[1], v), goro::case_send(c[2], v),
                           goro::case_send(c[3], v));
            }
            sent.done();
          });
        }
        for (int r = 0; r < receivers; ++r) {
          goro::go([&] {
            std::array<goro::chan<int>, 4> in = c;
            int live = 4;
            while (live > 0) {
              std::optional<int> v;
              std::size_t k = goro::select(goro::case_recv(in[0], v), goro::case_recv(in[1], v),
                                           goro::case_recv(in[2], v), goro::case_recv(in[3], v));
              if (!v) {
                in[k] = {};  // closed: never chosen again
                --live;
                continue;
              }
              if (*v < 0 || *v >= total || seen[*v].fetch_add(1) != 0) ADD_FAILURE() << "value " << *v;
              received.fetch_add(1);
            }
            got.done();
          });
        }
        sent.wait();
        for (auto& ch : c) ch.close();
        got.wait();
        EXPECT_EQ(received.load(), total);
        int missing = 0;
        for (auto& x : seen) missing += x.load() != 1;
        EXPECT_EQ(missing, 0);
      },
      cfg());
}

// ---------------------------------------------------------- zerosize.go

TEST_P(GoChanTest, ZeroSizeElementTypes) {
  struct empty {};
  goro::run(
      [] {
        auto a = goro::make_chan<std::monostate>();
        auto b = goro::make_chan<std::monostate>(1);
        auto c = goro::make_chan<empty>();
        auto d = goro::make_chan<empty>(1);
        auto e = goro::make_chan<std::array<int, 0>>(3);
        EXPECT_EQ(b.capacity(), 1u);
        EXPECT_TRUE(b.try_send(std::monostate{}));
        EXPECT_EQ(b.size(), 1u);
        EXPECT_FALSE(b.try_send(std::monostate{}));
        EXPECT_TRUE(b.recv().has_value());
        EXPECT_TRUE(d.try_send(empty{}));
        EXPECT_TRUE(goro::select(goro::case_recv(d), goro::case_default()) == 0);
        for (int i = 0; i < 3; ++i) e.send({});
        EXPECT_EQ(e.size(), 3u);
        goro::go([=] {
          a.send({});
          c.send(empty{});
          a.close();
        });
        EXPECT_TRUE(a.recv().has_value());
        EXPECT_TRUE(c.recv().has_value());
        EXPECT_FALSE(a.recv().has_value());
      },
      cfg());
}

INSTANTIATE_TEST_SUITE_P(Procs, GoChanTest, testing::Values(1, 2, 4), goro_test::procs_name);

}  // namespace
