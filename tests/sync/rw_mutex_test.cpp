// rw_mutex_test.cpp — goro::rw_mutex (sync.RWMutex): readers share, writers
// exclude everyone, a pending writer holds off new readers so a stream of
// readers cannot starve it, SharedLockable, plain threads, and the fatal
// errors of unlocking an unlocked one either way.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "chan_test_util.hpp"
#include "test_support.hpp"

namespace {

using goro_test::scaled;

class RwMutexTest : public testing::TestWithParam<int> {
 protected:
  goro::config cfg() const { return goro::config{.procs = GetParam()}; }
};

TEST(RwMutex, TryLockRules) {
  goro::rw_mutex m;
  EXPECT_TRUE(m.try_lock_shared());
  EXPECT_TRUE(m.try_lock_shared());  // readers share
  EXPECT_FALSE(m.try_lock());        // a writer does not get in
  m.unlock_shared();
  EXPECT_FALSE(m.try_lock());
  m.unlock_shared();
  EXPECT_TRUE(m.try_lock());
  EXPECT_FALSE(m.try_lock_shared());  // nobody gets in past a writer
  EXPECT_FALSE(m.try_lock());
  m.unlock();
  m.lock_shared();
  m.unlock_shared();
  m.lock();
  m.unlock();
}

TEST(RwMutex, IsSharedLockable) {
  goro::rw_mutex m;
  {
    std::shared_lock<goro::rw_mutex> r1(m);
    std::shared_lock<goro::rw_mutex> r2(m, std::try_to_lock);
    EXPECT_TRUE(r2.owns_lock());
    std::unique_lock<goro::rw_mutex> w(m, std::try_to_lock);
    EXPECT_FALSE(w.owns_lock());
  }
  {
    std::lock_guard<goro::rw_mutex> w(m);
    std::shared_lock<goro::rw_mutex> r(m, std::try_to_lock);
    EXPECT_FALSE(r.owns_lock());
  }
  std::unique_lock<goro::rw_mutex> w(m, std::try_to_lock);
  EXPECT_TRUE(w.owns_lock());
}

TEST_P(RwMutexTest, ReadersHoldTheLockTogether) {
  // Every reader waits, holding the read lock, until all of them hold it:
  // if readers excluded each other this could not finish.
  const int readers = 20;
  goro::run(
      [&] {
        goro::rw_mutex m;
        goro::wait_group inside, leave;
        inside.add(readers);
        leave.add(1);
        goro::wait_group done;
        done.add(readers);
        for (int i = 0; i < readers; ++i) {
          goro::go([&] {
            std::shared_lock<goro::rw_mutex> l(m);
            inside.done();
            leave.wait();
            l.unlock();
            done.done();
          });
        }
        inside.wait();
        EXPECT_FALSE(m.try_lock());
        leave.done();
        done.wait();
        EXPECT_TRUE(m.try_lock());
        m.unlock();
      },
      cfg());
}

TEST_P(RwMutexTest, WritersExcludeReadersAndWriters) {
  const int writers = 8, readers = 16, rounds = scaled(5'000, 300);
  long long a = 0, b = 0;  // a == b whenever no writer is inside
  std::atomic<int> torn{0}, writers_inside{0}, overlap{0};
  goro::rw_mutex m;
  goro::run(
      [&] {
        goro::wait_group wg;
        wg.add(writers + readers);
        for (int w = 0; w < writers; ++w) {
          goro::go([&] {
            for (int i = 0; i < rounds; ++i) {
              std::lock_guard<goro::rw_mutex> l(m);
              if (writers_inside.fetch_add(1) != 0) overlap.fetch_add(1);
              ++a;
              if (i % 4 == 0) goro::yield();  // parked mid-update
              ++b;
              writers_inside.fetch_sub(1);
            }
            wg.done();
          });
        }
        for (int r = 0; r < readers; ++r) {
          goro::go([&] {
            for (int i = 0; i < rounds; ++i) {
              std::shared_lock<goro::rw_mutex> l(m);
              if (a != b || writers_inside.load() != 0) torn.fetch_add(1);
              if (i % 4 == 0) goro::yield();
              if (a != b) torn.fetch_add(1);
            }
            wg.done();
          });
        }
        wg.wait();
      },
      cfg());
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(overlap.load(), 0);
  EXPECT_EQ(a, static_cast<long long>(writers) * rounds);
  EXPECT_EQ(b, a);
}

TEST_P(RwMutexTest, WriterIsNotStarvedByAStreamOfReaders) {
  // Readers lock and unlock continuously, their read sections overlapping
  // (each parks while holding the lock), so the lock is never free of
  // readers. A writer that asks must still get it: once it is pending, new
  // readers wait.
  const int readers = 8;
  goro::run(
      [&] {
        goro::rw_mutex m;
        std::atomic<bool> stop{false};
        std::atomic<int> reading{0};
        std::atomic<long long> reads{0};
        goro::wait_group wg;
        wg.add(readers);
        for (int r = 0; r < readers; ++r) {
          goro::go([&] {
            while (!stop.load()) {
              m.lock_shared();
              reading.fetch_add(1);
              reads.fetch_add(1);
              goro::yield();
              reading.fetch_sub(1);
              m.unlock_shared();
            }
            wg.done();
          });
        }
        ASSERT_TRUE(goro_test::yield_until([&] { return reads.load() > 1000; }, "readers got going"));

        // The writer, in its own goroutine.
        auto acquired = goro::make_chan<int>(1);
        goro::go([&] {
          m.lock();
          acquired.send(reading.load());  // readers inside while the writer holds it
          m.unlock();
        });
        std::optional<int> got;
        goro_test::bailout limit(std::chrono::seconds(60));
        while (!(got = acquired.try_recv())) {
          ASSERT_FALSE(limit.expired()) << "the writer was starved by the readers\n" << goro_test::goroutine_dump();
          goro::yield();
        }
        EXPECT_EQ(*got, 0) << "readers inside while the writer held the lock";
        stop.store(true);
        wg.wait();
      },
      cfg());
}

TEST_P(RwMutexTest, PendingWriterBlocksNewReaders) {
  goro::run(
      [&] {
        goro::rw_mutex m;
        m.lock_shared();  // a reader holds it
        auto ids = goro::make_chan<std::int64_t>(2);
        std::atomic<bool> wrote{false}, read{false};
        goro::wait_group wg;
        wg.add(2);
        goro::go([&] {
          ids.send(goro::this_goroutine::id());
          m.lock();
          wrote.store(true);
          m.unlock();
          wg.done();
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "sync.RWMutex.Lock"));
        EXPECT_FALSE(m.try_lock_shared());  // writer pending: no new reader
        goro::go([&] {
          ids.send(goro::this_goroutine::id());
          m.lock_shared();
          EXPECT_TRUE(wrote.load()) << "a new reader overtook the pending writer";
          read.store(true);
          m.unlock_shared();
          wg.done();
        });
        ASSERT_TRUE(goro_test::wait_until_parked(*ids.recv(), "sync.RWMutex.RLock"));
        EXPECT_FALSE(wrote.load());
        EXPECT_FALSE(read.load());
        m.unlock_shared();  // the last old reader lets the writer in, then the new reader
        wg.wait();
        EXPECT_TRUE(wrote.load());
        EXPECT_TRUE(read.load());
      },
      cfg());
}

TEST_P(RwMutexTest, PlainThreadReadersAndGoroutineWriters) {
  const int threads = 2, writers = 4, rounds = scaled(5'000, 300);
  long long a = 0, b = 0;
  std::atomic<int> torn{0};
  goro::rw_mutex m;
  goro::run(
      [&] {
        goro::wait_group wg;
        wg.add(threads + writers);
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; ++t) {
          ts.emplace_back([&] {
            for (int i = 0; i < rounds; ++i) {
              std::shared_lock<goro::rw_mutex> l(m);
              if (a != b) torn.fetch_add(1);
            }
            {
              std::lock_guard<goro::rw_mutex> w(m);  // a thread writes too
              ++a;
              ++b;
            }
            wg.done();
          });
        }
        for (int w = 0; w < writers; ++w) {
          goro::go([&] {
            for (int i = 0; i < rounds; ++i) {
              std::lock_guard<goro::rw_mutex> l(m);
              ++a;
              if (i % 16 == 0) goro::yield();
              ++b;
            }
            wg.done();
          });
        }
        wg.wait();
        for (auto& t : ts) t.join();
      },
      cfg());
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(a, static_cast<long long>(writers) * rounds + threads);
  EXPECT_EQ(b, a);
}

// ------------------------------------------------------------ misuse

class RwMutexDeathTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(RwMutexDeathTest, UnlockOfUnlockedIsFatal) {
  auto unlock_free = [] {
    goro::run([] {
      goro::rw_mutex m;
      m.unlock();
    });
  };
  EXPECT_EXIT(unlock_free(), testing::ExitedWithCode(2), "fatal error: sync: Unlock of unlocked RWMutex");
  auto unlock_read_locked = [] {
    goro::rw_mutex m;
    m.lock_shared();
    m.unlock();
  };
  EXPECT_EXIT(unlock_read_locked(), testing::ExitedWithCode(2), "fatal error: sync: Unlock of unlocked RWMutex");
}

TEST_F(RwMutexDeathTest, RUnlockOfUnlockedIsFatal) {
  auto runlock_free = [] {
    goro::run([] {
      goro::rw_mutex m;
      m.unlock_shared();
    });
  };
  EXPECT_EXIT(runlock_free(), testing::ExitedWithCode(2), "fatal error: sync: RUnlock of unlocked RWMutex");
  auto runlock_write_locked = [] {
    goro::rw_mutex m;
    m.lock();
    m.unlock_shared();
  };
  EXPECT_EXIT(runlock_write_locked(), testing::ExitedWithCode(2), "fatal error: sync: RUnlock of unlocked RWMutex");
  auto runlock_twice = [] {
    goro::run([] {
      goro::rw_mutex m;
      m.lock_shared();
      m.unlock_shared();
      m.unlock_shared();
    });
  };
  EXPECT_EXIT(runlock_twice(), testing::ExitedWithCode(2), "fatal error: sync: RUnlock of unlocked RWMutex");
}

INSTANTIATE_TEST_SUITE_P(Procs, RwMutexTest, testing::Values(1, 2, 4), goro_test::procs_name);

}  // namespace
