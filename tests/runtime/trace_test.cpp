// trace_test.cpp — goro::trace: the execution tracer writes a Chrome Trace
// Event JSON timeline with a track per processor and per thread, a slice per
// stretch a goroutine ran (with its end reason), wake-up flows, blocking()
// calls and network waits as slices of their own, and a counter track. One
// test loads the JSON with Python's json module and checks its structure:
// slices nest on every track, flows connect, waits begin and end.
#include <goro/goro.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include "chan_test_util.hpp"

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

// The structure a trace viewer relies on, checked by Python's json module
// and the rules of the Trace Event format (times in integral nanoseconds):
// complete slices on one track nest (none overlaps another partially); each
// flow's end has its start, not later, and lies in a run slice of its
// track; each blocking() slice lies in a run slice of the same goroutine on
// its thread's track; each IO wait's begin has its end; counters are
// numbers. Prints "ok" and the counts, or what is wrong.
constexpr const char* kTraceCheck = R"PY(
import json, sys
from collections import defaultdict
doc = json.load(open(sys.argv[1]))
ev = doc["traceEvents"]
ns = lambda x: int(round(float(x) * 1000))
errors = []
tracks = defaultdict(list)
for e in ev:
    if e["ph"] == "X":
        tracks[(e["pid"], e["tid"])].append((ns(e["ts"]), ns(e["ts"]) + ns(e["dur"]), e))
for key, sl in tracks.items():
    sl.sort(key=lambda t: (t[0], -t[1]))
    stack = []
    for b, end, e in sl:
        while stack and stack[-1][1] <= b:
            stack.pop()
        if stack and end > stack[-1][1]:
            errors.append("overlap on %s: %s and %s" % (key, stack[-1][2], e))
        stack.append((b, end, e))
def enclosing(key, t, pred=lambda e: True):
    return [e for b, end, e in tracks.get(key, []) if b <= t <= end and pred(e)]
run = lambda e: e.get("cat") == "goroutine"
starts = {e["id"]: e for e in ev if e["ph"] == "s"}
flows = 0
for e in ev:
    if e["ph"] != "f":
        continue
    flows += 1
    s = starts.get(e["id"])
    if s is None or ns(s["ts"]) > ns(e["ts"]):
        errors.append("flow end without an earlier start: %s" % e)
    if not enclosing((e["pid"], e["tid"]), ns(e["ts"]), run):
        errors.append("flow end outside a run slice: %s" % e)
blocking = 0
for key, sl in tracks.items():
    for b, end, e in sl:
        if e.get("cat") != "blocking":
            continue
        blocking += 1
        g = e["args"]["goroutine"]
        if key[0] != 2 or not [o for o in enclosing(key, b, run) if o["args"]["goroutine"] == g and ns(o["ts"]) + ns(o["dur"]) >= end]:
            errors.append("blocking slice outside its goroutine's run slice: %s" % e)
begins = {e["id"]: e for e in ev if e["ph"] == "b"}
ends = {e["id"]: e for e in ev if e["ph"] == "e"}
if begins.keys() != ends.keys():
    errors.append("IO waits begun and ended differ: %s" % (begins.keys() ^ ends.keys()))
for i, b in begins.items():
    e = ends.get(i)
    if e and (ns(b["ts"]) > ns(e["ts"]) or b["args"] != e["args"] or b["cat"] != "network"):
        errors.append("bad IO wait: %s %s" % (b, e))
counters = [e for e in ev if e["ph"] == "C"]
for c in counters:
    a = c["args"]
    if not (isinstance(a["runnable"], int) and a["runnable"] >= 0 and isinstance(a["running threads"], int) and a["running threads"] >= 1):
        errors.append("bad counter: %s" % c)
names = {e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "process_name"}
if names != {"goro processors", "goro threads", "goro network waits"}:
    errors.append("processes: %s" % names)
for x in errors[:20]:
    print(x)
if not errors:
    print("ok flows=%d blocking=%d io=%d counters=%d" % (flows, blocking, len(begins), len(counters)))
)PY";

// What the checker printed, or why it could not run.
std::string check_trace(const std::string& path) {
  const std::string script = temp_path("check") + ".py";
  {
    std::ofstream out(script);
    out << kTraceCheck;
  }
  std::string cmd = "/usr/bin/python3 " + script + " " + path + " 2>&1";
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
    ::pclose(f);
  }
  ::unlink(script.c_str());
  return out;
}

int count_of(const std::string& report, const std::string& key) {
  auto at = report.find(key + "=");
  return at == std::string::npos ? -1 : std::atoi(report.c_str() + at + key.size() + 1);
}

TEST(Trace, BlockingCallsAndNetworkWaitsAreSlicesAndTheJSONHoldsTogether) {
  const std::string path = temp_path("structure");
  std::int64_t blocker_id = 0, reader_id = 0;
  goro::trace::start(path);
  goro::run(
      [&] {
        // Hand-offs: flows and run slices on both processors.
        auto ping = goro::make_chan<int>();
        auto pong = goro::make_chan<int>();
        goro::wait_group wg;
        wg.add(3);
        goro::go(goro::spawn_options{.name = "ponger"}, [&] {
          while (auto v = ping.recv()) pong.send(*v + 1);
          wg.done();
        });
        // A blocking() call: its own slice inside the goroutine's.
        auto blocker = goro::make_chan<std::int64_t>(1);
        goro::go(goro::spawn_options{.name = "blocker"}, [&] {
          blocker.send(goro::this_goroutine::id());
          goro::blocking([] { ::usleep(20'000); });
          wg.done();
        });
        // A network wait: the reader parks in IO wait until the writer writes.
        auto ln = goro::net::listen("tcp", "127.0.0.1:0");
        auto reader = goro::make_chan<std::int64_t>(1);
        goro::go(goro::spawn_options{.name = "reader"}, [&] {
          auto c = ln.accept();
          reader.send(goro::this_goroutine::id());
          std::byte b[16];
          EXPECT_EQ(c.read(b), 5u);
          c.close();
          wg.done();
        });
        auto c = goro::net::dial("tcp", ln.addr());
        for (int i = 0; i < 200; ++i) {
          ping.send(i);
          EXPECT_EQ(pong.recv(), i + 1);
        }
        blocker_id = *blocker.recv();
        reader_id = *reader.recv();
        EXPECT_TRUE(goro_test::wait_until_parked(reader_id, "IO wait"));
        c.write("hello");
        ping.close();
        wg.wait();
        c.close();
        ln.close();
      },
      goro::config{.procs = 2});
  goro::trace::stop();
  const std::string t = slurp(path);
  const std::string report = check_trace(path);
  ::unlink(path.c_str());
  ASSERT_EQ(report.rfind("ok ", 0), 0u) << report;
  EXPECT_GE(count_of(report, "flows"), 200) << report;
  EXPECT_GE(count_of(report, "blocking"), 1) << report;
  EXPECT_GE(count_of(report, "io"), 1) << report;
  EXPECT_GE(count_of(report, "counters"), 1) << report;
  // The right goroutines: the blocking slice is the blocker's, a wait the reader's.
  EXPECT_NE(
      t.find("\"cat\":\"blocking\",\"name\":\"blocking\",\"args\":{\"goroutine\":" + std::to_string(blocker_id) + "}"),
      std::string::npos);
  EXPECT_NE(t.find("\"ph\":\"b\""), std::string::npos);
  EXPECT_NE(t.find("\"name\":\"IO wait\",\"id\":"), std::string::npos);
  EXPECT_NE(t.find("\"args\":{\"goroutine\":" + std::to_string(reader_id) + "}}"), std::string::npos);
  EXPECT_NE(t.find("\"end\":\"blocking\""), std::string::npos) << "the processor's slice ends at the call";
}

}  // namespace
