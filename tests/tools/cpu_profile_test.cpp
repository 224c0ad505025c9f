// cpu_profile_test.cpp — goro::start_cpu_profile / stop_cpu_profile (Go's
// pprof.StartCPUProfile), read back by `go tool pprof -raw` (Debian
// golang-go) as a user would read it.
//
// Two named goroutines burn CPU in known proportions (3 : 1 loop
// iterations of the same arithmetic, in two functions of their own) on two
// processors. Samples follow each thread's CPU time, so the proportion holds
// whatever else the machine runs; the tolerance (60–90 % for the 75 % side)
// is wide enough for a hundred-odd samples. Each sample must carry the right
// labels (`goroutine` = its id, `name` = its spawn_options name) and end in
// the right function.
#include <goro/goro.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// A call ThreadSanitizer intercepts. TSan defers asynchronous signals to the
// thread's next intercepted call, so in tsan builds a loop that makes none is
// sampled only when it ends; one such call per million iterations (about a
// millisecond) costs nothing measurable elsewhere.
[[gnu::noinline]] void intercepted_call() {
  void* volatile p = std::malloc(16);
  std::free(p);
}

[[gnu::noinline]] std::uint64_t burn_heavy(std::uint64_t n) {
  std::uint64_t x = 1;
  for (std::uint64_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    if ((i & 0xfffff) == 0) intercepted_call();
  }
  return x;
}

[[gnu::noinline]] std::uint64_t burn_light(std::uint64_t n) {
  std::uint64_t x = 3;
  for (std::uint64_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    if ((i & 0xfffff) == 0) intercepted_call();
  }
  return x;
}

struct cmd_result {
  int status = -1;
  std::string out;
};

cmd_result run_cmd(const std::string& cmd) {
  cmd_result r;
  FILE* f = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!f) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  r.status = ::pclose(f);
  return r;
}

std::string temp_path(const char* stem) {
  return "/tmp/goro_" + std::string(stem) + "_" + std::to_string(::getpid()) + ".pb.gz";
}

// One sample of `go tool pprof -raw`: its count, leaf function and labels.
struct raw_sample {
  long count = 0;
  std::string leaf;
  std::map<std::string, std::string> labels;
};

// Parses -raw's "Samples:" and "Locations" sections:
//          43  430000000: 1 2 3 4
//                 goroutine:[2] name:[heavy]
//      1: 0x558a86988204 M=1 burn_heavy(unsigned long) /src/x.cpp:4 s=0
std::vector<raw_sample> parse_raw(const std::string& raw) {
  std::vector<raw_sample> samples;
  std::vector<long> leaf_ids;
  std::map<long, std::string> functions;
  std::istringstream in(raw);
  std::string line;
  enum { none, in_samples, in_locations } at = none;
  while (std::getline(in, line)) {
    if (line.rfind("Samples:", 0) == 0) {
      at = in_samples;
      continue;
    }
    if (line.rfind("Locations", 0) == 0) {
      at = in_locations;
      continue;
    }
    if (line.rfind("Mappings", 0) == 0) {
      at = none;
      continue;
    }
    if (at == in_samples) {
      std::size_t colon = line.find(':');
      if (line.find('[') != std::string::npos) {  // a labels line
        if (samples.empty()) continue;
        std::istringstream ls(line);
        std::string kv;
        while (ls >> kv) {
          std::size_t c = kv.find(":[");
          if (c != std::string::npos && kv.back() == ']')
            samples.back().labels[kv.substr(0, c)] = kv.substr(c + 2, kv.size() - c - 3);
        }
        continue;
      }
      if (colon == std::string::npos) continue;
      std::istringstream vs(line.substr(0, colon)), ids(line.substr(colon + 1));
      raw_sample s;
      long leaf = -1;
      if (!(vs >> s.count) || !(ids >> leaf)) continue;
      samples.push_back(s);
      leaf_ids.push_back(leaf);
    } else if (at == in_locations) {
      std::istringstream ls(line);
      std::string id, addr, mapping, fn;
      if (!(ls >> id >> addr >> mapping)) continue;
      std::getline(ls, fn);
      if (id.empty() || id.back() != ':') continue;
      functions[std::stol(id)] = fn;
    }
  }
  for (std::size_t i = 0; i < samples.size(); ++i) samples[i].leaf = functions[leaf_ids[i]];
  return samples;
}

TEST(CpuProfile, SamplesFollowEachGoroutinesCpuTimeAndCarryItsLabels) {
  const std::string path = temp_path("cpu");
  std::int64_t heavy_id = 0, light_id = 0;
  {
    std::ofstream out(path, std::ios::binary);
    goro::run(
        [&] {
          goro::start_cpu_profile(out);
          goro::wait_group wg;
          wg.add(2);
          std::atomic<std::uint64_t> sink{0};
          goro::go(goro::spawn_options{.name = "heavy"}, [&] {
            heavy_id = goro::this_goroutine::id();
            sink += burn_heavy(1'200'000'000);
            wg.done();
          });
          goro::go(goro::spawn_options{.name = "light"}, [&] {
            light_id = goro::this_goroutine::id();
            sink += burn_light(400'000'000);
            wg.done();
          });
          wg.wait();
          goro::stop_cpu_profile();
          EXPECT_NE(sink.load(), 0u);
        },
        goro::config{.procs = 2});
  }
  cmd_result r = run_cmd("HOME=/tmp go tool pprof -raw " + path);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("PeriodType: cpu nanoseconds"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Period: 10000000"), std::string::npos) << r.out;
  long heavy = 0, light = 0, heavy_in_fn = 0, light_in_fn = 0, total = 0;
  for (const raw_sample& s : parse_raw(r.out)) {
    total += s.count;
    auto name = s.labels.find("name");
    if (name == s.labels.end()) continue;
    if (name->second == "heavy") {
      heavy += s.count;
      if (s.leaf.find("burn_heavy") != std::string::npos) heavy_in_fn += s.count;
      EXPECT_EQ(s.labels.at("goroutine"), std::to_string(heavy_id)) << r.out;
    } else if (name->second == "light") {
      light += s.count;
      if (s.leaf.find("burn_light") != std::string::npos) light_in_fn += s.count;
      EXPECT_EQ(s.labels.at("goroutine"), std::to_string(light_id)) << r.out;
    }
  }
  ASSERT_GE(heavy + light, 60) << "the premise: about 160 samples of 10 ms\n" << r.out;
  double share = double(heavy) / double(heavy + light);
  EXPECT_GT(share, 0.60) << heavy << " heavy, " << light << " light\n" << r.out;
  EXPECT_LT(share, 0.90) << heavy << " heavy, " << light << " light\n" << r.out;
  EXPECT_GE(heavy_in_fn * 10, heavy * 9) << "heavy's samples outside burn_heavy\n" << r.out;
  EXPECT_GE(light_in_fn * 10, light * 9) << "light's samples outside burn_light\n" << r.out;
  EXPECT_GE((heavy + light) * 10, total * 9) << "most samples are the two goroutines'\n" << r.out;

  // -tagfocus picks one goroutine's work, as API.md promises.
  cmd_result focus = run_cmd("HOME=/tmp go tool pprof -top -tagfocus name=light " + path);
  ASSERT_EQ(focus.status, 0) << focus.out;
  EXPECT_NE(focus.out.find("burn_light"), std::string::npos) << focus.out;
  EXPECT_EQ(focus.out.find("burn_heavy"), std::string::npos) << focus.out;
  // The mappings: pprof knows the program (the first mapping) and takes the
  // profile as symbolized.
  EXPECT_NE(focus.out.find("File: tools_cpu_profile_test"), std::string::npos) << focus.out;
  EXPECT_EQ(focus.out.find("Main binary filename not available"), std::string::npos) << focus.out;
  EXPECT_NE(r.out.find("tools_cpu_profile_test  [FN][FL][LN]"), std::string::npos) << r.out;
  std::remove(path.c_str());
}

TEST(CpuProfile, AnEmptyProfileIsValid) {
  const std::string path = temp_path("cpu_empty");
  {
    std::ofstream out(path, std::ios::binary);
    goro::run([&] {
      goro::start_cpu_profile(out);
      goro::stop_cpu_profile();
    });
  }
  cmd_result r = run_cmd("HOME=/tmp go tool pprof -raw " + path);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("PeriodType: cpu nanoseconds"), std::string::npos) << r.out;
  std::remove(path.c_str());
}

TEST(CpuProfile, AProfileMaySpanRunsAndStartBeforeOne) {
  const std::string path = temp_path("cpu_span");
  {
    std::ofstream out(path, std::ios::binary);
    goro::start_cpu_profile(out);  // no runtime yet: its threads arm themselves
    for (int i = 0; i < 2; ++i)
      goro::run([i] {
        goro::wait_group wg;
        wg.add(1);
        goro::go(goro::spawn_options{.name = "spanning"}, [&] {
          // The first run burns in one function, the second in the other.
          volatile std::uint64_t v = i == 0 ? burn_heavy(300'000'000) : burn_light(300'000'000);
          (void)v;
          wg.done();
        });
        wg.wait();
      });
    goro::stop_cpu_profile();
  }
  cmd_result r = run_cmd("HOME=/tmp go tool pprof -raw " + path);
  ASSERT_EQ(r.status, 0) << r.out;
  long first = 0, second = 0;
  for (const raw_sample& s : parse_raw(r.out))
    if (s.labels.count("name") && s.labels.at("name") == "spanning") {
      if (s.leaf.find("burn_heavy") != std::string::npos) first += s.count;
      if (s.leaf.find("burn_light") != std::string::npos) second += s.count;
    }
  EXPECT_GE(first, 5) << "no samples from the first run\n" << r.out;
  EXPECT_GE(second, 5) << "no samples from the second run\n" << r.out;
  std::remove(path.c_str());
}

TEST(CpuProfile, OnlyOneProfileAtATime) {
  std::ostringstream a, b;
  goro::run([&] {
    goro::start_cpu_profile(a);
    try {
      goro::start_cpu_profile(b);
      ADD_FAILURE() << "a second profile started";
    } catch (const std::logic_error& e) {
      EXPECT_STREQ(e.what(), "cpu profiling already in use");
    }
    goro::stop_cpu_profile();
    goro::stop_cpu_profile();  // nothing runs: does nothing
  });
  EXPECT_FALSE(a.str().empty());
  EXPECT_TRUE(b.str().empty());
}

}  // namespace
