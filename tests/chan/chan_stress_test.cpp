// chan_stress_test.cpp — channels and select under contention, checked
// value by value: every value sent is received exactly once.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "chan_test_util.hpp"
#include "test_support.hpp"

namespace {

using goro_test::scaled;

// Every value in [0, n) must be marked exactly once.
class ledger {
 public:
  explicit ledger(int n) : seen_(n) {}
  void mark(int v) {
    if (v < 0 || v >= static_cast<int>(seen_.size())) {
      bad_.fetch_add(1);
      return;
    }
    seen_[v].fetch_add(1, std::memory_order_relaxed);
  }
  void check() const {
    int missing = 0, duplicated = 0, first_bad = -1;
    for (std::size_t i = 0; i < seen_.size(); ++i) {
      int c = seen_[i].load();
      if (c != 1 && first_bad < 0) first_bad = static_cast<int>(i);
      missing += c == 0;
      duplicated += c > 1;
    }
    EXPECT_EQ(missing, 0) << "first wrong value " << first_bad;
    EXPECT_EQ(duplicated, 0) << "first wrong value " << first_bad;
    EXPECT_EQ(bad_.load(), 0) << "values out of range";
  }

 private:
  std::vector<std::atomic<int>> seen_;
  std::atomic<int> bad_{0};
};

// (procs, capacity)
class MpmcTest : public testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(MpmcTest, ProducersAndConsumersOnOneChannel) {
  // (not a structured binding: Clang 14 cannot capture those in lambdas)
  const int procs = std::get<0>(GetParam()), cap = std::get<1>(GetParam());
  const int producers = 64, consumers = 64, per_producer = scaled(2'000, 100);
  const int total = producers * per_producer;
  ledger seen(total);
  std::atomic<long long> sum{0};
  goro::run(
      [&] {
        auto ch = goro::make_chan<int>(static_cast<std::size_t>(cap));
        goro::wait_group sent, received;
        sent.add(producers);
        received.add(consumers);
        for (int p = 0; p < producers; ++p) {
          goro::go([&, p, ch] {
            for (int i = 0; i < per_producer; ++i) ch.send(p * per_producer + i);
            sent.done();
          });
        }
        for (int c = 0; c < consumers; ++c) {
          goro::go([&, ch] {
            long long local = 0;
            for (int v : ch) {
              seen.mark(v);
              local += v;
            }
            sum.fetch_add(local);
            received.done();
          });
        }
        sent.wait();
        ch.close();
        received.wait();
        EXPECT_EQ(ch.size(), 0u);
      },
      goro::config{.procs = procs});
  seen.check();
  EXPECT_EQ(sum.load(), static_cast<long long>(total) * (total - 1) / 2);
}

TEST_P(MpmcTest, MoveOnlyValuesAreNeitherLostNorDuplicated) {
  // (not a structured binding: Clang 14 cannot capture those in lambdas)
  const int procs = std::get<0>(GetParam()), cap = std::get<1>(GetParam());
  const int producers = 16, consumers = 16, per_producer = scaled(2'000, 100);
  const int total = producers * per_producer;
  ledger seen(total);
  goro::run(
      [&] {
        auto ch = goro::make_chan<std::unique_ptr<int>>(static_cast<std::size_t>(cap));
        goro::wait_group sent, received;
        sent.add(producers);
        received.add(consumers);
        for (int p = 0; p < producers; ++p) {
          goro::go([&, p, ch] {
            for (int i = 0; i < per_producer; ++i) {
              auto v = std::make_unique<int>(p * per_producer + i);
              if (i % 2) {
                ch.send(std::move(v));
              } else {
                // Non-blocking attempts first: a failed try_send leaves v intact.
                while (!ch.try_send(v)) {
                  if (!v) {
                    ADD_FAILURE() << "try_send moved from a value it did not send";
                    break;
                  }
                  goro::yield();
                }
              }
            }
            sent.done();
          });
        }
        for (int c = 0; c < consumers; ++c) {
          goro::go([&, ch] {
            for (auto&& v : ch) {
              if (!v) ADD_FAILURE() << "received an empty pointer";
              else seen.mark(*v);
            }
            received.done();
          });
        }
        sent.wait();
        ch.close();
        received.wait();
      },
      goro::config{.procs = procs});
  seen.check();
}

INSTANTIATE_TEST_SUITE_P(Stress, MpmcTest, testing::Combine(testing::Values(1, 2, 4), testing::Values(0, 1, 64)),
                         [](const testing::TestParamInfo<std::tuple<int, int>>& info) {
                           return "procs" + std::to_string(std::get<0>(info.param)) + "_cap" +
                                  std::to_string(std::get<1>(info.param));
                         });

class SelectStressTest : public testing::TestWithParam<int> {
 protected:
  goro::config cfg() const { return goro::config{.procs = GetParam()}; }
};

TEST_P(SelectStressTest, SelectOverEightChannelsUnderContention) {
  // Producers select over send cases on 8 channels (mixed capacities),
  // consumers select over receive cases on the same 8 with runtime-sized
  // lists, dropping each channel (making it nil) once it is closed.
  constexpr int kChans = 8;
  const int producers = 16, consumers = 16, per_producer = scaled(5'000, 300);
  const int total = producers * per_producer;
  ledger seen(total);
  std::array<std::atomic<int>, kChans> per_chan{};
  goro::run(
      [&] {
        std::array<goro::chan<int>, kChans> c;
        for (int i = 0; i < kChans; ++i) c[i] = goro::make_chan<int>(i % 3 == 0 ? 0 : static_cast<std::size_t>(i));
        goro::wait_group sent, received;
        sent.add(producers);
        received.add(consumers);
        for (int p = 0; p < producers; ++p) {
          goro::go([&, p] {
            for (int i = 0; i < per_producer; ++i) {
              int v = p * per_producer + i;
              goro::select(goro::case_send(c[0], v), goro::case_send(c[1], v), goro::case_send(c[2], v),
                           goro::case_send(c[3], v), goro::case_send(c[4], v), goro::case_send(c[5], v),
                           goro::case_send(c[6], v), goro::case_send(c[7], v));
            }
            sent.done();
          });
        }
        for (int k = 0; k < consumers; ++k) {
          goro::go([&] {
            std::array<goro::chan<int>, kChans> in = c;
            int live = kChans;
            while (live > 0) {
              std::vector<goro::select_case> cases;
              std::optional<int> v;
              for (auto& ch : in) cases.push_back(goro::case_recv(ch, v));
              std::size_t idx = goro::select(cases);
              if (!v) {
                if (in[idx].is_nil()) ADD_FAILURE() << "a nil channel's case was chosen";
                in[idx] = {};
                --live;
                continue;
              }
              seen.mark(*v);
              per_chan[idx].fetch_add(1);
            }
            received.done();
          });
        }
        sent.wait();
        for (auto& ch : c) ch.close();
        received.wait();
      },
      cfg());
  seen.check();
  int sum = 0;
  for (auto& n : per_chan) sum += n.load();
  EXPECT_EQ(sum, total);
}

TEST_P(SelectStressTest, MixedSendAndReceiveSelectsWithDefault) {
  // Each goroutine relays: it selects between receiving from its inbox,
  // forwarding a held value to the next goroutine's (buffered) inbox, and a
  // default that yields; with nothing held it blocks on its inbox. Values
  // hop around a ring and are collected after a fixed number of hops.
  const int ring = 8, values = scaled(4'000, 300), hops = 5;
  ledger seen(values);
  goro::run(
      [&] {
        std::vector<goro::chan<std::pair<int, int>>> inbox;  // (value, hops left)
        for (int i = 0; i < ring; ++i) inbox.push_back(goro::make_chan<std::pair<int, int>>(1 + i % 3));
        auto out = goro::make_chan<int>(16);
        auto stop = goro::make_chan<std::monostate>();
        goro::wait_group relays;
        relays.add(ring);
        for (int r = 0; r < ring; ++r) {
          goro::go([&, r] {
            std::vector<std::pair<int, int>> held;
            auto next = inbox[(r + 1) % ring];
            bool running = true;
            while (running) {
              std::optional<std::pair<int, int>> got;
              if (held.empty()) {
                goro::select(goro::case_recv(inbox[r], got), goro::case_recv(stop, [&] { running = false; }));
              } else if (held.back().second == 0) {
                goro::select(goro::case_send(out, held.back().first, [&] { held.pop_back(); }),
                             goro::case_recv(inbox[r], got), goro::case_default([] { goro::yield(); }));
              } else {
                std::pair<int, int> fwd{held.back().first, held.back().second - 1};
                goro::select(goro::case_send(next, fwd, [&] { held.pop_back(); }), goro::case_recv(inbox[r], got),
                             goro::case_default([] { goro::yield(); }));
              }
              if (got) held.push_back(*got);
            }
            relays.done();
          });
        }
        goro::go([=] {  // the channels by value: nobody waits for the feeder
          for (int v = 0; v < values; ++v) inbox[v % ring].send({v, hops});
        });
        for (int i = 0; i < values; ++i) seen.mark(*out.recv());
        stop.close();
        relays.wait();
      },
      cfg());
  seen.check();
}

TEST_P(SelectStressTest, ThreadsAndGoroutinesSelectTogether) {
  // Plain threads and goroutines both produce and consume through selects
  // over the same channels.
  const int threads = 2, goroutines = 8, per = scaled(5'000, 300);
  const int producers = threads + goroutines, total = producers * per;
  ledger seen(total);
  goro::run(
      [&] {
        auto a = goro::make_chan<int>(), b = goro::make_chan<int>(2);
        goro::wait_group sent, received;
        sent.add(producers);
        received.add(producers);
        auto produce = [&, a, b](int p) {
          for (int i = 0; i < per; ++i) {
            int v = p * per + i;
            goro::select(goro::case_send(a, v), goro::case_send(b, v));
          }
          sent.done();
        };
        auto consume = [&, a, b] {
          goro::chan<int> x = a, y = b;
          while (x || y) {
            std::optional<int> v;
            std::size_t k = goro::select(goro::case_recv(x, v), goro::case_recv(y, v));
            if (!v) {
              (k == 0 ? x : y) = {};
              continue;
            }
            seen.mark(*v);
          }
          received.done();
        };
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; ++t) {
          ts.emplace_back(produce, t);
          ts.emplace_back(consume);
        }
        for (int g = 0; g < goroutines; ++g) {
          goro::go([&, g] { produce(threads + g); });
          goro::go([&] { consume(); });
        }
        sent.wait();
        a.close();
        b.close();
        received.wait();
        for (auto& t : ts) t.join();  // they have finished: received.wait() returned
      },
      cfg());
  seen.check();
}

// The premise of the race below, made certain: senders seen parked in a
// select (a send case and a receive case on a channel nobody uses) all
// panic with Go's message when the send case's channel closes.
TEST_P(SelectStressTest, SendersParkedInASelectPanicWhenTheChannelCloses) {
  const int senders = 8;
  goro::run(
      [&] {
        auto ch = goro::make_chan<int>();
        auto other = goro::make_chan<int>();
        std::atomic<int> panics{0};
        goro::wait_group done;
        done.add(senders);
        for (int s = 0; s < senders; ++s) {
          goro::go([&, s, ch, other] {
            try {
              int v = s;
              goro::select(goro::case_send(ch, v), goro::case_recv(other));
              ADD_FAILURE() << "a select completed on a channel nobody receives from";
            } catch (const goro::panic_error& e) {
              EXPECT_STREQ(e.what(), "send on closed channel");
              panics.fetch_add(1);
            }
            done.done();
          });
        }
        ASSERT_TRUE(goro_test::wait_until_count_parked(senders, "select"));
        ch.close();
        done.wait();
        EXPECT_EQ(panics.load(), senders);
        int v = 1;
        EXPECT_FALSE(other.try_send(v)) << "a select's receive case was left on the other channel";
      },
      cfg());
}

TEST_P(SelectStressTest, CloseRacesWithSelectingSendersAndReceivers) {
  // Senders parked in selects when a channel closes must panic, receivers
  // must see closed; nothing is lost: every value a sender reports as sent
  // is received. (Senders stop by themselves after a while, so the test
  // does not depend on the closer being scheduled fairly.)
  const int rounds = scaled(300, 30), senders = 8, receivers = 8, max_sends = 200;
  goro::run(
      [&] {
        for (int r = 0; r < rounds; ++r) {
          auto ch = goro::make_chan<int>(static_cast<std::size_t>(r % 3));
          auto other = goro::make_chan<int>();
          std::atomic<long long> sent_sum{0}, recv_sum{0};
          std::atomic<int> panics{0}, finished{0};
          goro::wait_group done;
          done.add(senders + receivers);
          for (int s = 0; s < senders; ++s) {
            goro::go([&, s, ch, other] {
              try {
                for (int i = 1; i <= max_sends; ++i) {
                  int v = s * 1000 + i;
                  goro::select(goro::case_send(ch, v), goro::case_recv(other));
                  sent_sum.fetch_add(v);
                }
                finished.fetch_add(1);
              } catch (const goro::panic_error& e) {
                if (std::string(e.what()) != "send on closed channel") ADD_FAILURE() << e.what();
                panics.fetch_add(1);
              }
              done.done();
            });
          }
          for (int k = 0; k < receivers; ++k) {
            goro::go([&, ch] {
              long long local = 0;
              for (int v : ch) local += v;
              recv_sum.fetch_add(local);
              done.done();
            });
          }
          for (int i = 0; i < r % 50; ++i) goro::yield();
          ch.close();
          done.wait();
          EXPECT_EQ(panics.load() + finished.load(), senders);
          EXPECT_EQ(sent_sum.load(), recv_sum.load()) << "round " << r;
        }
      },
      cfg());
}

// A goroutine that yields must run again even while other goroutines hand
// values back and forth without end (in Go the woken goroutine inherits the
// waker's time slice, and sysmon preempts a slice that runs too long, so the
// pair cannot keep the rest of the run queue waiting). The bail-out thread
// only stops the pair if the yielder never comes back, so that the failure
// is reported instead of hanging.
TEST_P(SelectStressTest, YieldingGoroutineIsNotStarvedByAPingPongPair) {
  auto quit = goro::make_chan<std::monostate>();
  std::atomic<bool> closed{false}, starved{false};
  auto stop = [&] {
    if (!closed.exchange(true)) quit.close();
  };
  std::mutex m;
  std::condition_variable cv;
  bool main_back = false;
  std::string dump;  // the goroutines as the bail-out found them
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> l(m);
    if (!cv.wait_for(l, std::chrono::seconds(30), [&] { return main_back; })) {
      dump = goro_test::goroutine_dump();
      starved.store(true);
      stop();
    }
  });
  goro::run(
      [&] {
        auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
        goro::wait_group wg;
        wg.add(2);
        // Each step is a select that also watches quit.
        auto step_recv = [&](const goro::chan<int>& c, std::optional<int>& v) {
          return goro::select(goro::case_recv(c, v), goro::case_recv(quit)) == 0;
        };
        auto step_send = [&](const goro::chan<int>& c, int v) {
          return goro::select(goro::case_send(c, v), goro::case_recv(quit)) == 0;
        };
        goro::go([&, a, b] {
          std::optional<int> v;
          while (step_recv(a, v) && step_send(b, *v + 1)) {
          }
          wg.done();
        });
        goro::go([&, a, b] {
          std::optional<int> v;
          if (step_send(a, 0))
            while (step_recv(b, v) && step_send(a, *v + 1)) {
            }
          wg.done();
        });
        goro::yield();  // behind the pair in the run queue
        {
          std::lock_guard<std::mutex> l(m);
          main_back = true;
        }
        cv.notify_one();
        stop();
        wg.wait();
      },
      cfg());
  watchdog.join();
  EXPECT_FALSE(starved.load()) << "the main goroutine was starved for 30 s by a ping-pong pair\n" << dump;
}

INSTANTIATE_TEST_SUITE_P(Procs, SelectStressTest, testing::Values(1, 2, 4), goro_test::procs_name);

}  // namespace
