// profile.cpp — the goroutine profile (Go's pprof.Lookup("goroutine")) in
// pprof's format, for `go tool pprof`.
//
// Collection: the goroutines are walked as append_dump walks them (dump.cpp),
// and each one's stack comes from the same traceback text, "function\n\t
// file:line\n" per frame, parsed back into frames. Goroutines with the same
// frames are one sample whose value is their count. A goroutine whose
// frames cannot be read (running on another thread, not started yet, or a
// build without libdw) still counts, with an empty stack. As for a dump, the
// world is not stopped: a goroutine woken during the walk is read as it was.
//
// Encoding: profile.proto (github.com/google/pprof/proto/profile.proto),
// through pprof.hpp's ProfileBuilder: every distinct frame is a Location
// with one Line, every distinct (name, file) a Function; names are indices
// into the string table, whose entry 0 is "".
//
// Compression: zlib's gzip (gzip() below), or none in a build without zlib.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(GORO_HAVE_ZLIB)
#include <zlib.h>
#endif

#include "goro/debug.hpp"
#include "runtime/pprof.hpp"
#include "runtime/sched.hpp"
#include "runtime/traceback.hpp"

namespace goro::rt {

namespace {

struct Frame {
  std::string function;
  std::string file;
  std::int64_t line = 0;
  std::uint64_t address = 0;  // unsymbolized frames only ("pc=0x...")
  auto operator<=>(const Frame&) const = default;
};
using Stack = std::vector<Frame>;  // leaf first

// Parses traceback text: a function line, then a tab and "file:line" (or
// "module pc=0x..." when the address has no symbol). Lines that are not such
// pairs (a build without libdw prints a note) are skipped.
Stack parse_stack(std::string_view text) {
  Stack frames;
  std::string_view function;
  bool have_function = false;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line[0] != '\t') {
      function = line;
      have_function = true;
      continue;
    }
    if (!have_function) continue;
    have_function = false;
    line.remove_prefix(1);
    Frame f{std::string(function), {}, 0, 0};
    if (std::size_t pc = line.find("pc="); pc != std::string_view::npos) {
      f.address = std::strtoull(std::string(line.substr(pc + 3)).c_str(), nullptr, 16);
      if (f.address == 0) continue;  // "pc=(nil)": the end of an unwind
      f.file = line.substr(0, pc == 0 ? 0 : pc - 1);
    } else if (std::size_t colon = line.rfind(':'); colon != std::string_view::npos) {
      f.file = line.substr(0, colon);
      f.line = std::atoll(std::string(line.substr(colon + 1)).c_str());
    } else {
      f.file = line;
    }
    frames.push_back(std::move(f));
  }
  return frames;
}

// The caller's own stack: traceback.cpp leaves out the goro::rt frames on
// top of it, this drops the public entry point as well.
void drop_profiler_frames(Stack& s) {
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i].function.rfind("goro::write_goroutine_profile", 0) == 0) {
      s.erase(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      return;
    }
}

// Every live goroutine's stack, counted by distinct stack.
std::map<Stack, std::int64_t> collect_stacks() {
  std::map<Stack, std::int64_t> counts;
  if (!sched.running.load(std::memory_order_acquire)) return counts;
  G* self = current_g();
  std::vector<std::string> texts;
  std::size_t mine = 0;  // texts[mine - 1]: the caller's stack (0: none)
  {
    LockGuard l(sched.allg_lock);
    Traceback tb;  // one symbolization session for every stack
    for (G* g = sched.allg; g; g = g->allnext) {
      GStatus st = g->status.load(std::memory_order_acquire);
      if (st == GStatus::dead || st == GStatus::idle) continue;
      std::string& s = texts.emplace_back();
      if (g == self) {
        tb.current(s);
        mine = texts.size();
      } else if (st == GStatus::waiting || (st == GStatus::runnable && g->started)) {
        tb.parked(s, g);
      }
    }
  }
  for (std::size_t i = 0; i < texts.size(); ++i) {
    Stack s = parse_stack(texts[i]);
    if (i + 1 == mine) drop_profiler_frames(s);
    ++counts[s];
  }
  return counts;
}

std::string encode_profile(const std::map<Stack, std::int64_t>& stacks, std::int64_t time_nanos) {
  ProfileBuilder b;
  std::map<Frame, std::uint64_t> location_ids;
  for (const auto& [stack, count] : stacks) {
    std::vector<std::uint64_t> ids;
    for (const Frame& f : stack) {
      auto [loc, added] = location_ids.try_emplace(f, 0);
      if (added) loc->second = b.location(f.function, f.file, static_cast<std::uint64_t>(f.line), f.address);
      ids.push_back(loc->second);
    }
    ProtoWriter w;
    w.packed_field(kSampleLocationId, ids);
    w.packed_field(kSampleValue, {static_cast<std::uint64_t>(count)});
    b.sample(w);
  }
  const std::string goroutine_count = b.value_type("goroutine", "count");
  return b.finish({goroutine_count}, time_nanos, 0, goroutine_count, 1);
}

}  // namespace

std::string gzip(std::string_view data) {
#if defined(GORO_HAVE_ZLIB)
  z_stream z{};
  // windowBits 15 + 16: a gzip member (RFC 1952) rather than a zlib stream.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    fatal("pprof: zlib's deflateInit2 failed");
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) fatal("pprof: zlib's deflate did not finish");
  return out;
#else
  return std::string(data);
#endif
}

}  // namespace goro::rt

namespace goro {

void write_goroutine_profile(std::ostream& out) {
  auto stacks = rt::collect_stacks();
  auto now = std::chrono::system_clock::now().time_since_epoch();
  std::string gz =
      rt::gzip(rt::encode_profile(stacks, std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()));
  out.write(gz.data(), static_cast<std::streamsize>(gz.size()));
}

}  // namespace goro
