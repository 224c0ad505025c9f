// profile_test.cpp — goro::write_goroutine_profile (Go's goroutine profile for
// `go tool pprof`). The test decodes what it writes on its own: the gzip
// member (zlib's inflate), then profile.proto with a
// minimal protobuf walker, and checks the samples against the goroutines it
// parked. Function names are checked only when the library symbolizes
// (libdw), as in dump_test.cpp.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#if defined(GORO_HAVE_ZLIB)
#include <zlib.h>
#endif

#include "child_process.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

// --- gzip -------------------------------------------------------------------

// The profile.proto inside what the library wrote: a gzip member (zlib's
// inflate checks its CRC-32 and length) when goro was built with zlib, the
// bare encoding otherwise.
void gunzip(std::string_view gz, std::string* data) {
#if defined(GORO_HAVE_ZLIB)
  ASSERT_GE(gz.size(), 18u);
  ASSERT_EQ(static_cast<unsigned char>(gz[0]), 0x1f) << "not gzip";
  ASSERT_EQ(static_cast<unsigned char>(gz[1]), 0x8b) << "not gzip";
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);  // gzip only
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  char buf[16384];
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    data->append(buf, sizeof buf - z.avail_out);
  } while (rc == Z_OK);
  std::size_t left = z.avail_in;
  inflateEnd(&z);
  ASSERT_EQ(rc, Z_STREAM_END) << "a bad gzip member (CRC-32 or length wrong, or truncated)";
  EXPECT_EQ(left, 0u) << "trailing bytes after the member";
  if (data->size() > 1024) {
    EXPECT_LT(gz.size(), data->size()) << "the profile was not compressed";
  }
#else
  ASSERT_TRUE(gz.empty() || static_cast<unsigned char>(gz[0]) != 0x1f);
  data->assign(gz);
#endif
}

// --- protobuf ----------------------------------------------------------------

struct Field {
  int number = 0;
  int wire = 0;
  std::uint64_t value = 0;  // wire type 0
  std::string_view bytes;   // wire type 2
};

bool read_varint(std::string_view& s, std::uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !s.empty(); shift += 7) {
    auto b = static_cast<unsigned char>(s[0]);
    s.remove_prefix(1);
    *v |= std::uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

void parse_fields(std::string_view s, std::vector<Field>* out) {
  while (!s.empty()) {
    std::uint64_t key;
    ASSERT_TRUE(read_varint(s, &key));
    Field f;
    f.number = static_cast<int>(key >> 3);
    f.wire = static_cast<int>(key & 7);
    if (f.wire == 0) {
      ASSERT_TRUE(read_varint(s, &f.value));
    } else {
      ASSERT_EQ(f.wire, 2) << "field " << f.number;
      std::uint64_t n;
      ASSERT_TRUE(read_varint(s, &n));
      ASSERT_LE(n, s.size());
      f.bytes = s.substr(0, n);
      s.remove_prefix(n);
    }
    out->push_back(f);
  }
}

// A repeated integer field, packed or not.
void append_ints(const Field& f, std::vector<std::uint64_t>* out) {
  if (f.wire == 0) return out->push_back(f.value);
  std::string_view s = f.bytes;
  std::uint64_t v;
  while (!s.empty()) {
    ASSERT_TRUE(read_varint(s, &v));
    out->push_back(v);
  }
}

struct Profile {
  std::vector<std::string> strings;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> sample_types;  // (type, unit)
  std::pair<std::uint64_t, std::uint64_t> period_type{};
  std::uint64_t period = 0, time_nanos = 0;
  struct Sample {
    std::vector<std::uint64_t> locations, values;
  };
  std::vector<Sample> samples;
  std::map<std::uint64_t, std::vector<std::uint64_t>> location_functions;  // location id -> function ids
  std::map<std::uint64_t, std::uint64_t> function_names;                   // function id -> string index

  std::string str(std::uint64_t i) const { return i < strings.size() ? strings[i] : "<bad string index>"; }
  std::int64_t total() const {
    std::int64_t n = 0;
    for (const Sample& s : samples) n += s.values.empty() ? 0 : static_cast<std::int64_t>(s.values[0]);
    return n;
  }
  std::vector<std::string> functions(const Sample& s) const {
    std::vector<std::string> names;
    for (std::uint64_t loc : s.locations) {
      auto l = location_functions.find(loc);
      if (l == location_functions.end()) continue;
      for (std::uint64_t fn : l->second) {
        auto f = function_names.find(fn);
        if (f != function_names.end()) names.push_back(str(f->second));
      }
    }
    return names;
  }
};

void parse_value_type(std::string_view s, std::pair<std::uint64_t, std::uint64_t>* vt) {
  std::vector<Field> fs;
  ASSERT_NO_FATAL_FAILURE(parse_fields(s, &fs));
  for (const Field& f : fs) {
    if (f.number == 1) vt->first = f.value;
    if (f.number == 2) vt->second = f.value;
  }
}

void parse_profile(std::string_view s, Profile* p) {
  std::vector<Field> fs;
  ASSERT_NO_FATAL_FAILURE(parse_fields(s, &fs));
  for (const Field& f : fs) {
    std::vector<Field> sub;
    switch (f.number) {
      case 1:  // sample_type
        ASSERT_NO_FATAL_FAILURE(parse_value_type(f.bytes, &p->sample_types.emplace_back()));
        break;
      case 2: {  // sample
        ASSERT_NO_FATAL_FAILURE(parse_fields(f.bytes, &sub));
        Profile::Sample& smp = p->samples.emplace_back();
        for (const Field& g : sub) {
          if (g.number == 1) {
            ASSERT_NO_FATAL_FAILURE(append_ints(g, &smp.locations));
          } else if (g.number == 2) {
            ASSERT_NO_FATAL_FAILURE(append_ints(g, &smp.values));
          }
        }
        break;
      }
      case 4: {  // location
        ASSERT_NO_FATAL_FAILURE(parse_fields(f.bytes, &sub));
        std::uint64_t id = 0;
        std::vector<std::uint64_t> fns;
        for (const Field& g : sub) {
          if (g.number == 1) id = g.value;
          if (g.number != 4) continue;
          std::vector<Field> line;
          ASSERT_NO_FATAL_FAILURE(parse_fields(g.bytes, &line));
          for (const Field& h : line)
            if (h.number == 1) fns.push_back(h.value);
        }
        ASSERT_NE(id, 0u);
        EXPECT_TRUE(p->location_functions.emplace(id, fns).second) << "location " << id << " twice";
        break;
      }
      case 5: {  // function
        ASSERT_NO_FATAL_FAILURE(parse_fields(f.bytes, &sub));
        std::uint64_t id = 0, name = 0;
        for (const Field& g : sub) {
          if (g.number == 1) id = g.value;
          if (g.number == 2) name = g.value;
        }
        ASSERT_NE(id, 0u);
        EXPECT_TRUE(p->function_names.emplace(id, name).second) << "function " << id << " twice";
        break;
      }
      case 6: p->strings.emplace_back(f.bytes); break;
      case 9: p->time_nanos = f.value; break;
      case 11: ASSERT_NO_FATAL_FAILURE(parse_value_type(f.bytes, &p->period_type)); break;
      case 12: p->period = f.value; break;
      default: break;
    }
  }
}

// Decodes a written profile and checks what every goroutine profile has.
void decode(const std::string& written, Profile* p) {
  std::string data;
  ASSERT_NO_FATAL_FAILURE(gunzip(written, &data));
  ASSERT_NO_FATAL_FAILURE(parse_profile(data, p));
  ASSERT_FALSE(p->strings.empty());
  EXPECT_EQ(p->strings[0], "");
  ASSERT_EQ(p->sample_types.size(), 1u);
  EXPECT_EQ(p->str(p->sample_types[0].first), "goroutine");
  EXPECT_EQ(p->str(p->sample_types[0].second), "count");
  EXPECT_EQ(p->str(p->period_type.first), "goroutine");
  EXPECT_EQ(p->str(p->period_type.second), "count");
  EXPECT_EQ(p->period, 1u);
  EXPECT_GT(p->time_nanos, 0u);
  for (const Profile::Sample& s : p->samples) {
    EXPECT_EQ(s.values.size(), 1u);
    for (std::uint64_t loc : s.locations) EXPECT_TRUE(p->location_functions.count(loc)) << "location " << loc;
  }
  for (const auto& [loc, fns] : p->location_functions)
    for (std::uint64_t fn : fns) EXPECT_TRUE(p->function_names.count(fn)) << "function " << fn;
  for (const auto& [fn, name] : p->function_names) EXPECT_LT(name, p->strings.size());
}

std::string write_profile() {
  std::ostringstream os;
  goro::write_goroutine_profile(os);
  return os.str();
}

// --- the goroutines profiled ---------------------------------------------------

// Not inlined, and not tail calls (the empty asm follows the call), so that
// each stays a frame of the goroutines parked in it.
[[gnu::noinline]] void park_in_channel_receive(const goro::chan<int>& ch) {
  ch.recv();
  asm volatile("");
}

[[gnu::noinline]] void park_in_wait_group_wait(goro::wait_group& wg) {
  wg.wait();
  asm volatile("");
}

const int kOnChannel = goro_test::scaled(100, 20);
const int kOnWaitGroup = goro_test::scaled(50, 10);

// True when some sample of value kOnChannel has park_in_channel_receive.
bool has_channel_sample(const Profile& p) {
  for (const Profile::Sample& s : p.samples) {
    if (s.values.empty() || s.values[0] != static_cast<std::uint64_t>(kOnChannel)) continue;
    for (const std::string& fn : p.functions(s))
      if (fn.find("park_in_channel_receive") != std::string::npos) return true;
  }
  return false;
}

// Whether the profile names functions (a library built with libdw).
bool symbolized(const Profile& p) {
  for (const auto& [fn, name] : p.function_names) {
    std::string s = p.str(name);
    if (!s.empty() && s != "?") return true;
  }
  return false;
}

struct Result {
  std::string written;
  int goroutines = 0;  // num_goroutine() right before the profile
};

// Parks kOnChannel goroutines on a channel receive and kOnWaitGroup on a
// wait_group, waits until a dump shows them all parked, profiles them once,
// then releases them all. (Nothing of GoogleTest's is called on the
// goroutines: it keeps per-thread state, which ThreadSanitizer would then see
// freed by the thread, unordered with the goroutine's fiber that made it.)
Result profile_parked() {
  Result r;
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    goro::wait_group release, finished;
    release.add(1);
    finished.add(kOnChannel + kOnWaitGroup);
    for (int i = 0; i < kOnChannel; ++i)
      goro::go([ch, &finished] {
        park_in_channel_receive(ch);
        finished.done();
      });
    for (int i = 0; i < kOnWaitGroup; ++i)
      goro::go([&] {
        park_in_wait_group_wait(release);
        finished.done();
      });
    goro_test::bailout limit;
    for (;;) {
      std::ostringstream d;
      goro::dump_goroutines(d);
      const std::string text = d.str();
      if ((goro_tools::count_headers(text, "chan receive") >= static_cast<std::size_t>(kOnChannel) &&
           goro_tools::count_headers(text, "sync.WaitGroup.Wait") >= static_cast<std::size_t>(kOnWaitGroup)) ||
          limit.expired())
        break;
      goro::sleep(1ms);
    }
    r.goroutines = goro::num_goroutine();
    r.written = write_profile();
    ch.close();
    release.done();
    finished.wait();
  });
  return r;
}

TEST(ProfileTest, CountsEveryGoroutine) {
  Result r = profile_parked();
  Profile p;
  ASSERT_NO_FATAL_FAILURE(decode(r.written, &p));
  EXPECT_EQ(r.goroutines, kOnChannel + kOnWaitGroup + 1);
  EXPECT_EQ(p.total(), r.goroutines);  // main included
}

TEST(ProfileTest, GroupsGoroutinesByStack) {
  Result r = profile_parked();
  Profile p;
  ASSERT_NO_FATAL_FAILURE(decode(r.written, &p));
  EXPECT_EQ(p.total(), r.goroutines);
  if (!symbolized(p)) GTEST_SKIP() << "goro was built without libdw: the profile names no functions";
  std::ostringstream samples;
  for (const Profile::Sample& s : p.samples) {
    samples << (s.values.empty() ? 0 : s.values[0]) << ":";
    for (const std::string& fn : p.functions(s)) samples << " " << fn << ";";
    samples << "\n";
  }
  EXPECT_TRUE(has_channel_sample(p)) << samples.str();
  bool wait_group = false;
  for (const Profile::Sample& s : p.samples)
    for (const std::string& fn : p.functions(s))
      wait_group |= s.values[0] == static_cast<std::uint64_t>(kOnWaitGroup) &&
                    fn.find("park_in_wait_group_wait") != std::string::npos;
  EXPECT_TRUE(wait_group) << samples.str();
  // The caller's own stack starts below the profiler.
  EXPECT_EQ(samples.str().find("write_goroutine_profile"), std::string::npos) << samples.str();
}

TEST(ProfileTest, EmptyWithoutARuntime) {
  Profile p;
  ASSERT_NO_FATAL_FAILURE(decode(write_profile(), &p));
  EXPECT_TRUE(p.samples.empty());
}

TEST(ProfileTest, FromAPlainThread) {
  std::string written;
  int goroutines = 0;
  goro::run([&] {
    goroutines = goro::num_goroutine();
    auto ch = goro::make_chan<int>();
    std::thread t([ch, &written] {
      written = write_profile();
      ch.send(1);
    });
    ch.recv();
    t.join();
  });
  Profile p;
  ASSERT_NO_FATAL_FAILURE(decode(written, &p));
  EXPECT_EQ(p.total(), goroutines);
}

}  // namespace
