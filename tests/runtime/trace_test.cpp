// trace_test.cpp — goro::trace: the execution tracer writes a Chrome Trace
// Event JSON timeline with a track per processor and per thread, a slice per
// stretch a goroutine ran (with its end reason), and wake-up flows.
#include <goro/goro.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include "../chan/chan_test_util.hpp"

namespace {

std::string temp_path(const char* tag) {
  return "/tmp/goro_trace_test_" + std::to_string(::getpid()) + "_" + tag + ".json";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// Structural JSON check: brackets balance outside strings, strings close,
// escapes are well formed; the document is one object.
bool well_formed(const std::string& s) {
  int depth = 0;
  bool in_str = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_str) {
      if (c == '\\') {
        if (++i >= s.size()) return false;
      } else if (c == '"') {
        in_str = false;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return false;
      }
      continue;
    }
    if (c == '"') in_str = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') {
      if (--depth < 0) return false;
      if (depth == 0 && s.find_first_not_of(" \n", i + 1) != std::string::npos) return false;
    }
  }
  return depth == 0 && !in_str && !s.empty() && s[0] == '{';
}

TEST(Trace, PingPongShowsSlicesEndReasonsAndWakeUps) {
  const std::string path = temp_path("pingpong");
  EXPECT_FALSE(goro::trace::enabled());
  goro::trace::start(path);
  EXPECT_TRUE(goro::trace::enabled());
  goro::run(
      [] {
        auto ping = goro::make_chan<int>();
        auto pong = goro::make_chan<int>();
        goro::wait_group wg;
        wg.add(1);
        goro::go(goro::spawn_options{.name = "ponger"}, [&] {
          while (auto v = ping.recv()) pong.send(*v + 1);
          wg.done();
        });
        goro::sleep(std::chrono::milliseconds(1));  // a slice that ends in "sleep"
        for (int i = 0; i < 100; ++i) {
          ping.send(i);
          EXPECT_EQ(pong.recv(), i + 1);
        }
        // A goroutine parked in a receive, for certain: main watches the
        // dumps until it shows there, then releases it.
        auto never = goro::make_chan<int>();
        auto ids = goro::make_chan<std::int64_t>(1);
        wg.add(1);
        goro::go([&] {
          ids.send(goro::this_goroutine::id());
          never.recv();
          wg.done();
        });
        // This goroutine, not the ponger (also in a receive).
        EXPECT_TRUE(goro_test::wait_until_parked(*ids.recv(), "chan receive"));
        never.close();
        ping.close();
        wg.wait();
      },
      goro::config{.procs = 2});
  goro::trace::stop();
  EXPECT_FALSE(goro::trace::enabled());
  goro::trace::stop();  // a second stop does nothing

  const std::string t = slurp(path);
  ::unlink(path.c_str());
  ASSERT_FALSE(t.empty());
  EXPECT_TRUE(well_formed(t)) << t.substr(0, 2000);
  EXPECT_NE(t.find("\"traceEvents\":["), std::string::npos);
  // Tracks: the processors' and the threads' processes, and named tracks.
  EXPECT_NE(t.find("\"name\":\"goro processors\""), std::string::npos);
  EXPECT_NE(t.find("\"name\":\"goro threads\""), std::string::npos);
  // (Which processors and threads ran goroutines is up to the scheduler.)
  EXPECT_NE(t.find("\"name\":\"thread_name\",\"args\":{\"name\":\"P"), std::string::npos);
  EXPECT_NE(t.find("\"name\":\"thread_name\",\"args\":{\"name\":\"M"), std::string::npos);
  // Slices: the 100 round trips park each side about 100 times, each slice
  // on a processor track and a thread track.
  EXPECT_GE(count(t, "\"ph\":\"X\""), 200u);
  EXPECT_NE(t.find(" ponger\""), std::string::npos) << "the named goroutine's slices carry its name";
  EXPECT_NE(t.find("\"end\":\"chan receive\""), std::string::npos);
  EXPECT_NE(t.find("\"end\":\"sleep\""), std::string::npos);
  EXPECT_NE(t.find("\"end\":\"exit\""), std::string::npos);
  // Wake-ups: a flow from the waker, ending where the woken one runs.
  EXPECT_GE(count(t, "\"ph\":\"s\""), 100u);
  EXPECT_GE(count(t, "\"ph\":\"f\""), 100u);
}

TEST(Trace, MisuseIsReported) {
  EXPECT_THROW(goro::trace::start("/nonexistent-dir/x/trace.json"), std::system_error);
  EXPECT_FALSE(goro::trace::enabled());
  const std::string path = temp_path("twice");
  goro::trace::start(path);
  EXPECT_THROW(goro::trace::start(path), std::logic_error);
  goro::trace::stop();
  // Nothing ran: still a well-formed, empty timeline.
  const std::string t = slurp(path);
  ::unlink(path.c_str());
  EXPECT_TRUE(well_formed(t)) << t;
  EXPECT_EQ(count(t, "\"ph\":\"X\""), 0u);
}

// A trace that spans two runs, and a second trace after it, each see their
// own events only.
TEST(Trace, TracesAreIndependentAndSpanRuns) {
  const std::string a = temp_path("a"), b = temp_path("b");
  goro::trace::start(a);
  for (int r = 0; r < 2; ++r)
    goro::run([] {
      goro::wait_group wg;
      wg.add(10);
      for (int i = 0; i < 10; ++i) goro::go(goro::spawn_options{.name = "first-trace"}, [&] { wg.done(); });
      wg.wait();
    });
  goro::trace::stop();
  goro::trace::start(b);
  goro::run([] {
    goro::wait_group wg;
    wg.add(5);
    for (int i = 0; i < 5; ++i) goro::go(goro::spawn_options{.name = "second-trace"}, [&] { wg.done(); });
    wg.wait();
  });
  goro::trace::stop();
  const std::string ta = slurp(a), tb = slurp(b);
  ::unlink(a.c_str());
  ::unlink(b.c_str());
  EXPECT_TRUE(well_formed(ta));
  EXPECT_TRUE(well_formed(tb));
  // Each goroutine's one slice appears on a processor and a thread track.
  EXPECT_EQ(count(ta, " first-trace\""), 40u);
  EXPECT_EQ(count(ta, " second-trace\""), 0u);
  EXPECT_EQ(count(tb, " second-trace\""), 10u);
  EXPECT_EQ(count(tb, " first-trace\""), 0u);
}

}  // namespace
