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
// written by hand with a small varint / length-delimited writer. Every
// distinct frame is a Location with one Line, every distinct (name, file)
// a Function; names are indices into the string table, whose entry 0 is "".
//
// Compression: pprof reads gzip, and the core library links no zlib, so the
// gzip member carries a deflate stream of "stored" (uncompressed) blocks, at
// most 65535 bytes each, followed by the CRC-32 and the length of the data.
// That is valid gzip; the profile is only as large as its text.
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

#include "goro/debug.hpp"
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

// Protocol buffers' wire format: varints and length-delimited fields.
class ProtoWriter {
 public:
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      buf_ += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    buf_ += static_cast<char>(v);
  }
  void uint_field(int field, std::uint64_t v) {
    varint(static_cast<std::uint64_t>(field) << 3 | 0);  // wire type 0: varint
    varint(v);
  }
  void bytes_field(int field, std::string_view b) {
    varint(static_cast<std::uint64_t>(field) << 3 | 2);  // wire type 2: length-delimited
    varint(b.size());
    buf_ += b;
  }
  void packed_field(int field, const std::vector<std::uint64_t>& vs) {
    ProtoWriter inner;
    for (std::uint64_t v : vs) inner.varint(v);
    bytes_field(field, inner.str());
  }
  const std::string& str() const { return buf_; }

 private:
  std::string buf_;
};

// profile.proto's field numbers.
enum ProfileField { kSampleType = 1, kSample = 2, kLocation = 4, kFunction = 5, kStringTable = 6,
                    kTimeNanos = 9, kPeriodType = 11, kPeriod = 12 };
enum SampleField { kSampleLocationId = 1, kSampleValue = 2 };
enum LocationField { kLocationId = 1, kLocationAddress = 3, kLocationLine = 4 };
enum LineField { kLineFunctionId = 1, kLineLine = 2 };
enum FunctionField { kFunctionId = 1, kFunctionName = 2, kFunctionSystemName = 3, kFunctionFilename = 4 };
enum ValueTypeField { kValueTypeType = 1, kValueTypeUnit = 2 };

std::string encode_profile(const std::map<Stack, std::int64_t>& stacks, std::int64_t time_nanos) {
  std::vector<std::string> strings{""};
  std::map<std::string, std::uint64_t, std::less<>> string_ids{{"", 0}};
  auto intern = [&](const std::string& s) {
    auto [it, added] = string_ids.try_emplace(s, strings.size());
    if (added) strings.push_back(s);
    return it->second;
  };
  ProtoWriter functions, locations, samples;
  std::map<std::pair<std::string, std::string>, std::uint64_t> function_ids;
  std::map<Frame, std::uint64_t> location_ids;
  auto location_of = [&](const Frame& f) {
    auto [loc, added] = location_ids.try_emplace(f, location_ids.size() + 1);
    if (!added) return loc->second;
    auto [fn, fn_added] = function_ids.try_emplace({f.function, f.file}, function_ids.size() + 1);
    if (fn_added) {
      ProtoWriter w;
      w.uint_field(kFunctionId, fn->second);
      w.uint_field(kFunctionName, intern(f.function));
      w.uint_field(kFunctionSystemName, intern(f.function));
      w.uint_field(kFunctionFilename, intern(f.file));
      functions.bytes_field(kFunction, w.str());
    }
    ProtoWriter line, w;
    line.uint_field(kLineFunctionId, fn->second);
    line.uint_field(kLineLine, static_cast<std::uint64_t>(f.line));
    w.uint_field(kLocationId, loc->second);
    if (f.address) w.uint_field(kLocationAddress, f.address);
    w.bytes_field(kLocationLine, line.str());
    locations.bytes_field(kLocation, w.str());
    return loc->second;
  };
  for (const auto& [stack, count] : stacks) {
    std::vector<std::uint64_t> ids;
    for (const Frame& f : stack) ids.push_back(location_of(f));
    ProtoWriter w;
    w.packed_field(kSampleLocationId, ids);
    w.packed_field(kSampleValue, {static_cast<std::uint64_t>(count)});
    samples.bytes_field(kSample, w.str());
  }
  ProtoWriter goroutine_count;  // ValueType{type: "goroutine", unit: "count"}
  goroutine_count.uint_field(kValueTypeType, intern("goroutine"));
  goroutine_count.uint_field(kValueTypeUnit, intern("count"));

  // The fields in field-number order (protobuf accepts any order).
  ProtoWriter head, tail;
  head.bytes_field(kSampleType, goroutine_count.str());
  for (const std::string& s : strings) tail.bytes_field(kStringTable, s);
  tail.uint_field(kTimeNanos, static_cast<std::uint64_t>(time_nanos));
  tail.bytes_field(kPeriodType, goroutine_count.str());
  tail.uint_field(kPeriod, 1);
  return head.str() + samples.str() + locations.str() + functions.str() + tail.str();
}

std::uint32_t crc32(std::string_view data) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void put_le(std::string& out, std::uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>(v >> (8 * i) & 0xff);
}

// A gzip member (RFC 1952) around a deflate stream of stored blocks (RFC 1951 3.2.4).
std::string gzip_stored(std::string_view data) {
  constexpr std::size_t kMaxBlock = 65535;
  // ID1 ID2, CM=8 (deflate), FLG=0, MTIME=0, XFL=0, OS=255 (unknown).
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  std::size_t at = 0;
  do {
    std::size_t n = std::min(kMaxBlock, data.size() - at);
    bool last = at + n == data.size();
    out += static_cast<char>(last ? 1 : 0);  // BFINAL, BTYPE=00; the rest of the byte pads
    put_le(out, static_cast<std::uint32_t>(n), 2);
    put_le(out, static_cast<std::uint32_t>(~n & 0xffff), 2);
    out += data.substr(at, n);
    at += n;
  } while (at < data.size());
  put_le(out, crc32(data), 4);
  put_le(out, static_cast<std::uint32_t>(data.size()), 4);  // ISIZE: the size mod 2^32
  return out;
}

}  // namespace

}  // namespace goro::rt

namespace goro {

void write_goroutine_profile(std::ostream& out) {
  auto stacks = rt::collect_stacks();
  auto now = std::chrono::system_clock::now().time_since_epoch();
  std::string gz = rt::gzip_stored(rt::encode_profile(stacks, std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()));
  out.write(gz.data(), static_cast<std::streamsize>(gz.size()));
}

}  // namespace goro
