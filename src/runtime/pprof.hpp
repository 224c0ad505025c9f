// pprof.hpp — what the goroutine profile (profile.cpp) and the CPU profile
// (cpuprof.cpp) share: protocol buffers' wire format, written by hand, the
// builder of profile.proto's tables (ProfileBuilder), and the gzip member
// pprof reads (zlib, in profile.cpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
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
enum ProfileField { kSampleType = 1, kSample = 2, kLocation = 4, kFunction = 5, kStringTable = 6,
                    kTimeNanos = 9, kDurationNanos = 10, kPeriodType = 11, kPeriod = 12 };
enum SampleField { kSampleLocationId = 1, kSampleValue = 2, kSampleLabel = 3 };
enum LabelField { kLabelKey = 1, kLabelStr = 2, kLabelNum = 3 };
enum LocationField { kLocationId = 1, kLocationAddress = 3, kLocationLine = 4 };
enum LineField { kLineFunctionId = 1, kLineLine = 2 };
enum FunctionField { kFunctionId = 1, kFunctionName = 2, kFunctionSystemName = 3, kFunctionFilename = 4 };
enum ValueTypeField { kValueTypeType = 1, kValueTypeUnit = 2 };

// A profile.proto being written: the string table (entry 0 is ""),
// Functions deduplicated by (name, file), Locations with one Line each, and
// samples; finish() puts them together in field-number order. The callers
// deduplicate their own locations (by frame or by pc) and label samples.
class ProfileBuilder {
 public:
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
    return head.str() + samples_.str() + locations_.str() + functions_.str() + tail.str();
  }

 private:
  std::vector<std::string> strings_{""};
  std::map<std::string, std::uint64_t, std::less<>> string_ids_{{"", 0}};
  std::map<std::pair<std::string, std::string>, std::uint64_t> function_ids_;
  std::uint64_t locations_count_ = 0;
  ProtoWriter functions_, locations_, samples_;
};

// The profile as pprof and Go's net/http/pprof serve it: a gzip member
// (zlib's deflate at its default level) — or, where goro was built without
// zlib, the encoded profile.proto itself, which pprof reads as well.
std::string gzip(std::string_view data);

}  // namespace goro::rt
