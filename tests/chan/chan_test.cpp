// chan_test.cpp — goro::chan<T>, send_chan<T>, recv_chan<T>: every channel
// row of the API contract (Go's chan semantics).
#include <goro/goro.hpp>
#include <goro/testing.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <variant>
#include <vector>

#include "chan_test_util.hpp"
#include "test_support.hpp"

namespace {

using goro_test::scaled;

class ChanTest : public testing::TestWithParam<int> {
 protected:
  goro::config cfg() const { return goro::config{.procs = GetParam()}; }
};

// Expects f() to throw goro::panic_error with exactly Go's message.
template <class F>
void expect_panic(F&& f, const char* msg) {
  try {
    f();
    ADD_FAILURE() << "no panic; expected: " << msg;
  } catch (const goro::panic_error& e) {
    EXPECT_STREQ(e.what(), msg);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what() << "; expected panic_error: " << msg;
  }
}

// A value type that counts live instances (for leaks and double destroys).
struct counted {
  static std::atomic<int> live;
  int v = 0;
  explicit counted(int x) : v(x) { live.fetch_add(1); }
  counted(const counted& o) : v(o.v) { live.fetch_add(1); }
  counted(counted&& o) noexcept : v(o.v) { live.fetch_add(1); }
  counted& operator=(const counted&) = default;
  ~counted() { live.fetch_sub(1); }
};
std::atomic<int> counted::live{0};

// ---------------------------------------------------------------- unbuffered

TEST_P(ChanTest, UnbufferedIsARendezvous) {
  goro::run(
      [] {
        auto ch = goro::make_chan<int>();
        EXPECT_EQ(ch.capacity(), 0u);
        EXPECT_EQ(ch.size(), 0u);
        std::atomic<bool> sent{false};
        goro::wait_group done;
        done.add(1);
        std::int64_t sender = 0;
        auto ids = goro::make_chan<std::int64_t>(1);
        goro::go([&, ch, ids] {
          ids.send(goro::this_goroutine::id());
          ch.send(42);  // completes only when someone receives
          sent.store(true);
          done.done();
        });
        sender = *ids.recv();
        // The sender parks in "chan send" and cannot get past it: no buffer.
        ASSERT_TRUE(goro_test::wait_until_parked(sender, "chan send"));
        EXPECT_FALSE(sent.load());
        EXPECT_EQ(ch.size(), 0u);  // an unbuffered channel never holds values
        EXPECT_EQ(ch.recv(), 42);
        done.wait();
        EXPECT_TRUE(sent.load());
      },
      cfg());
}

TEST_P(ChanTest, UnbufferedReceiverWaitsForASender) {
  goro::run(
      [] {
        auto ch = goro::make_chan<std::string>();
        auto ids = goro::make_chan<std::int64_t>(1);
        auto got = goro::make_chan<std::string>(1);
        goro::go([ch, ids, got] {
          ids.send(goro::this_goroutine::id());
          got.send(*ch.recv());
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "chan receive"));
        EXPECT_FALSE(got.try_recv().has_value());
        ch.send(std::string("hello, rendezvous"));
        EXPECT_EQ(got.recv(), "hello, rendezvous");
      },
      cfg());
}

TEST_P(ChanTest, PingPong) {
  const int rounds = scaled(100'000, 5'000);
  goro::run(
      [&] {
        auto ping = goro::make_chan<int>(), pong = goro::make_chan<int>();
        goro::go([=] {
          for (int i = 0; i < rounds; ++i) pong.send(*ping.recv() + 1);
        });
        int v = 0;
        for (int i = 0; i < rounds; ++i) {
          ping.send(v);
          v = *pong.recv();
        }
        EXPECT_EQ(v, rounds);
      },
      cfg());
}

// ------------------------------------------------------------------ buffered

TEST_P(ChanTest, BufferedFifoWithoutBlocking) {
  goro::run(
      [] {
        auto ch = goro::make_chan<int>(10);
        EXPECT_EQ(ch.capacity(), 10u);
        for (int i = 0; i < 10; ++i) {
          EXPECT_EQ(ch.size(), static_cast<std::size_t>(i));
          EXPECT_TRUE(ch.try_send(i)) << i;  // room in the buffer: never blocks
        }
        EXPECT_EQ(ch.size(), 10u);
        int extra = 10;
        EXPECT_FALSE(ch.try_send(extra));  // full
        for (int i = 0; i < 10; ++i) EXPECT_EQ(ch.recv(), i);
        EXPECT_EQ(ch.size(), 0u);
        EXPECT_FALSE(ch.try_recv().has_value());
        // Wrap around the ring many times.
        for (int round = 0; round < 100; ++round) {
          for (int i = 0; i < 7; ++i) ch.send(round * 7 + i);
          for (int i = 0; i < 7; ++i) ASSERT_EQ(ch.recv(), round * 7 + i);
        }
      },
      cfg());
}

TEST_P(ChanTest, BufferedOrderIsKeptAcrossBlockingSenders) {
  // A full buffer with parked senders: the head goes to the receiver and the
  // first parked sender's value takes the tail, so FIFO order holds.
  const int n = scaled(100'000, 5'000);
  for (std::size_t cap : {1u, 3u, 64u}) {
    goro::run(
        [&] {
          auto ch = goro::make_chan<int>(cap);
          goro::go([=] {
            for (int i = 0; i < n; ++i) ch.send(i);
            ch.close();
          });
          int expect = 0;
          for (int v : ch) {
            if (v != expect) {
              ADD_FAILURE() << "cap " << cap << ": got " << v << ", expected " << expect;
              break;
            }
            ++expect;
          }
          EXPECT_EQ(expect, n) << "cap " << cap;
        },
        cfg());
  }
}

TEST_P(ChanTest, PerSenderOrderWithManySendersOnAFullBuffer) {
  const int senders = 8, n = scaled(20'000, 1'000);
  goro::run(
      [&] {
        auto ch = goro::make_chan<std::pair<int, int>>(2);
        goro::wait_group wg;
        wg.add(senders);
        for (int s = 0; s < senders; ++s) {
          goro::go([&, s, ch] {
            for (int i = 0; i < n; ++i) ch.send({s, i});
            wg.done();
          });
        }
        goro::go([&, ch] {
          wg.wait();
          ch.close();
        });
        std::vector<int> next(senders, 0);
        int total = 0;
        for (auto [s, i] : ch) {
          ASSERT_EQ(i, next[s]) << "sender " << s;
          ++next[s];
          ++total;
        }
        EXPECT_EQ(total, senders * n);
      },
      cfg());
}

// ----------------------------------------------------------------- nil chan

TEST(ChanNil, DefaultConstructedIsNil) {
  goro::chan<int> c;
  goro::send_chan<int> s;
  goro::recv_chan<int> r;
  EXPECT_TRUE(c.is_nil());
  EXPECT_TRUE(s.is_nil());
  EXPECT_TRUE(r.is_nil());
  EXPECT_FALSE(static_cast<bool>(c));
  EXPECT_FALSE(static_cast<bool>(s));
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.capacity(), 0u);
  EXPECT_EQ(s.capacity(), 0u);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_TRUE(c == goro::chan<int>());
  EXPECT_FALSE(c == goro::make_chan<int>());
  EXPECT_TRUE(goro::make_chan<int>(0));  // a made channel is not nil
}

TEST(ChanNil, NonBlockingOpsAreNeverReadyAndCloseIsAPanic) {
  auto body = [] {
    goro::chan<std::unique_ptr<int>> c;
    auto p = std::make_unique<int>(7);
    EXPECT_FALSE(c.try_send(p));
    ASSERT_TRUE(p);  // not moved from
    EXPECT_EQ(*p, 7);
    EXPECT_FALSE(c.try_recv().has_value());
    expect_panic([&] { c.close(); }, "close of nil channel");
    goro::send_chan<std::unique_ptr<int>> s;
    expect_panic([&] { s.close(); }, "close of nil channel");
  };
  body();  // plain thread, no runtime
  goro::run(body);
}

TEST_P(ChanTest, NilSendAndReceiveBlockForever) {
  goro::testing::allow_leaks leaks;  // blocked for ever, by design
  // The goroutines are discarded when run returns: what they touch outlives run.
  goro::chan<int> nil_ch;
  std::atomic<int> passed{0};
  auto ids = goro::make_chan<std::pair<int, std::int64_t>>(4);  // (which, goroutine id)
  goro::run(
      [&] {
        goro::go([&] {
          ids.send({0, goro::this_goroutine::id()});
          nil_ch.send(1);
          passed.fetch_add(1);
        });
        goro::go([&] {
          ids.send({1, goro::this_goroutine::id()});
          nil_ch.recv();
          passed.fetch_add(1);
        });
        goro::go([&] {
          ids.send({2, goro::this_goroutine::id()});
          goro::recv_chan<int> r;
          for (int v : r) (void)v;  // ranging over nil blocks forever
          passed.fetch_add(1);
        });
        goro::go([&] {
          ids.send({3, goro::this_goroutine::id()});
          goro::send_chan<int> s;
          s.send(3);
          passed.fetch_add(1);
        });
        const char* want[] = {"chan send (nil chan)", "chan receive (nil chan)", "chan receive (nil chan)",
                              "chan send (nil chan)"};
        for (int i = 0; i < 4; ++i) {
          auto [which, id] = *ids.recv();
          EXPECT_TRUE(goro_test::wait_until_parked(id, want[which])) << "goroutine " << which;
        }
        for (int i = 0; i < 100; ++i) goro::yield();
        EXPECT_EQ(passed.load(), 0);
        EXPECT_EQ(goro::num_goroutine(), 5);
      },
      cfg());
  EXPECT_EQ(passed.load(), 0);
  // The next run starts clean.
  EXPECT_EQ(goro::run([] { return goro::num_goroutine(); }), 1);
}

// -------------------------------------------------------------------- close

TEST_P(ChanTest, ReceiveDrainsThenReportsClosed) {
  goro::run(
      [] {
        auto ch = goro::make_chan<int>(5);
        for (int i = 1; i <= 3; ++i) ch.send(i);
        ch.close();
        EXPECT_EQ(ch.size(), 3u);
        EXPECT_EQ(ch.recv(), 1);
        EXPECT_EQ(ch.try_recv(), 2);
        EXPECT_EQ(ch.recv(), 3);
        for (int i = 0; i < 10; ++i) {
          EXPECT_EQ(ch.recv(), std::nullopt);  // never blocks once closed and drained
          EXPECT_EQ(ch.try_recv(), std::nullopt);
        }
        auto u = goro::make_chan<int>();
        u.close();
        EXPECT_EQ(u.recv(), std::nullopt);
      },
      cfg());
}

TEST_P(ChanTest, SendOnClosedPanics) {
  goro::run(
      [] {
        for (std::size_t cap : {0u, 1u, 4u}) {
          auto ch = goro::make_chan<int>(cap);
          ch.close();
          expect_panic([&] { ch.send(1); }, "send on closed channel");
          int v = 5;
          expect_panic([&] { (void)ch.send(v); }, "send on closed channel");
          // try_send panics too (Go's select with default does), and leaves v alone.
          auto up = goro::make_chan<std::unique_ptr<int>>(cap);
          up.close();
          auto p = std::make_unique<int>(9);
          expect_panic([&] { (void)up.try_send(p); }, "send on closed channel");
          ASSERT_TRUE(p);
          EXPECT_EQ(*p, 9);
          goro::send_chan<int> s = ch;
          expect_panic([&] { s.send(1); }, "send on closed channel");
        }
      },
      cfg());
}

TEST_P(ChanTest, CloseOfClosedPanics) {
  goro::run(
      [] {
        auto ch = goro::make_chan<int>(3);
        ch.send(1);
        ch.close();
        expect_panic([&] { ch.close(); }, "close of closed channel");
        goro::send_chan<int> s = ch;
        expect_panic([&] { s.close(); }, "close of closed channel");
        EXPECT_EQ(ch.recv(), 1);  // the panic did not disturb the buffer
        EXPECT_EQ(ch.recv(), std::nullopt);
      },
      cfg());
}

TEST_P(ChanTest, CloseWakesEveryParkedReceiver) {
  const int n = scaled(50, 20);  // each poll dumps (and symbolizes) them all
  for (std::size_t cap : {0u, 4u}) {
    goro::run(
        [&] {
          auto ch = goro::make_chan<int>(cap);
          auto results = goro::make_chan<bool>(n);
          for (int i = 0; i < n; ++i) goro::go([=] { results.send(ch.recv().has_value()); });
          ASSERT_TRUE(goro_test::wait_until_count_parked(n, "chan receive"));
          ch.close();
          for (int i = 0; i < n; ++i) EXPECT_EQ(results.recv(), false);
        },
        cfg());
  }
}

TEST_P(ChanTest, CloseMakesParkedSendersPanic) {
  const int n = 20;
  for (std::size_t cap : {0u, 2u}) {
    goro::run(
        [&] {
          auto ch = goro::make_chan<int>(cap);
          for (std::size_t i = 0; i < cap; ++i) ch.send(-1);  // fill the buffer
          auto results = goro::make_chan<std::string>(n);
          for (int i = 0; i < n; ++i) {
            goro::go([=] {
              try {
                ch.send(i);
                results.send("sent");
              } catch (const goro::panic_error& e) {
                results.send(e.what());
              }
            });
          }
          ASSERT_TRUE(goro_test::wait_until_count_parked(n, "chan send"));
          ch.close();
          for (int i = 0; i < n; ++i) EXPECT_EQ(results.recv(), "send on closed channel");
          // The buffered values sent before close are still delivered.
          for (std::size_t i = 0; i < cap; ++i) EXPECT_EQ(ch.recv(), -1);
          EXPECT_EQ(ch.recv(), std::nullopt);
        },
        cfg());
  }
}

// ---------------------------------------------------------------- range-for

TEST_P(ChanTest, RangeEndsOnClose) {
  const int n = scaled(10'000, 1'000);
  goro::run(
      [&] {
        auto ch = goro::make_chan<int>(8);
        goro::go([=] {
          for (int i = 0; i < n; ++i) ch.send(i);
          ch.close();
        });
        long long sum = 0;
        int count = 0;
        for (int v : ch) {
          sum += v;
          ++count;
        }
        EXPECT_EQ(count, n);
        EXPECT_EQ(sum, static_cast<long long>(n) * (n - 1) / 2);
        // An already closed and drained channel: the loop body never runs.
        for (int v : ch) ADD_FAILURE() << "received " << v << " after close";
      },
      cfg());
}

TEST_P(ChanTest, RangeOverRecvChanAndByReference) {
  goro::run(
      [] {
        auto ch = goro::make_chan<std::string>(4);
        goro::go([ch] {
          for (const char* s : {"a", "b", "c"}) ch.send(std::string(s));
          ch.close();
        });
        goro::recv_chan<std::string> r = ch;
        std::string all;
        for (auto&& s : r) {
          s += "!";  // the element is the loop's own
          all += s;
        }
        EXPECT_EQ(all, "a!b!c!");
      },
      cfg());
}

TEST_P(ChanTest, RangeDoesNotReadAheadOnABufferedChannel) {
  goro::run(
      [] {
        auto ch = goro::make_chan<int>(5);
        for (int i = 0; i < 5; ++i) ch.send(i);
        for (int v : ch) {
          if (v == 2) break;
        }
        // 0, 1, 2 were received; 3 and 4 are still there.
        EXPECT_EQ(ch.size(), 2u);
        EXPECT_EQ(ch.recv(), 3);
        EXPECT_EQ(ch.recv(), 4);
      },
      cfg());
}

TEST_P(ChanTest, RangeDoesNotReadAheadOnAnUnbufferedChannel) {
  goro::run(
      [] {
        auto ch = goro::make_chan<int>();
        auto ids = goro::make_chan<std::int64_t>(1);
        goro::go([ch, ids] {
          ids.send(goro::this_goroutine::id());
          for (int i = 0; i < 5; ++i) ch.send(i);
          ch.close();
        });
        const std::int64_t sender = *ids.recv();
        int last = -1;
        for (int v : ch) {
          last = v;
          if (v == 1) break;
        }
        EXPECT_EQ(last, 1);
        // Without read-ahead the sender is parked with 2, not yet delivered.
        ASSERT_TRUE(goro_test::wait_until_parked(sender, "chan send"));
        EXPECT_EQ(ch.recv(), 2);
        std::vector<int> rest;
        for (int v : ch) rest.push_back(v);
        EXPECT_EQ(rest, (std::vector<int>{3, 4}));
      },
      cfg());
}

TEST_P(ChanTest, IteratorReceivesOnlyWhenAsked) {
  goro::run(
      [] {
        auto ch = goro::make_chan<int>(4);
        ch.send(10);
        ch.send(11);
        ch.send(12);
        auto it = ch.begin();  // receives the first element
        EXPECT_EQ(*it, 10);
        EXPECT_EQ(ch.size(), 2u);
        EXPECT_EQ(*it, 10);  // dereferencing does not receive
        ++it;
        EXPECT_EQ(*it, 11);
        EXPECT_EQ(ch.size(), 1u);
        EXPECT_FALSE(it == ch.end());
        ch.close();
        ++it;
        EXPECT_EQ(*it, 12);
        ++it;
        EXPECT_TRUE(it == ch.end());
      },
      cfg());
}

// ---------------------------------------------------------- try_send / recv

TEST_P(ChanTest, TrySendMovesOnlyOnSuccess) {
  goro::run(
      [] {
        auto ch = goro::make_chan<std::unique_ptr<int>>(1);
        auto a = std::make_unique<int>(1), b = std::make_unique<int>(2);
        EXPECT_TRUE(ch.try_send(a));
        EXPECT_FALSE(a);  // moved into the channel
        EXPECT_FALSE(ch.try_send(b));
        ASSERT_TRUE(b);  // full: left alone
        EXPECT_EQ(*b, 2);
        EXPECT_EQ(**ch.try_recv(), 1);
        EXPECT_TRUE(ch.try_send(std::move(b)));
        EXPECT_EQ(**ch.recv(), 2);

        // Unbuffered: succeeds only with a receiver parked.
        auto u = goro::make_chan<std::unique_ptr<int>>();
        auto c = std::make_unique<int>(3);
        EXPECT_FALSE(u.try_send(c));
        ASSERT_TRUE(c);
        auto got = goro::make_chan<int>(1);
        auto ids = goro::make_chan<std::int64_t>(1);
        goro::go([u, got, ids] {
          ids.send(goro::this_goroutine::id());
          got.send(**u.recv());
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "chan receive"));
        EXPECT_TRUE(u.try_send(c));
        EXPECT_FALSE(c);
        EXPECT_EQ(got.recv(), 3);
      },
      cfg());
}

TEST_P(ChanTest, TryRecv) {
  goro::run(
      [] {
        auto ch = goro::make_chan<int>(2);
        EXPECT_EQ(ch.try_recv(), std::nullopt);  // empty
        ch.send(5);
        EXPECT_EQ(ch.try_recv(), 5);
        EXPECT_EQ(ch.try_recv(), std::nullopt);

        // Unbuffered: succeeds only with a sender parked.
        auto u = goro::make_chan<int>();
        EXPECT_EQ(u.try_recv(), std::nullopt);
        auto ids = goro::make_chan<std::int64_t>(1);
        goro::wait_group wg;
        wg.add(1);
        goro::go([&, u, ids] {
          ids.send(goro::this_goroutine::id());
          u.send(77);
          wg.done();
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "chan send"));
        EXPECT_EQ(u.try_recv(), 77);
        wg.wait();

        // Closed and drained: nullopt as for empty; select with default tells them apart.
        ch.close();
        EXPECT_EQ(ch.try_recv(), std::nullopt);
        auto open = goro::make_chan<int>(2);
        EXPECT_EQ(goro::select(goro::case_recv(ch), goro::case_default()), 0u);    // closed: ready
        EXPECT_EQ(goro::select(goro::case_recv(open), goro::case_default()), 1u);  // empty: default
      },
      cfg());
}

// --------------------------------------------------- send_chan / recv_chan

template <class C>
concept can_send = requires(const C& c, int v) {
  c.send(v);
};
template <class C>
concept can_recv = requires(const C& c) {
  c.recv();
};
template <class C>
concept can_close = requires(const C& c) {
  c.close();
};
template <class C>
concept can_range = requires(const C& c) {
  c.begin();
};

static_assert(can_send<goro::chan<int>> && can_recv<goro::chan<int>> && can_close<goro::chan<int>> &&
              can_range<goro::chan<int>>);
static_assert(can_send<goro::send_chan<int>> && !can_recv<goro::send_chan<int>> && can_close<goro::send_chan<int>> &&
              !can_range<goro::send_chan<int>>);
static_assert(!can_send<goro::recv_chan<int>> && can_recv<goro::recv_chan<int>> && !can_close<goro::recv_chan<int>> &&
              can_range<goro::recv_chan<int>>);
static_assert(std::is_convertible_v<goro::chan<int>, goro::send_chan<int>>);
static_assert(std::is_convertible_v<goro::chan<int>, goro::recv_chan<int>>);
static_assert(!std::is_convertible_v<goro::send_chan<int>, goro::recv_chan<int>>);
static_assert(!std::is_convertible_v<goro::recv_chan<int>, goro::send_chan<int>>);
static_assert(!std::is_convertible_v<goro::recv_chan<int>, goro::chan<int>>);
static_assert(std::is_nothrow_default_constructible_v<goro::chan<int>>);
static_assert(std::is_copy_constructible_v<goro::chan<std::unique_ptr<int>>>);  // a handle, even for move-only T

void producer(goro::send_chan<int> out, int n) {
  for (int i = 0; i < n; ++i) out.send(i);
  out.close();
}

int consumer(goro::recv_chan<int> in) {
  int sum = 0;
  for (int v : in) sum += v;
  return sum;
}

TEST_P(ChanTest, DirectionalHandlesConvertAndShareTheChannel) {
  goro::run(
      [] {
        auto ch = goro::make_chan<int>();
        auto result = goro::make_chan<int>(1);
        goro::go(producer, ch, 100);  // chan<int> converts to send_chan<int>
        goro::go([ch, result] { result.send(consumer(ch)); });
        EXPECT_EQ(result.recv(), 4950);

        auto c2 = goro::make_chan<int>(3);
        goro::send_chan<int> s = c2;
        goro::recv_chan<int> r = c2;
        EXPECT_TRUE(s == goro::send_chan<int>(c2));
        EXPECT_TRUE(r == goro::recv_chan<int>(c2));
        EXPECT_FALSE(s == goro::send_chan<int>(goro::make_chan<int>(3)));
        EXPECT_EQ(s.capacity(), 3u);
        EXPECT_EQ(r.capacity(), 3u);
        EXPECT_TRUE(s.try_send(1));
        s.send(2);
        EXPECT_EQ(r.size(), 2u);
        EXPECT_EQ(s.size(), 2u);
        EXPECT_EQ(r.try_recv(), 1);
        EXPECT_EQ(r.recv(), 2);
        s.close();
        EXPECT_EQ(r.recv(), std::nullopt);
        EXPECT_EQ(c2.recv(), std::nullopt);
        std::hash<goro::send_chan<int>> hs;
        std::hash<goro::recv_chan<int>> hr;
        std::hash<goro::chan<int>> hc;
        EXPECT_EQ(hs(s), hc(c2));
        EXPECT_EQ(hr(r), hc(c2));
      },
      cfg());
}

TEST(ChanHandle, CopyMoveAndIdentity) {
  auto a = goro::make_chan<int>(2);
  goro::chan<int> b = a;  // copy: same channel
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a != b);
  b.send(1);
  EXPECT_EQ(a.size(), 1u);
  goro::chan<int> c = std::move(b);  // move: c takes it, b is nil
  EXPECT_TRUE(b.is_nil());
  EXPECT_TRUE(c == a);
  goro::chan<int> d;
  d = c;  // copy assignment
  EXPECT_TRUE(d == a);
  goro::chan<int> e;
  e = std::move(d);  // move assignment
  EXPECT_TRUE(d.is_nil());
  EXPECT_TRUE(e == a);
  const goro::chan<int>& same = e;
  e = same;  // self-assignment keeps it
  EXPECT_TRUE(e == a);
  EXPECT_FALSE(a == goro::make_chan<int>(2));  // a different channel with the same contents type and size

  goro::send_chan<int> s = a;
  goro::send_chan<int> s2 = std::move(s);
  EXPECT_TRUE(s.is_nil());
  EXPECT_TRUE(s2 == goro::send_chan<int>(a));
  goro::recv_chan<int> r = a;
  goro::recv_chan<int> r2;
  r2 = std::move(r);
  EXPECT_TRUE(r.is_nil());
  EXPECT_TRUE(r2 == goro::recv_chan<int>(a));
  EXPECT_EQ(r2.recv(), 1);

  // Converting from an rvalue chan moves: the source becomes nil.
  goro::chan<int> tmp = a;
  goro::recv_chan<int> r3 = std::move(tmp);
  EXPECT_TRUE(tmp.is_nil());
  EXPECT_TRUE(r3 == goro::recv_chan<int>(a));
  goro::chan<int> tmp2 = a;
  goro::send_chan<int> s3 = std::move(tmp2);
  EXPECT_TRUE(tmp2.is_nil());
  EXPECT_TRUE(s3 == goro::send_chan<int>(a));
}

TEST(ChanHandle, StdHash) {
  auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
  std::hash<goro::chan<int>> h;
  EXPECT_EQ(h(a), h(goro::chan<int>(a)));
  std::unordered_set<goro::chan<int>> set;
  set.insert(a);
  set.insert(goro::chan<int>(a));  // a copy is the same channel
  set.insert(b);
  set.insert(goro::chan<int>());
  set.insert(goro::chan<int>());  // every nil chan is the same
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(set.count(a), 1u);
  EXPECT_EQ(set.count(goro::make_chan<int>()), 0u);
  std::unordered_set<goro::send_chan<int>> ss{a, b, a};
  std::unordered_set<goro::recv_chan<int>> rs{a, b, b};
  EXPECT_EQ(ss.size(), 2u);
  EXPECT_EQ(rs.size(), 2u);
}

TEST(ChanHandle, ConstHandleCapturedByValue) {
  // All operations are const: a by-value capture in a non-mutable lambda works.
  goro::run([] {
    const auto ch = goro::make_chan<int>(1);
    auto f = [ch] {
      ch.send(3);
      return *ch.recv();
    };
    EXPECT_EQ(f(), 3);
  });
}

TEST(ChanHandle, LastHandleFreesBufferedValues) {
  counted::live.store(0);
  {
    auto ch = goro::make_chan<counted>(8);
    for (int i = 0; i < 5; ++i) ch.send(counted(i));
    EXPECT_EQ(counted::live.load(), 5);
    {
      auto v = ch.recv();
      EXPECT_EQ(v->v, 0);
      EXPECT_EQ(counted::live.load(), 5);
    }
    EXPECT_EQ(counted::live.load(), 4);
    counted c(100);
    ch.send(c);  // by const&: a copy goes in
    EXPECT_EQ(counted::live.load(), 6);
  }
  EXPECT_EQ(counted::live.load(), 0);  // the channel destroyed its 5 values
}

// ---------------------------------------------------------- move-only T

TEST_P(ChanTest, MoveOnlyValues) {
  const int n = scaled(10'000, 1'000);
  for (std::size_t cap : {0u, 1u, 16u}) {
    goro::run(
        [&] {
          auto ch = goro::make_chan<std::unique_ptr<int>>(cap);
          goro::go([=] {
            for (int i = 0; i < n; ++i) ch.send(std::make_unique<int>(i));
            ch.close();
          });
          int expect = 0;
          for (auto&& p : ch) {
            ASSERT_TRUE(p);
            ASSERT_EQ(*p, expect);
            ++expect;
          }
          EXPECT_EQ(expect, n);
        },
        cfg());
  }
}

TEST_P(ChanTest, ZeroSizeElements) {
  // Go's zerosize.go: channels of an empty type (chan struct{}).
  struct empty {};
  goro::run(
      [] {
        auto done = goro::make_chan<std::monostate>();
        auto buffered = goro::make_chan<empty>(1000);
        goro::go([=] {
          for (int i = 0; i < 1000; ++i) buffered.send(empty{});
          done.send(std::monostate{});
        });
        done.recv();
        EXPECT_EQ(buffered.size(), 1000u);
        int n = 0;
        while (buffered.try_recv()) ++n;
        EXPECT_EQ(n, 1000);
        goro::go([=] { done.close(); });
        EXPECT_EQ(done.recv(), std::nullopt);
      },
      cfg());
}

// ----------------------------------------------- plain threads and goroutines

TEST_P(ChanTest, PlainThreadsAndGoroutinesShareChannels) {
  // std::threads send to goroutines and receive from them; a plain thread
  // blocks its thread, a goroutine parks.
  const int threads = 3, goroutines = 8, per_thread = scaled(20'000, 1'000);
  goro::run(
      [&] {
        auto to_g = goro::make_chan<int>();
        auto from_g = goro::make_chan<long long>(4);
        goro::wait_group workers;
        workers.add(goroutines);
        for (int i = 0; i < goroutines; ++i) {
          goro::go([&, to_g, from_g] {
            long long sum = 0;
            for (int v : to_g) sum += v;
            from_g.send(sum);
            workers.done();
          });
        }
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; ++t) {
          ts.emplace_back([=] {
            for (int i = 1; i <= per_thread; ++i) to_g.send(i);
          });
        }
        // A plain thread collects the goroutines' results.
        auto total = goro::make_chan<long long>(1);
        std::thread collector([=] {
          long long all = 0;
          for (int i = 0; i < goroutines; ++i) all += *from_g.recv();
          total.send(all);
        });
        // Park (not join) until the senders are done: joining would block
        // this processor, and with one processor no goroutine could receive.
        auto senders_done = goro::make_chan<std::monostate>();
        std::thread joiner([&ts, senders_done] {
          for (auto& t : ts) t.join();
          senders_done.close();
        });
        senders_done.recv();
        to_g.close();
        EXPECT_EQ(total.recv(), static_cast<long long>(threads) * per_thread * (per_thread + 1) / 2);
        workers.wait();
        joiner.join();
        collector.join();
      },
      cfg());
}

TEST_P(ChanTest, UnbufferedHandOffBetweenAThreadAndAGoroutine) {
  const int rounds = scaled(20'000, 1'000);
  goro::run(
      [&] {
        auto ping = goro::make_chan<int>(), pong = goro::make_chan<int>();
        goro::go([=] {
          for (int i = 0; i < rounds; ++i) pong.send(*ping.recv() * 2);
        });
        auto result = goro::make_chan<bool>(1);
        std::thread t([=] {
          bool ok = true;
          for (int i = 0; i < rounds; ++i) {
            ping.send(i);
            std::optional<int> v = pong.recv();
            ok &= v == 2 * i;
          }
          result.send(ok);
        });
        EXPECT_EQ(result.recv(), true);
        t.join();
      },
      cfg());
}

TEST(ChanThreads, PlainThreadsWithoutARuntime) {
  // No runtime at all: channels still work between plain threads.
  const int n = scaled(20'000, 1'000);
  auto ch = goro::make_chan<int>(), back = goro::make_chan<int>(2);
  std::thread a([=] {
    for (int i = 0; i < n; ++i) ch.send(i);
    ch.close();
  });
  std::thread b([=] {
    long long sum = 0;
    for (int v : ch) sum += v;
    back.send(static_cast<int>(sum % 1'000'003));
  });
  a.join();
  b.join();
  EXPECT_EQ(back.recv(), static_cast<int>(static_cast<long long>(n) * (n - 1) / 2 % 1'000'003));
}

TEST(ChanThreads, CloseWakesABlockedThread) {
  auto ch = goro::make_chan<int>();
  auto tids = goro::make_chan<long>(1);
  std::optional<int> got = 1;
  std::thread t([&] {
    tids.send(goro_test::this_thread_tid());
    got = ch.recv();
  });
  EXPECT_TRUE(goro_test::wait_until_thread_blocks(*tids.recv()));  // blocked in recv, nothing else blocks it
  ch.close();
  t.join();
  EXPECT_EQ(got, std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Procs, ChanTest, testing::Values(1, 2, 4), goro_test::procs_name);

}  // namespace
