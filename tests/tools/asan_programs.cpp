// asan_programs.cpp — goro_asan_programs: programs for AddressSanitizer,
// built only in an AddressSanitizer build.
//
//   goro_asan_programs <program> <procs>
//
// stack_overflow: a goroutine writes past a local array; ASan must report a
// stack-buffer-overflow naming the goroutine's function. workload: many
// goroutine switches, channel traffic, exceptions, and goroutines exiting
// while new ones reuse their stacks; ASan (and UBSan) must stay silent.
// discarded: main returns while goroutines are blocked forever, holding
// heap objects only their frames and closures reference; then a second
// run() reuses their stacks and descriptors. LeakSanitizer must stay silent
// (exit status 0). leak: the same, plus a real leak (an array nothing
// points to), which LeakSanitizer must still report.
#include <goro/goro.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::chrono_literals;

volatile int g_index = 16;
volatile char g_sink;

// The store goes through a pointer read from a volatile, so that UBSan
// (-fsanitize=bounds,object-size; fatal in the asan preset) cannot see the
// array and ASan is the one to report it.
[[gnu::noinline]] void overflow_the_buffer() {
  char buf[16];
  std::memset(buf, 'a', sizeof buf);
  char* volatile p = buf;
  p[g_index] = 'x';  // one past the end
  g_sink = buf[3];
}

void stack_overflow() {
  goro::wait_group wg;
  wg.add(1);
  goro::go([&] {
    goro::yield();  // run after a switch, on the goroutine's own stack
    overflow_the_buffer();
    wg.done();
  });
  wg.wait();
}

// Touches `depth` frames of stack with a 256-byte array in each.
[[gnu::noinline]] int deep(int depth) {
  char frame[256];
  std::memset(frame, depth & 0xff, sizeof frame);
  if (depth == 0) {
    goro::yield();
    return frame[7];
  }
  int r = deep(depth - 1);
  return r + frame[depth % sizeof frame];
}

void workload() {
  const bool small = std::getenv("GORO_TEST_SCALE") && std::string_view(std::getenv("GORO_TEST_SCALE")) == "small";
  const int waves = small ? 10 : 40;
  long total = 0;

  // Ping-pong pairs over unbuffered channels.
  {
    goro::wait_group wg;
    for (int p = 0; p < 32; ++p) {
      auto ping = goro::make_chan<int>();
      auto pong = goro::make_chan<int>();
      wg.add(2);
      goro::go([ping, pong, &wg] {
        for (int i = 0; i < 200; ++i) pong.send(*ping.recv() + 1);
        wg.done();
      });
      goro::go([ping, pong, &wg] {
        int v = 0;
        for (int i = 0; i < 200; ++i) {
          ping.send(v);
          v = *pong.recv();
        }
        if (v != 200) std::abort();
        wg.done();
      });
    }
    wg.wait();
  }

  // A pipeline: generator -> square -> sum, closing as it goes.
  {
    auto nums = goro::make_chan<int>(4);
    auto squares = goro::make_chan<long>();
    goro::go([nums] {
      for (int i = 0; i < 1000; ++i) nums.send(i);
      nums.close();
    });
    goro::go([nums, squares] {
      for (int v : nums) squares.send(static_cast<long>(v) * v);
      squares.close();
    });
    long s = 0;
    for (long v : squares) s += v;
    if (s != 332833500L) std::abort();
  }

  // Waves of short goroutines: they exit and the next wave reuses their
  // stacks (deep frames, exceptions thrown and caught, selects with timers).
  for (int w = 0; w < waves; ++w) {
    goro::wait_group wg;
    goro::mutex mu;
    auto tick = goro::make_chan<int>(64);
    const int n = 100;
    wg.add(n);
    for (int i = 0; i < n; ++i)
      goro::go([&, i] {
        int r = deep(i % 24);
        try {
          if (i % 3 == 0) throw std::runtime_error("caught in a goroutine");
        } catch (const std::runtime_error&) {
          goro::yield();  // blocking inside a catch block is allowed
          r += 1;
        }
        std::vector<int> heap(64, i);
        goro::select(goro::case_send(tick, i), goro::case_recv(goro::after(1ms)));
        {
          std::lock_guard<goro::mutex> l(mu);
          total += r + heap[5];
        }
        wg.done();
      });
    wg.wait();
  }
  std::printf("total %ld\n", total);
}

// Allocates, then blocks forever: v, s, `local` and the string buffered in
// it are referenced only from this frame.
[[gnu::noinline]] void hold_and_block(goro::chan<int> never, goro::chan<int> ready, int i) {
  std::vector<int> v(1000, i);
  std::string s(200, static_cast<char>('a' + i % 26));
  auto local = goro::make_chan<std::string>(1);
  local.send(s + "!");
  ready.send(i);
  never.recv();
  g_sink = static_cast<char>(v[5] + s[3]);
}

// Goroutines blocked on a receive when main returns, their channels
// captured by their closures: in the descriptor's buffer, or on the heap
// for a closure too large for it.
void discarded() {
  constexpr int n = 16;
  auto ready = goro::make_chan<int>(n);
  for (int i = 0; i < n; ++i) {
    auto never = goro::make_chan<int>();
    if (i % 2 == 0) {
      goro::go([never, ready, i] { hold_and_block(never, ready, i); });
    } else {
      std::array<char, 200> pad{};
      goro::go([never, ready, i, pad] { hold_and_block(never, ready, i + pad[0]); });
    }
  }
  for (int i = 0; i < n; ++i) ready.recv();
}

// Then a second run reuses the discarded goroutines' descriptors and stacks.
void reuse() {
  goro::wait_group wg;
  const int n = 64;
  wg.add(n);
  for (int i = 0; i < n; ++i)
    goro::go([&wg, i] {
      g_sink = static_cast<char>(deep(i % 24));
      wg.done();
    });
  wg.wait();
}

[[gnu::noinline]] void leak_ints() {
  int* volatile p = new int[100];
  p[0] = 1;
  p = nullptr;
}

void leak() {
  goro::wait_group wg;
  wg.add(1);
  goro::go([&wg] {
    leak_ints();
    wg.done();
  });
  wg.wait();
  discarded();
}

const std::map<std::string_view, void (*)()> kPrograms = {
    {"stack_overflow", stack_overflow},
    {"workload", workload},
    {"discarded", discarded},
    {"leak", leak},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || !kPrograms.count(argv[1])) {
    std::fprintf(stderr, "usage: %s <program> <procs>\n", argv[0]);
    return 3;
  }
  void (*f)() = kPrograms.at(argv[1]);
  int rc = goro::run([f] { f(); }, goro::config{.procs = std::atoi(argv[2])});
  if (rc == 0 && f == discarded) rc = goro::run(reuse, goro::config{.procs = std::atoi(argv[2])});
  return rc;
}
