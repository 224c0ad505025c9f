// dump_test.cpp — goro::dump_goroutines (Go's runtime.Stack(buf, true)) in
// this process: the header `goroutine N [state]:`, the frames of a parked
// goroutine (symbolized when the library was built with libdw), and
// `created by F in goroutine M` with the creation site's file:line.
//
// The wait time (`[chan receive, 3 minutes]`) appears only after a goroutine
// has been blocked for a minute: not tested, but every check of a state
// allows it (goro_tools::is_header), as a slow run may get there.
#include <goro/goro.hpp>
#include <goro/testing.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <sstream>
#include <string>
#include <thread>

#include "child_process.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

std::string dump() {
  std::ostringstream os;
  goro::dump_goroutines(os);
  return os.str();
}

// Goroutine id's part of a dump: its header up to the blank line after it.
std::string section(const std::string& d, std::int64_t id) {
  const std::string h = "goroutine " + std::to_string(id) + " [";
  for (std::size_t at = d.find(h); at != std::string::npos; at = d.find(h, at + 1)) {
    if (at != 0 && d[at - 1] != '\n') continue;
    std::size_t end = d.find("\n\n", at);
    return d.substr(at, end == std::string::npos ? std::string::npos : end - at + 1);
  }
  return {};
}

// Dumps until goroutine id shows as parked in `state`; returns its section.
std::string wait_for_state(std::int64_t id, const std::string& state) {
  goro_test::bailout limit;
  std::string s;
  while (!limit.expired()) {
    s = section(dump(), id);
    if (goro_tools::starts_with_header(s, id, state.c_str())) return s;
    goro::sleep(1ms);
  }
  ADD_FAILURE() << "goroutine " << id << " never showed as [" << state << "]; last:\n" << s;
  return s;
}

// The function lines of a section: not the header, not a file line, not
// the "created by" line.
std::vector<std::string> function_lines(const std::string& sec) {
  std::vector<std::string> fns;
  std::istringstream in(sec);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '\t' || line.rfind("goroutine ", 0) == 0 || line.rfind("created by ", 0) == 0)
      continue;
    fns.push_back(line);
  }
  return fns;
}

std::atomic<std::int64_t> g_deep_id{0};

// Parks at the bottom of `depth` frames of itself. The volatile read after
// the call keeps GCC from turning the recursion into a loop.
[[gnu::noinline]] int recurse_deep(int depth, const goro::chan<int>& ch) {
  volatile int frame = depth;
  if (depth == 0) {
    g_deep_id = goro::this_goroutine::id();
    std::optional<int> v = ch.recv();
    return v ? *v : 0;
  }
  int r = recurse_deep(depth - 1, ch);
  return r + frame;
}

TEST(DumpTest, DeepRecursionShowsItsFrames) {
  std::string sec;
  goro::run(
      [&] {
        auto ch = goro::make_chan<int>();
        goro::go([ch] { recurse_deep(20, ch); });
        goro_test::bailout limit;
        while (g_deep_id == 0 && !limit.expired()) goro::sleep(1ms);
        sec = wait_for_state(g_deep_id, "chan receive");
        ch.close();
      },
      goro::config{.procs = 2});
  std::vector<std::string> fns = function_lines(sec);
  bool named = false;
  for (const auto& f : fns) named |= f != "?" && f.find("pc=") == std::string::npos;
  if (!named || sec.find("build with libdw") != std::string::npos)
    GTEST_SKIP() << "goro was built without libdw: dumps show addresses only\n" << sec;
  const auto frames = std::count_if(fns.begin(), fns.end(),
                                    [](const std::string& f) { return f.find("recurse_deep") != std::string::npos; });
  EXPECT_GE(frames, 10) << sec;
  // Each frame has its file:line.
  EXPECT_NE(sec.find("dump_test.cpp:"), std::string::npos) << sec;
  // The runtime's own frames (the park, the switch) are left out, as in Go.
  EXPECT_EQ(sec.find("goro_switch"), std::string::npos) << sec;
}

int g_spawn_line = 0;

[[gnu::noinline]] void spawn_receiver(const goro::chan<int>& ch, std::atomic<std::int64_t>& id) {
  g_spawn_line = __LINE__ + 1;
  goro::go([ch, &id] { id = goro::this_goroutine::id(), ch.recv(); });
}

TEST(DumpTest, HeaderAndCreatedBy) {
  std::string sec;
  std::int64_t gid = 0;
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    std::atomic<std::int64_t> id{0};
    spawn_receiver(ch, id);
    goro_test::bailout limit;
    while (id == 0 && !limit.expired()) goro::sleep(1ms);
    gid = id;
    sec = wait_for_state(gid, "chan receive");
    ch.close();
  });
  ASSERT_GT(gid, 1);
  // goroutine N [chan receive]:
  EXPECT_TRUE(goro_tools::starts_with_header(sec, gid, "chan receive")) << sec;
  // created by <function> in goroutine 1
  //         <file>:<line>
  // (the last entry of the section)
  const std::string location = "dump_test.cpp:" + std::to_string(g_spawn_line);
  EXPECT_TRUE(sec.size() > location.size() + 1 &&
              sec.compare(sec.size() - location.size() - 1, std::string::npos, location + "\n") == 0)
      << "line " << g_spawn_line << ":\n"
      << sec;
  auto created = goro_tools::created_by_entries(sec);
  ASSERT_EQ(created.size(), 1u) << sec;
  EXPECT_NE(created[0].line.find("spawn_receiver"), std::string_view::npos) << sec;
  EXPECT_TRUE(created[0].line.substr(created[0].line.size() - 15) == " in goroutine 1") << sec;
  EXPECT_EQ(created[0].location.substr(0, 1), "\t") << sec;
}

TEST(DumpTest, CreatedByAnotherGoroutine) {
  std::string sec;
  std::int64_t parent = 0, child = 0;
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    auto ids = goro::make_chan<std::int64_t>(2);
    goro::go([ch, ids] {
      ids.send(goro::this_goroutine::id());
      goro::go([ch, ids] {
        ids.send(goro::this_goroutine::id());
        ch.recv();
      });
      ch.recv();
    });
    parent = *ids.recv();
    child = *ids.recv();
    sec = wait_for_state(child, "chan receive");
    ch.close();
  });
  EXPECT_NE(sec.find(" in goroutine " + std::to_string(parent) + "\n\t"), std::string::npos)
      << "parent " << parent << ":\n"
      << sec;
}

TEST(DumpTest, NamedGoroutine) {
  std::string sec;
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    auto ids = goro::make_chan<std::int64_t>(1);
    goro::go(goro::spawn_options{.name = "reactor-7"}, [ch, ids] {
      ids.send(goro::this_goroutine::id());
      ch.recv();
    });
    sec = wait_for_state(*ids.recv(), "chan receive");
    ch.close();
  });
  EXPECT_NE(sec.find(" in goroutine 1 as \"reactor-7\"\n\t"), std::string::npos) << sec;
}

TEST(DumpTest, TheCallerComesFirstAsRunning) {
  goro::testing::allow_leaks leaks;  // goroutines left parked to be dumped
  std::string d;
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    auto ids = goro::make_chan<std::int64_t>(1);
    goro::go([ch, ids] {
      ids.send(goro::this_goroutine::id());
      goro::sleep(1h);
    });
    std::int64_t id = *ids.recv();
    wait_for_state(id, "sleep");
    d = dump();
  });
  EXPECT_EQ(d.rfind("goroutine 1 [running]:\n", 0), 0u) << d;
  EXPECT_NE(d.find("\ngoroutine "), std::string::npos) << d;
  EXPECT_GE(goro_tools::count_headers(d, "sleep"), 1u) << d;
}

TEST(DumpTest, DumpFromAPlainThread) {
  std::string d;
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    std::thread t([ch, &d] {
      // Main is parked on ch by now or soon: dump until it shows.
      goro_test::bailout limit;
      while (!limit.expired()) {
        d = dump();
        if (goro_tools::has_header(d, 1, "chan receive")) break;
        std::this_thread::sleep_for(1ms);
      }
      ch.send(1);
    });
    ch.recv();
    t.join();
  });
  EXPECT_TRUE(goro_tools::starts_with_header(d, 1, "chan receive")) << "no [running] goroutine on a plain thread:\n"
                                                                    << d;
}

TEST(DumpTest, AssortedStates) {
  goro::testing::allow_leaks leaks;  // goroutines left parked to be dumped
  // The objects outlive run(): the goroutines still parked on them are
  // discarded at its end.
  goro::mutex mu;
  goro::wait_group wg;
  goro::run([&] {
    mu.lock();
    wg.add(1);
    auto ids = goro::make_chan<std::int64_t>(8);
    auto go = [&](auto f) {
      goro::go([ids, f] {
        ids.send(goro::this_goroutine::id());
        f();
      });
      return *ids.recv();
    };
    std::int64_t a = go([] { goro::select(); });
    std::int64_t b = go([&mu] { mu.lock(); });
    std::int64_t c = go([&wg] { wg.wait(); });
    std::int64_t e = go([] { goro::chan<int>().send(1); });
    wait_for_state(a, "select (no cases)");
    wait_for_state(b, "sync.Mutex.Lock");
    wait_for_state(c, "sync.WaitGroup.Wait");
    wait_for_state(e, "chan send (nil chan)");
  });
}

}  // namespace
