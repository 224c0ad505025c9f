// stack_test.cpp — goroutine stacks: a pooled stack gives its deep pages back
// to the OS (the scavenger, DESIGN "Stacks"), a stack in use keeps them.
#include <alloca.h>
#include <goro/goro.hpp>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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

TEST(Stack, DeepPagesOfExitedGoroutinesAreReleasedOneProc) { deep_pages_of_exited_goroutines_are_released(1); }
TEST(Stack, DeepPagesOfExitedGoroutinesAreReleasedFourProcs) { deep_pages_of_exited_goroutines_are_released(4); }

}  // namespace
