// closure_test.cpp — what goro::go copies, moves and destroys, and
// spawn_options (name, stack size).
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <type_traits>

#include "test_support.hpp"

namespace {

TEST(Closure, ArgumentsAreDecayCopiedAtTheCall) {
  int seen_int = 0;
  std::string seen_str, seen_ref;
  goro::run([&] {
    goro::wait_group gate, done;
    gate.add(1);
    done.add(1);
    int x = 1;
    std::string s = "old";
    const std::string& r = s;
    goro::go(
        [&](int v, std::string str, const std::string& ref) {
          gate.wait();  // runs only after the caller changed the originals
          seen_int = v;
          seen_str = str;
          seen_ref = ref;  // bound to the goroutine's copy, not to s
          done.done();
        },
        x, s, r);
    x = 2;
    s = "new";
    gate.done();
    done.wait();
  });
  EXPECT_EQ(seen_int, 1);
  EXPECT_EQ(seen_str, "old");
  EXPECT_EQ(seen_ref, "old");
}

TEST(Closure, ReferenceWrapperPassesAReference) {
  int target = 0;
  goro::run([&] {
    goro::wait_group wg;
    wg.add(1);
    goro::go(
        [&wg](int& t) {
          t = 42;
          wg.done();
        },
        std::ref(target));
    wg.wait();
  });
  EXPECT_EQ(target, 42);
}

TEST(Closure, MoveOnlyArgumentsAndCallables) {
  int from_arg = 0, from_capture = 0;
  goro::run([&] {
    goro::wait_group wg;
    wg.add(2);
    auto p = std::make_unique<int>(7);
    goro::go(
        [&](std::unique_ptr<int> q) {
          from_arg = *q;
          wg.done();
        },
        std::move(p));
    EXPECT_EQ(p, nullptr);  // moved into the goroutine at the call
    auto c = std::make_unique<int>(9);
    goro::go([&, c = std::move(c)] {
      from_capture = *c;
      wg.done();
    });
    wg.wait();
  });
  EXPECT_EQ(from_arg, 7);
  EXPECT_EQ(from_capture, 9);
}

TEST(Closure, LargeClosuresWork) {
  // Larger than the 96 bytes a goroutine descriptor holds inline.
  std::array<std::uint64_t, 64> big{};
  std::iota(big.begin(), big.end(), 1);
  const std::uint64_t expected = std::accumulate(big.begin(), big.end(), std::uint64_t{0});
  const int n = goro_test::scaled(1000, 100);
  std::atomic<std::uint64_t> total{0};
  goro::run([&] {
    goro::wait_group wg;
    wg.add(2 * n);
    for (int i = 0; i < n; ++i) {
      goro::go([&, big] {  // the capture is the large part
        total.fetch_add(std::accumulate(big.begin(), big.end(), std::uint64_t{0}));
        wg.done();
      });
      goro::go(  // large arguments
          [&](std::array<std::uint64_t, 64> a, std::string s) {
            total.fetch_add(std::accumulate(a.begin(), a.end(), std::uint64_t{0}) + s.size());
            wg.done();
          },
          big, std::string(100, 'x'));
    }
    wg.wait();
  });
  EXPECT_EQ(total.load(), n * (2 * expected + 100));
}

struct alignas(64) Overaligned {
  std::uint64_t v[8];
};

TEST(Closure, OveralignedClosuresAreAligned) {
  // Every closure stays alive (its goroutine waits on `gate`) until all are
  // made, so each check sees a distinct allocation, not one reused block.
  const int n = 64;
  std::atomic<int> misaligned{0};
  goro::run([&] {
    goro::wait_group gate, wg;
    gate.add(1);
    wg.add(2 * n);
    auto check = [&](const void* p) {
      if (reinterpret_cast<std::uintptr_t>(p) % alignof(Overaligned) != 0) misaligned.fetch_add(1);
    };
    for (int i = 0; i < n; ++i) {
      Overaligned o{};
      goro::go([&, o] {
        check(&o);
        gate.wait();
        wg.done();
      });
      std::array<Overaligned, 4> big{};  // beyond the inline buffer too
      goro::go([&, big] {
        check(big.data());
        gate.wait();
        wg.done();
      });
    }
    gate.done();
    wg.wait();
  });
  EXPECT_EQ(misaligned.load(), 0);
}

// Calls done() on its group when destroyed (unless moved from).
struct DoneOnDestroy {
  goro::wait_group* wg;
  explicit DoneOnDestroy(goro::wait_group* w) : wg(w) {}
  DoneOnDestroy(DoneOnDestroy&& o) noexcept : wg(std::exchange(o.wg, nullptr)) {}
  DoneOnDestroy(const DoneOnDestroy&) = delete;
  ~DoneOnDestroy() {
    if (wg) wg->done();
  }
};

TEST(Closure, ClosureAndArgumentsAreDestroyedWhenTheGoroutineEnds) {
  const int n = goro_test::scaled(10'000, 400);
  std::atomic<int> ran{0};
  goro::run([&] {
    goro::wait_group destroyed;  // counts destructions, not returns
    destroyed.add(2 * n);
    for (int i = 0; i < n; ++i) {
      goro::go([&, d = DoneOnDestroy(&destroyed)] { ran.fetch_add(1); });
      goro::go([&](DoneOnDestroy) { ran.fetch_add(1); }, DoneOnDestroy(&destroyed));
    }
    destroyed.wait();
  });
  EXPECT_EQ(ran.load(), 2 * n);
}

// Touches every page of an on-stack array of `kBytes`.
template <std::size_t kBytes>
[[gnu::noinline]] std::uint64_t use_stack_array() {
  volatile unsigned char a[kBytes];
  for (std::size_t i = kBytes; i-- > 0;)
    if (i % 1024 == 0) a[i] = static_cast<unsigned char>(i >> 10);
  std::uint64_t s = 0;
  for (std::size_t i = 0; i < kBytes; i += 1024) s += a[i];
  return s;
}

template <std::size_t kBytes>
constexpr std::uint64_t stack_array_sum() {
  std::uint64_t s = 0;
  for (std::size_t i = 0; i < kBytes; i += 1024) s += static_cast<unsigned char>(i >> 10);
  return s;
}

// goro::go(goro::spawn_options{...}, f) is the documented call form, with
// the options as a prvalue, a const or a non-const lvalue; and
// `goro::go(worker);` with a lone function name is a call (it once parsed as
// a declaration, when go was a class template).
namespace {
std::atomic<int> worker_runs{0};
void worker() { worker_runs.fetch_add(1); }
}  // namespace

TEST(SpawnOptions, DocumentedCallFormsCompileAndRun) {
  worker_runs = 0;
  goro::run([] {
    goro::wait_group wg;
    wg.add(4);
    goro::spawn_options lvalue{.name = "l"};
    const goro::spawn_options const_lvalue{.name = "c"};
    goro::go(goro::spawn_options{.name = "x"}, [&] { wg.done(); });
    goro::go(lvalue, [&] { wg.done(); });
    goro::go(const_lvalue, [&] { wg.done(); });
    goro::go(worker);
    goro::go([&] { wg.done(); });
    wg.wait();
    while (worker_runs.load() == 0) goro::yield();
  });
  EXPECT_EQ(worker_runs.load(), 1);
}

TEST(SpawnOptions, LargeStackHoldsALargeLocalArray) {
  std::uint64_t got = 0;
  goro::run([&] {
    goro::wait_group wg;
    wg.add(1);
    const goro::spawn_options opts{.name = "big-stack", .stack_size = 1 << 20};
    goro::go(opts, [&] {
      got = use_stack_array<512 * 1024>();
      wg.done();
    });
    wg.wait();
  });
  EXPECT_EQ(got, stack_array_sum<512 * 1024>());
}

TEST(SpawnOptions, SmallStackAndNamedGoroutines) {
  const int n = goro_test::scaled(1000, 100);
  std::atomic<std::uint64_t> total{0};
  goro::run([&] {
    goro::wait_group wg;
    wg.add(n);
    for (int i = 0; i < n; ++i) {
      std::string name = "worker-" + std::to_string(i);  // copied by go
      const goro::spawn_options opts{.name = name, .stack_size = 64 * 1024};
      goro::go(opts, [&] {
        total.fetch_add(use_stack_array<32 * 1024>());
        goro::yield();
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(total.load(), n * stack_array_sum<32 * 1024>());
}

// spawn_options::name is a string_view: go() copies the name, so the
// caller's string may die (and its bytes be reused) at once. Every name is
// read back from a goroutine dump while the goroutines are parked.
TEST(SpawnOptions, NamesAreCopied) {
  const int n = 50;
  std::string dump;
  goro::run([&] {
    auto gate = goro::make_chan<int>();
    goro::wait_group parked;
    parked.add(n);
    for (int i = 0; i < n; ++i) {
      auto name = std::make_unique<std::string>("worker-" + std::to_string(i) + "-of-fifty");
      goro::go(goro::spawn_options{.name = *name}, [&] {
        parked.done();
        (void)gate.recv();
      });
      std::fill(name->begin(), name->end(), '#');  // the caller's bytes change, then die
    }
    parked.wait();
    std::ostringstream os;
    goro::dump_goroutines(os);
    dump = os.str();
    gate.close();
  });
  for (int i = 0; i < n; ++i)
    EXPECT_NE(dump.find("as \"worker-" + std::to_string(i) + "-of-fifty\""), std::string::npos) << "name " << i;
  EXPECT_EQ(dump.find("####"), std::string::npos);
}

TEST(SpawnOptions, ConfigStackSizeIsTheDefault) {
  std::uint64_t got = 0;
  goro::run(
      [&] {
        EXPECT_EQ(goro::introspect::default_stack_size(), std::size_t{2} << 20);
        goro::wait_group wg;
        wg.add(1);
        goro::go([&] {
          got = use_stack_array<1024 * 1024>();
          wg.done();
        });
        wg.wait();
        got += use_stack_array<1024 * 1024>();  // the main goroutine too
      },
      goro::config{.stack_size = 2 << 20});
  EXPECT_EQ(got, 2 * stack_array_sum<1024 * 1024>());
}

}  // namespace
