// mutex_test.cpp — goro::mutex (sync.Mutex): mutual exclusion counted
// exactly, Lockable with the standard lock types, parking the goroutine and
// not the thread, plain threads, and the fatal error of unlocking an
// unlocked mutex.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "chan_test_util.hpp"
#include "test_support.hpp"

namespace {

using goro_test::scaled;

class MutexTest : public testing::TestWithParam<int> {
 protected:
  goro::config cfg() const { return goro::config{.procs = GetParam()}; }
};

TEST(Mutex, LockTryLockUnlock) {
  goro::mutex m;
  EXPECT_TRUE(m.try_lock());
  EXPECT_FALSE(m.try_lock());
  m.unlock();
  m.lock();
  EXPECT_FALSE(m.try_lock());
  m.unlock();
  goro::run([&] {
    m.lock();
    EXPECT_FALSE(m.try_lock());
    m.unlock();
    EXPECT_TRUE(m.try_lock());
    m.unlock();
  });
}

TEST(Mutex, IsLockable) {
  static_assert(std::is_nothrow_default_constructible_v<goro::mutex>);
  static_assert(!std::is_copy_constructible_v<goro::mutex>);
  goro::mutex a, b;
  {
    std::lock_guard<goro::mutex> g(a);
    EXPECT_FALSE(a.try_lock());
  }
  {
    std::unique_lock<goro::mutex> l(a);
    EXPECT_TRUE(l.owns_lock());
    l.unlock();
    EXPECT_TRUE(l.try_lock());
  }
  {
    std::unique_lock<goro::mutex> l(a, std::try_to_lock);
    EXPECT_TRUE(l.owns_lock());
    std::unique_lock<goro::mutex> l2(a, std::try_to_lock);
    EXPECT_FALSE(l2.owns_lock());
  }
  {
    std::scoped_lock l(a, b);
    EXPECT_FALSE(a.try_lock());
    EXPECT_FALSE(b.try_lock());
  }
  EXPECT_TRUE(a.try_lock());
  EXPECT_TRUE(b.try_lock());
  a.unlock();
  b.unlock();
}

TEST_P(MutexTest, CountsExactly) {
  // 100 goroutines x 100,000 increments of a plain int under the mutex.
  const int goroutines = 100, per = scaled(100'000, 2'000);
  long long counter = 0;
  goro::mutex m;
  goro::run(
      [&] {
        goro::wait_group wg;
        wg.add(goroutines);
        for (int g = 0; g < goroutines; ++g) {
          goro::go([&, g] {
            for (int i = 0; i < per; ++i) {
              if ((i + g) % 3 == 0) {
                std::lock_guard<goro::mutex> l(m);
                ++counter;
              } else if ((i + g) % 3 == 1) {
                while (!m.try_lock()) goro::yield();
                ++counter;
                m.unlock();
              } else {
                m.lock();
                ++counter;
                m.unlock();
              }
            }
            wg.done();
          });
        }
        wg.wait();
      },
      cfg());
  EXPECT_EQ(counter, static_cast<long long>(goroutines) * per);
}

TEST_P(MutexTest, CriticalSectionsNeverOverlap) {
  // Holders park inside the critical section (a yield, a channel hand-off):
  // nobody else may enter meanwhile.
  const int goroutines = 32, rounds = scaled(2'000, 100);
  std::atomic<int> inside{0}, overlaps{0};
  goro::mutex m;
  goro::run(
      [&] {
        auto token = goro::make_chan<int>(1);
        goro::wait_group wg;
        wg.add(goroutines);
        for (int g = 0; g < goroutines; ++g) {
          goro::go([&, g] {
            for (int i = 0; i < rounds; ++i) {
              std::lock_guard<goro::mutex> l(m);
              if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
              if (i % 2) {
                goro::yield();
              } else {
                token.send(g);
                token.recv();
              }
              inside.fetch_sub(1);
            }
            wg.done();
          });
        }
        wg.wait();
      },
      cfg());
  EXPECT_EQ(overlaps.load(), 0);
}

TEST_P(MutexTest, ParksTheGoroutineNotTheThread) {
  // With one processor, a goroutine blocked in lock() must let the holder
  // run to unlock it.
  goro::run(
      [] {
        goro::mutex m;
        auto release = goro::make_chan<int>();
        auto ids = goro::make_chan<std::int64_t>(1);
        std::atomic<bool> acquired{false};
        m.lock();
        goro::wait_group wg;
        wg.add(1);
        goro::go([&] {
          ids.send(goro::this_goroutine::id());
          m.lock();
          acquired.store(true);
          m.unlock();
          wg.done();
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "sync.Mutex.Lock"));
        EXPECT_FALSE(acquired.load());
        // This goroutine still runs, and other goroutines too.
        goro::go([release] { release.send(1); });  // by value: nobody waits for this goroutine
        EXPECT_EQ(release.recv(), 1);
        m.unlock();
        wg.wait();
        EXPECT_TRUE(acquired.load());
      },
      cfg());
}

TEST_P(MutexTest, WaitersAllGetTheLockEventually) {
  // Hogs hold the lock across a yield and take it again the moment they
  // release it (nothing schedules between unlock and lock). On one
  // processor a waiter woken in normal mode therefore always finds it taken
  // again: only starvation mode — the unlock hands the lock to a waiter that
  // has waited over 1 ms — lets it in. On more processors it may also win a
  // race now and then. If it is still starved after 60 s, a watchdog stops
  // the hogs and the test fails.
  const int hogs = 4, wanted = scaled(50, 10);
  bool starved = false;
  int got = 0;
  goro::run(
      [&] {
        goro::mutex m;
        std::atomic<bool> stop{false};
        std::atomic<long> hog_rounds{0};
        goro::wait_group wg;
        wg.add(hogs);
        for (int h = 0; h < hogs; ++h) {
          goro::go([&] {
            while (!stop.load()) {
              m.lock();
              hog_rounds.fetch_add(1);
              goro::yield();
              m.unlock();
            }
            wg.done();
          });
        }
        auto finished = goro::make_chan<int>();
        auto bail_done = goro::make_chan<int>();
        goro::go([&, bail_done] {
          goro::timer bail(std::chrono::seconds(60));
          if (goro::select(goro::case_recv(finished), goro::case_recv(bail.c())) == 1) {
            starved = true;
            stop.store(true);
          }
          bail_done.close();
        });
        // The hogs are under way, passing the lock among themselves.
        EXPECT_TRUE(goro_test::yield_until([&] { return hog_rounds.load() >= 100; }, "the hogs run"));
        for (int i = 0; i < wanted; ++i) {
          std::lock_guard<goro::mutex> l(m);
          ++got;
        }
        finished.close();
        stop.store(true);
        wg.wait();
        bail_done.recv();  // it uses this frame's locals
      },
      cfg());
  EXPECT_FALSE(starved) << "a waiter was starved for 60 s (" << got << " of " << wanted << " acquisitions)";
  EXPECT_EQ(got, wanted);
}

TEST_P(MutexTest, PlainThreadsAndGoroutinesShareAMutex) {
  const int threads = 3, goroutines = 16, per = scaled(20'000, 1'000);
  long long counter = 0;
  goro::mutex m;
  goro::run(
      [&] {
        goro::wait_group wg;
        wg.add(threads + goroutines);
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; ++t) {
          ts.emplace_back([&] {
            for (int i = 0; i < per; ++i) {
              std::lock_guard<goro::mutex> l(m);  // blocks the thread
              ++counter;
            }
            wg.done();  // wait_group from a plain thread
          });
        }
        for (int g = 0; g < goroutines; ++g) {
          goro::go([&] {
            for (int i = 0; i < per; ++i) {
              std::lock_guard<goro::mutex> l(m);
              ++counter;
              if (i % 64 == 0) goro::yield();
            }
            wg.done();
          });
        }
        wg.wait();
        for (auto& t : ts) t.join();
      },
      cfg());
  EXPECT_EQ(counter, static_cast<long long>(threads + goroutines) * per);
}

TEST_P(MutexTest, GoroutineHolderReleasesABlockedThread) {
  goro::run(
      [] {
        goro::mutex m;
        m.lock();
        std::atomic<bool> got{false};
        std::atomic<long> tid{0};
        goro::wait_group thread_done;
        thread_done.add(1);
        std::thread t([&] {
          tid = goro_test::this_thread_tid();
          m.lock();  // blocks the thread until the goroutine unlocks
          got.store(true);
          m.unlock();
          thread_done.done();
        });
        if (goro_test::yield_until([&] { return tid.load() != 0; }, "the thread started")) {
          EXPECT_TRUE(goro_test::wait_until_thread_blocks(tid.load()));
        }
        EXPECT_FALSE(got.load());
        m.unlock();
        thread_done.wait();
        EXPECT_TRUE(got.load());
        t.join();
      },
      cfg());
}

TEST(Mutex, PlainThreadsWithoutARuntime) {
  const int threads = 4, per = scaled(50'000, 2'000);
  long long counter = 0;
  goro::mutex m;
  goro::wait_group wg;
  wg.add(threads);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < per; ++i) {
        std::lock_guard<goro::mutex> l(m);
        ++counter;
      }
      wg.done();
    });
  }
  wg.wait();  // the test thread waits on a wait_group, no runtime
  for (auto& t : ts) t.join();
  EXPECT_EQ(counter, static_cast<long long>(threads) * per);
}

TEST(Mutex, OutlivesRunAndIsUsableAgain) {
  goro::mutex m;
  for (int r = 0; r < 3; ++r) {
    goro::run([&] {
      goro::wait_group wg;
      wg.add(10);
      for (int i = 0; i < 10; ++i) {
        goro::go([&] {
          {
            std::lock_guard<goro::mutex> l(m);
            goro::yield();
          }
          wg.done();
        });
      }
      wg.wait();
    });
  }
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

// ------------------------------------------------------------ misuse

class MutexDeathTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(MutexDeathTest, UnlockOfUnlockedMutexIsFatal) {
  auto in_goroutine = [] {
    goro::run([] {
      goro::mutex m;
      m.unlock();
    });
  };
  EXPECT_EXIT(in_goroutine(), testing::ExitedWithCode(2), "fatal error: sync: unlock of unlocked mutex");
  auto on_a_thread = [] {
    goro::mutex m;
    m.unlock();
  };
  EXPECT_EXIT(on_a_thread(), testing::ExitedWithCode(2), "fatal error: sync: unlock of unlocked mutex");
  auto twice = [] {
    goro::run(
        [] {
          goro::mutex m;
          m.lock();
          m.unlock();
          m.unlock();
        },
        goro::config{.procs = 2});
  };
  EXPECT_EXIT(twice(), testing::ExitedWithCode(2), "fatal error: sync: unlock of unlocked mutex");
}

TEST_F(MutexDeathTest, UnlockOfUnlockedMutexWithWaitersIsFatal) {
  // A parked waiter makes the state word non-zero; unlocking the free mutex
  // is still detected.
  auto f = [] {
    goro::run([] {
      goro::mutex m;
      m.lock();
      auto ids = goro::make_chan<std::int64_t>(1);
      goro::go([&] {
        ids.send(goro::this_goroutine::id());
        m.lock();
        m.unlock();
        m.unlock();  // the second one is the misuse
      });
      goro_test::wait_until_parked(*ids.recv(), "sync.Mutex.Lock");
      m.unlock();
      goro::wait_group never;
      never.add(1);
      never.wait();
    });
  };
  EXPECT_EXIT(f(), testing::ExitedWithCode(2), "fatal error: sync: unlock of unlocked mutex");
}

// try_lock_for / try_lock_until: while another goroutine holds the mutex
// they give up at the deadline and leave it held; a waiter whose deadline
// is far off gets the mutex once it is unlocked.
TEST_P(MutexTest, TimedLockGivesUpWhileHeldAndSucceedsOnceFree) {
  goro::run(
      [] {
        goro::mutex m;
        EXPECT_TRUE(m.try_lock_for(std::chrono::milliseconds(1)));  // free: at once
        bool gave_up_for = false, gave_up_until = false, past = true;
        goro::wait_group wg;
        wg.add(1);
        goro::go([&] {
          gave_up_for = !m.try_lock_for(std::chrono::milliseconds(20));
          gave_up_until = !m.try_lock_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(20));
          past = m.try_lock_until(std::chrono::steady_clock::now() - std::chrono::seconds(1));
          wg.done();
        });
        wg.wait();
        EXPECT_TRUE(gave_up_for);
        EXPECT_TRUE(gave_up_until);
        EXPECT_FALSE(past);
        EXPECT_FALSE(m.try_lock()) << "a timed lock that gave up released the holder's lock";
        std::atomic<bool> got{false};
        auto ids = goro::make_chan<std::int64_t>(1);
        wg.add(1);
        goro::go([&] {
          ids.send(goro::this_goroutine::id());
          got = m.try_lock_for(std::chrono::minutes(5));
          wg.done();
        });
        // It polls with sleeps while the mutex is held: seen asleep, it has begun.
        EXPECT_TRUE(goro_test::wait_until_parked(*ids.recv(), "sleep"));
        m.unlock();
        wg.wait();
        EXPECT_TRUE(got.load());
        m.unlock();  // the waiter's (Go lets any goroutine unlock)
        EXPECT_TRUE(m.try_lock());
        m.unlock();
      },
      cfg());
}

INSTANTIATE_TEST_SUITE_P(Procs, MutexTest, testing::Values(1, 2, 4), goro_test::procs_name);

}  // namespace
