// stress_test.cpp — many rounds of small fan-out/fan-in with checksums, run
// over several processor counts (marl style).
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "test_support.hpp"

namespace {

using goro_test::scaled;

class StressTest : public testing::TestWithParam<int> {
 protected:
  goro::config cfg() const { return goro::config{.procs = GetParam()}; }
};

TEST_P(StressTest, FanOutFanInRounds) {
  const int rounds = scaled(20000, 50), width = 32;
  std::int64_t mismatches = 0;
  goro::run(
      [&] {
        std::vector<std::int64_t> slots(width);
        for (int r = 0; r < rounds; ++r) {
          goro::wait_group wg;
          wg.add(width);
          for (int i = 0; i < width; ++i) {
            goro::go([&, i, r] {
              slots[i] = std::int64_t{r} * width + i;  // plain writes, ordered by wg
              wg.done();
            });
          }
          wg.wait();
          std::int64_t sum = 0;
          for (std::int64_t v : slots) sum += v;
          const std::int64_t base = std::int64_t{r} * width;
          if (sum != width * base + std::int64_t{width} * (width - 1) / 2) ++mismatches;
        }
      },
      cfg());
  EXPECT_EQ(mismatches, 0);
}

TEST_P(StressTest, YieldingWorkersRounds) {
  const int rounds = scaled(3000, 25), width = 64;
  std::atomic<std::int64_t> total{0};
  goro::run(
      [&] {
        for (int r = 0; r < rounds; ++r) {
          goro::wait_group wg;
          wg.add(width);
          for (int i = 0; i < width; ++i) {
            goro::go([&, i] {
              std::int64_t local = 0;
              for (int k = 0; k < 4; ++k) {
                local += i + k;
                goro::yield();
              }
              total.fetch_add(local, std::memory_order_relaxed);
              wg.done();
            });
          }
          wg.wait();
        }
      },
      cfg());
  // each worker adds 4*i + 6
  const std::int64_t per_round = 4 * (std::int64_t{width} * (width - 1) / 2) + 6 * width;
  EXPECT_EQ(total.load(), per_round * rounds);
}

// Each goroutine of a binary tree of depth d spawns two children and waits
// for them; returns the number of nodes below and including it.
std::int64_t tree(int depth) {
  if (depth == 0) return 1;
  std::int64_t left = 0, right = 0;
  goro::wait_group wg;
  wg.add(2);
  goro::go([&] {
    left = tree(depth - 1);
    wg.done();
  });
  goro::go([&] {
    right = tree(depth - 1);
    wg.done();
  });
  wg.wait();
  return 1 + left + right;
}

TEST_P(StressTest, RecursiveSpawnTree) {
  const int depth = scaled(14, 8), rounds = scaled(10, 2);
  for (int r = 0; r < rounds; ++r) {
    std::int64_t nodes = 0;
    goro::run([&] { nodes = tree(depth); }, cfg());
    ASSERT_EQ(nodes, (std::int64_t{1} << (depth + 1)) - 1) << "round " << r;
  }
}

TEST_P(StressTest, ChainedHandOff) {
  // A relay: each goroutine waits for its predecessor, then releases its
  // successor; wake-ups cross processors constantly.
  const int length = scaled(20000, 300), rounds = scaled(10, 3);
  for (int r = 0; r < rounds; ++r) {
    std::vector<std::int64_t> value(length + 1, 0);
    goro::run(
        [&] {
          std::vector<goro::wait_group> gates(length + 1);
          for (auto& g : gates) g.add(1);
          for (int i = 0; i < length; ++i) {
            goro::go([&, i] {
              gates[i].wait();
              value[i + 1] = value[i] + i;
              gates[i + 1].done();
            });
          }
          gates[0].done();
          gates[length].wait();
        },
        cfg());
    ASSERT_EQ(value[length], std::int64_t{length} * (length - 1) / 2) << "round " << r;
  }
}

TEST_P(StressTest, ManyShortRuns) {
  const int runs = scaled(1000, 40);
  for (int r = 0; r < runs; ++r) {
    std::atomic<int> sum{0};
    int rc = goro::run(
        [&] {
          goro::wait_group wg;
          wg.add(16);
          for (int i = 0; i < 16; ++i)
            goro::go([&, i] {
              sum.fetch_add(i);
              wg.done();
            });
          wg.wait();
          return sum.load();
        },
        cfg());
    ASSERT_EQ(rc, 120) << "run " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Procs, StressTest, testing::Values(1, 2, 4, 8),
                         [](const testing::TestParamInfo<int>& info) { return "procs" + std::to_string(info.param); });

}  // namespace
