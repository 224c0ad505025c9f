// stack_test.cpp — goroutine stacks: a pooled stack gives its deep pages back
// to the OS (the scavenger, DESIGN "Stacks"), and so does a parked goroutine
// that once ran deep (shrink.cpp); what lives above a parked sp is kept.
#include <alloca.h>
#include <goro/goro.hpp>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/sanitizer.hpp"
#include "runtime/sched.hpp"
#include "test_support.hpp"

namespace {

using goro_test::bailout;
using goro_test::scaled;

constexpr std::size_t kPage = 4096;

// Is the page holding addr resident? mincore answers for the pages of this
// process's own mappings, which the stack pool's are.
bool resident(const void* addr) {
  auto page = reinterpret_cast<std::uintptr_t>(addr) & ~(std::uintptr_t{kPage} - 1);
  unsigned char v = 0;
  if (mincore(reinterpret_cast<void*>(page), kPage, &v) != 0) return false;
  return (v & 1) != 0;
}

// Recurses `frames` frames of one written page each (alloca: the goroutine's
// real stack, even under AddressSanitizer's fake stacks), then calls
// at_bottom with the deepest page, which is about frames × 4 KiB below the
// caller's frame.
[[gnu::noinline]] void descend(int frames, const std::function<void(volatile char*)>& at_bottom) {
  auto* page = static_cast<volatile char*>(alloca(kPage));
  for (std::size_t i = 0; i < kPage; i += 256) page[i] = static_cast<char>(0x5a ^ frames);
  if (frames == 0) at_bottom(page);
  else descend(frames - 1, at_bottom);
  asm volatile("" ::: "memory");  // no tail call: this frame stays below its caller's
}

constexpr int kFrames = 32;  // about 128 KiB, far below a stack's warm top

// Goroutines that ran 128 KiB deep and exited leave their stacks in the
// P's cache and the global pool, warm. Within a few scavenges (every 5 s)
// their deep pages are no longer resident; meanwhile a goroutine parked
// at the same depth keeps every byte it wrote there.
void deep_pages_of_exited_goroutines_are_released(int procs) {
  const int n = scaled(64, 16);
  std::vector<const volatile char*> deep(static_cast<std::size_t>(n));
  std::atomic<int> resident_at_bottom{0};
  bool all_released = false, parked_intact = false;
  std::string still;  // where each still-resident deep page's stack is, on failure
  goro::run(
      [&] {
        // The parked one: its deep page holds a pattern it checks when woken.
        // It is at its bottom before the others start: had it started after
        // some of them exited, it would have taken one of their stacks and kept
        // that one's deep page resident for good (the flake of issue 25).
        auto wake = goro::make_chan<int>();
        auto intact = goro::make_chan<bool>(1);
        auto parked = goro::make_chan<int>(1);
        goro::go([wake, intact, parked] {  // (by value: main may return once it has the answer)
          descend(kFrames, [&](volatile char* page) {
            for (std::size_t i = 0; i < kPage; ++i) page[i] = static_cast<char>(i * 7);
            parked.send(1);
            wake.recv();
            bool ok = true;
            for (std::size_t i = 0; i < kPage; ++i) ok = ok && page[i] == static_cast<char>(i * 7);
            intact.send(ok);
          });
        });
        parked.recv();
        // The exited ones: all deep at once, so each has its own stack.
        auto release = goro::make_chan<int>();
        goro::wait_group wg, at_bottom;
        wg.add(n);
        at_bottom.add(n);
        for (int i = 0; i < n; ++i) {
          goro::go([&, i] {
            descend(kFrames, [&](volatile char* page) {
              deep[static_cast<std::size_t>(i)] = page;
              if (resident(const_cast<char*>(page))) resident_at_bottom.fetch_add(1);
              at_bottom.done();
              release.recv();
            });
            wg.done();
          });
        }
        at_bottom.wait();
        release.close();
        wg.wait();
        // Goroutines keep exiting meanwhile (a P trims its own cache when it
        // frees a stack in a new scavenge generation), as in any service.
        bailout limit(std::chrono::seconds(60));
        while (!limit.expired()) {
          bool any = false;
          for (auto* p : deep) any = any || resident(const_cast<const char*>(p));
          if (!any) {
            all_released = true;
            break;
          }
          goro::wait_group one;
          one.add(1);
          goro::go([&] { one.done(); });
          one.wait();
          goro::sleep(std::chrono::milliseconds(20));
        }
        if (!all_released)
          for (std::size_t i = 0; i < deep.size(); ++i)
            if (resident(const_cast<const char*>(deep[i])))
              still += "deep page " + std::to_string(i) + ": " +
                       goro::rt::stack_whereabouts(const_cast<const char*>(deep[i])) + "\n";
        wake.send(1);
        parked_intact = intact.recv().value_or(false);
      },
      goro::config{.procs = procs});
  EXPECT_EQ(resident_at_bottom.load(), n) << "the premise: a page just written is resident";
  EXPECT_TRUE(all_released) << "pooled stacks kept their deep pages for 60 s:\n" << still;
  EXPECT_TRUE(parked_intact) << "a parked goroutine's deep page changed while it waited";
}

// A stack is a reservation: its pages become resident only when touched.
// A size no preset uses as its default gets a fresh mapping of its own.
TEST(Stack, PagesAreCommittedOnlyAsTouched) {
  constexpr std::size_t kSize = (1 << 20) + 64 * 1024;
  bool far_before = true, far_after = false;
  goro::run([&] {
    goro::wait_group wg;
    wg.add(1);
    goro::go(goro::spawn_options{.stack_size = kSize}, [&] {
      const char* far = static_cast<char*>(__builtin_frame_address(0)) - 512 * 1024;
      far_before = resident(far);
      descend(160, [&](volatile char*) { far_after = resident(far); });  // about 640 KiB deep
      wg.done();
    });
    wg.wait();
  });
  EXPECT_FALSE(far_before) << "a page 512 KiB below a new goroutine's frame was resident before it was touched";
  EXPECT_TRUE(far_after) << "the premise: the page is resident once the goroutine has run past it";
}

// Resident bytes of this process (/proc/self/statm).
std::size_t rss_bytes() {
  long total = 0, res = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &total, &res) != 2) res = 0;
    std::fclose(f);
  }
  return static_cast<std::size_t>(res) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Recurses `frames` frames of one page each, every page filled with a
// pattern of its depth and checked after the deeper frames returned; the
// number of pages found changed.
[[gnu::noinline]] int descend_checked(int frames, const std::function<void(volatile char*)>& at_bottom) {
  auto* page = static_cast<volatile char*>(alloca(kPage));
  const char mark = static_cast<char>(0x3c ^ frames);
  for (std::size_t i = 0; i < kPage; i += 64) page[i] = mark;
  int bad = frames == 0 ? (at_bottom(page), 0) : descend_checked(frames - 1, at_bottom);
  for (std::size_t i = 0; i < kPage; i += 64)
    if (page[i] != mark) return bad + 1;
  return bad;
}

// API.md ("shrinks again"): goroutines that ran 128 KiB deep and parked at
// a shallow depth give the deep pages back within a few seconds (every
// deepest page no longer resident; without a sanitizer's shadow memory,
// RSS at most 8 KiB per goroutine above what it was before they started);
// then they wake, run as deep again with every frame intact, and finish.
TEST(Stack, ParkedGoroutinesGiveTheirDeepPagesBack) {
  if (!goro::rt::shrink_supported()) GTEST_SKIP() << "no membarrier here: parked stacks do not shrink (README)";
  const int n = scaled(10000, 1000);
  std::vector<const volatile char*> deep(static_cast<std::size_t>(n));
  std::size_t before = 0, after = 0;
  bool released = false;
  int still_resident = 0;
  std::atomic<int> bad{0}, finished{0}, resident_deep{0};
  goro::run([&] {
    before = rss_bytes();
    auto wake = goro::make_chan<int>();
    goro::wait_group parked, done;
    parked.add(n);
    done.add(n);
    for (int i = 0; i < n; ++i) {
      goro::go([&, i] {
        bad.fetch_add(descend_checked(kFrames, [&](volatile char* page) {
          deep[static_cast<std::size_t>(i)] = page;
          if (resident(const_cast<char*>(page))) resident_deep.fetch_add(1);
        }));
        parked.done();
        wake.recv();  // parked, shallow
        bad.fetch_add(descend_checked(kFrames, [](volatile char*) {}));
        finished.fetch_add(1);
        done.done();
      });
    }
    parked.wait();
    bailout limit(std::chrono::seconds(60));
    while (!limit.expired()) {
      still_resident = 0;
      for (auto* p : deep) still_resident += resident(const_cast<const char*>(p));
      after = rss_bytes();
      if (still_resident == 0) {
#if !defined(GORO_TSAN) && !defined(GORO_ASAN)
        if (after <= before + static_cast<std::size_t>(n) * 8192)
#endif
        {
          released = true;
          break;
        }
      }
      goro::sleep(std::chrono::milliseconds(50));
    }
    wake.close();
    done.wait();
  });
  EXPECT_EQ(resident_deep.load(), n) << "the premise: a page just written is resident";
  EXPECT_TRUE(released) << still_resident << " of " << n << " deepest pages still resident after 60 s; RSS "
                        << (after - before) / 1024 << " KiB above the start (" << n << " goroutines, bound " << n * 8
                        << " KiB)";
  EXPECT_EQ(bad.load(), 0) << "frames found changed";
  EXPECT_EQ(finished.load(), n);
}

// The shrink's handshake with resumes (shrink.cpp): a thread shrinks every
// parked stack again and again, with no minimum park time, while goroutines
// park in the middle of checked frames and, once woken, run deep at once
// and stay there a while (in the pages a shrink may be discarding: each
// claim is held 100 us before its madvise). A resume that did not wait for
// a claimed shrink finds a frame zeroed (checked: it fails so).
void shrinking_races_resumes(int procs) {
  if (!goro::rt::shrink_supported()) GTEST_SKIP() << "no membarrier here: parked stacks do not shrink (README)";
  const int n = 16, rounds = scaled(300, 60);
  std::atomic<int> bad{0};
  std::atomic<bool> stop{false};
  const auto shrunk0 = goro::rt::stacks_shrunk.load(), waits0 = goro::rt::shrink_waits.load();
  const auto after0 = goro::rt::shrink_after_ns.exchange(0);
  goro::rt::shrink_hold_ns.store(100'000);  // each claim held 100 us: resumes meet claims
  std::thread shrinker([&] {
    goro::rt::G* cursor = nullptr;
    while (!stop.load()) goro::rt::shrink_parked_stacks(cursor);
  });
  goro::run(
      [&] {
        std::vector<goro::chan<int>> pokes;
        for (int i = 0; i < n; ++i) pokes.push_back(goro::make_chan<int>());
        goro::wait_group wg;
        wg.add(n);
        for (int i = 0; i < n; ++i) {
          goro::go([&, poke = pokes[static_cast<std::size_t>(i)]] {
            for (int r = 0; r < rounds; ++r) {
              // Parked with four checked frames above it; deep at once after.
              bad.fetch_add(descend_checked(4, [&](volatile char*) {
                poke.recv();
                // Live frames below the sp it parked at, for a while.
                bad.fetch_add(descend_checked(12, [](volatile char*) { goro::sleep(std::chrono::microseconds(300)); }));
              }));
            }
            wg.done();
          });
        }
        for (int r = 0; r < rounds; ++r) {
          for (auto& c : pokes) c.send(r);
          if (r % 8 == 0) goro::sleep(std::chrono::milliseconds(1));  // let the shrinker find them parked
        }
        wg.wait();
        stop.store(true);
        goro::blocking([&] { shrinker.join(); });  // before run()'s teardown frees any stack
      },
      goro::config{.procs = procs});
  goro::rt::shrink_after_ns.store(after0);
  goro::rt::shrink_hold_ns.store(0);
  EXPECT_EQ(bad.load(), 0) << "frames changed under a resumed goroutine (resume waits: "
                           << goro::rt::shrink_waits.load() << ")";
  EXPECT_GT(goro::rt::stacks_shrunk.load(), shrunk0) << "the premise: stacks were shrunk while goroutines ran";
  EXPECT_GT(goro::rt::shrink_waits.load(), waits0) << "the premise: resumes met claimed shrinks";
}

TEST(Stack, ShrinkingRacesResumesOneProc) { shrinking_races_resumes(1); }
TEST(Stack, ShrinkingRacesResumesFourProcs) { shrinking_races_resumes(4); }

TEST(Stack, DeepPagesOfExitedGoroutinesAreReleasedOneProc) { deep_pages_of_exited_goroutines_are_released(1); }
TEST(Stack, DeepPagesOfExitedGoroutinesAreReleasedFourProcs) { deep_pages_of_exited_goroutines_are_released(4); }

}  // namespace
