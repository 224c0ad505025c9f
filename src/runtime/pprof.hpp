// pprof.hpp — what the goroutine profile (profile.cpp) and the CPU profile
// (cpuprof.cpp) share: protocol buffers' wire format, written by hand, the
// builder of profile.proto's tables (ProfileBuilder), and the gzip member
// pprof reads (zlib, in profile.cpp).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace goro::rt {

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
enum ProfileField {
  kSampleType = 1,
  kSample = 2,
  kMapping = 3,
  kLocation = 4,
  kFunction = 5,
  kStringTable = 6,
  kTimeNanos = 9,
  kDurationNanos = 10,
  kPeriodType = 11,
  kPeriod = 12
};
enum MappingField {
  kMappingId = 1,
  kMappingStart = 2,
  kMappingLimit = 3,
  kMappingOffset = 4,
  kMappingFilename = 5,
  kMappingHasFunctions = 7,
  kMappingHasFilenames = 8,
  kMappingHasLineNumbers = 9
};
enum SampleField { kSampleLocationId = 1, kSampleValue = 2, kSampleLabel = 3 };
enum LabelField { kLabelKey = 1, kLabelStr = 2, kLabelNum = 3 };
enum LocationField { kLocationId = 1, kLocationMappingId = 2, kLocationAddress = 3, kLocationLine = 4 };
enum LineField { kLineFunctionId = 1, kLineLine = 2 };
enum FunctionField { kFunctionId = 1, kFunctionName = 2, kFunctionSystemName = 3, kFunctionFilename = 4 };
enum ValueTypeField { kValueTypeType = 1, kValueTypeUnit = 2 };

// A profile.proto being written: the string table (entry 0 is ""), the
// process's executable mappings (the main binary first, as pprof expects;
// marked symbolized, so pprof does not look for the binaries), Functions
// deduplicated by (name, file), Locations with one Line each, and samples;
// finish() puts them together in field-number order. The callers
// deduplicate their own locations (by frame or by pc) and label samples.
class ProfileBuilder {
 public:
  ProfileBuilder() { read_mappings(); }

  std::uint64_t intern(const std::string& s) {
    auto [it, added] = string_ids_.try_emplace(s, strings_.size());
    if (added) strings_.push_back(s);
    return it->second;
  }
  // A new Location (ids from 1); address 0 is left out.
  std::uint64_t location(const std::string& function, const std::string& file, std::uint64_t line,
                         std::uint64_t address) {
    auto [fn, fn_added] = function_ids_.try_emplace({function, file}, function_ids_.size() + 1);
    if (fn_added) {
      ProtoWriter w;
      w.uint_field(kFunctionId, fn->second);
      w.uint_field(kFunctionName, intern(function));
      w.uint_field(kFunctionSystemName, intern(function));
      w.uint_field(kFunctionFilename, intern(file));
      functions_.bytes_field(kFunction, w.str());
    }
    const std::uint64_t id = ++locations_count_;
    ProtoWriter ln, w;
    ln.uint_field(kLineFunctionId, fn->second);
    ln.uint_field(kLineLine, line);
    w.uint_field(kLocationId, id);
    if (std::uint64_t m = mapping_of(address)) w.uint_field(kLocationMappingId, m);
    if (address) w.uint_field(kLocationAddress, address);
    w.bytes_field(kLocationLine, ln.str());
    locations_.bytes_field(kLocation, w.str());
    return id;
  }
  // A string label of a sample being written into w.
  void label(ProtoWriter& w, const std::string& key, const std::string& value) {
    ProtoWriter l;
    l.uint_field(kLabelKey, intern(key));
    l.uint_field(kLabelStr, intern(value));
    w.bytes_field(kSampleLabel, l.str());
  }
  void sample(const ProtoWriter& w) { samples_.bytes_field(kSample, w.str()); }
  // ValueType{type, unit}.
  std::string value_type(const char* type, const char* unit) {
    ProtoWriter w;
    w.uint_field(kValueTypeType, intern(type));
    w.uint_field(kValueTypeUnit, intern(unit));
    return w.str();
  }
  // The whole message; duration_ns 0 is left out.
  std::string finish(const std::vector<std::string>& sample_types, std::int64_t time_ns, std::int64_t duration_ns,
                     const std::string& period_type, std::int64_t period) {
    ProtoWriter head, tail;
    for (const std::string& t : sample_types) head.bytes_field(kSampleType, t);
    for (const std::string& s : strings_) tail.bytes_field(kStringTable, s);
    tail.uint_field(kTimeNanos, static_cast<std::uint64_t>(time_ns));
    if (duration_ns) tail.uint_field(kDurationNanos, static_cast<std::uint64_t>(duration_ns));
    tail.bytes_field(kPeriodType, period_type);
    tail.uint_field(kPeriod, static_cast<std::uint64_t>(period));
    return head.str() + samples_.str() + mappings_.str() + locations_.str() + functions_.str() + tail.str();
  }

 private:
  struct Range {
    std::uint64_t start, limit, id;
  };

  // The executable mappings of /proc/self/maps, the main binary's first.
  void read_mappings() {
    std::ifstream maps("/proc/self/maps");
    char exe[4096];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    const std::string self = n > 0 ? std::string(exe, static_cast<std::size_t>(n)) : std::string();
    struct Entry {
      std::uint64_t start, limit, offset;
      std::string file;
    };
    std::vector<Entry> found;
    std::string line;
    while (std::getline(maps, line)) {
      unsigned long long start = 0, limit = 0, offset = 0;
      char perms[8] = {};
      int path_at = 0;
      if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %n", &start, &limit, perms, &offset, &path_at) < 4)
        continue;
      if (perms[2] != 'x' || path_at <= 0 || static_cast<std::size_t>(path_at) >= line.size()) continue;
      std::string file = line.substr(static_cast<std::size_t>(path_at));
      if (file.empty() || file[0] != '/') continue;  // [vdso], anonymous code
      found.push_back({start, limit, offset, std::move(file)});
    }
    std::stable_partition(found.begin(), found.end(), [&](const Entry& e) { return e.file == self; });
    for (const Entry& e : found) {
      const std::uint64_t id = ranges_.size() + 1;
      ranges_.push_back({e.start, e.limit, id});
      ProtoWriter w;
      w.uint_field(kMappingId, id);
      w.uint_field(kMappingStart, e.start);
      w.uint_field(kMappingLimit, e.limit);
      w.uint_field(kMappingOffset, e.offset);
      w.uint_field(kMappingFilename, intern(e.file));
      w.uint_field(kMappingHasFunctions, 1);
      w.uint_field(kMappingHasFilenames, 1);
      w.uint_field(kMappingHasLineNumbers, 1);
      mappings_.bytes_field(kMapping, w.str());
    }
  }
  std::uint64_t mapping_of(std::uint64_t address) const {
    if (address == 0) return 0;
    for (const Range& r : ranges_)
      if (address >= r.start && address < r.limit) return r.id;
    return 0;
  }

  std::vector<std::string> strings_{""};
  std::map<std::string, std::uint64_t, std::less<>> string_ids_{{"", 0}};
  std::map<std::pair<std::string, std::string>, std::uint64_t> function_ids_;
  std::uint64_t locations_count_ = 0;
  std::vector<Range> ranges_;
  ProtoWriter mappings_, functions_, locations_, samples_;
};

// The profile as pprof and Go's net/http/pprof serve it: a gzip member
// (zlib's deflate at its default level) — or, where goro was built without
// zlib, the encoded profile.proto itself, which pprof reads as well.
std::string gzip(std::string_view data);

}  // namespace goro::rt
