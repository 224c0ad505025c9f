// parse_fuzz.cpp — libFuzzer target for goro::http's parser
// (src/http/parse.hpp), built with clang -fsanitize=fuzzer,address,undefined
// (GORO_FUZZ=ON; scripts/test.sh's fuzz step runs it for a fixed time).
//
// The input's first byte chooses the split points; the rest is a message.
// Checked, beside the sanitizers' memory and UB checks:
//  - find_head_end fed in pieces finds the same end as fed whole;
//  - a head that parses yields fields that lie inside it, a framing that
//    follows from its fields (never both a length and chunked), and a
//    status in {400, 417?, 431, 501, 505} when it does not;
//  - the chunked decoder gives the same data whatever the split of its
//    input and of its output, and never more data than input;
//  - the response head parser never reads outside its input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/parse.hpp"

using namespace goro::http::detail;

namespace {

[[noreturn]] void fail(const char* what) {
  __builtin_trap();
  (void)what;
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_head(std::string_view msg, unsigned step) {
  std::size_t scanned = 0;
  const std::size_t whole = find_head_end(msg, scanned);
  std::size_t scanned2 = 0, pieces = 0;
  for (std::size_t n = step;; n += step) {
    if (n > msg.size()) n = msg.size();
    pieces = find_head_end(msg.substr(0, n), scanned2);
    if (pieces || n == msg.size()) break;
  }
  if (pieces != whole) fail("find_head_end depends on how the input is split");
  if (!whole) return;
  std::string_view head = msg.substr(0, whole);
  request_head h;
  parse_error err;
  if (parse_request_head(head, h, err)) {
    if (!inside(h.method, head) || !inside(h.target, head) || !inside(h.host, head)) fail("view outside the head");
    for (const field& f : h.fields)
      if (!inside(f.name, head) || !inside(f.value, head)) fail("field outside the head");
    if (h.body == body_kind::length && h.content_length <= 0) fail("a length body without a length");
    if (h.major != 1) fail("a version other than 1.x accepted");
    if (h.method.empty() || h.target.empty()) fail("empty method or target");
  } else if (err.status != 400 && err.status != 501 && err.status != 505) {
    fail("an unexpected status");
  }
  response_head rh;
  if (parse_response_head(head, false, rh, err)) {
    for (const field& f : rh.fields)
      if (!inside(f.name, head) || !inside(f.value, head)) fail("response field outside the head");
    if (rh.status < 100 || rh.status > 999) fail("status out of range");
  }
}

// Decodes in with pieces of `piece` bytes and reads of `out` bytes.
std::string dechunk(std::string_view in, std::size_t piece, std::size_t out, int* result) {
  chunked_decoder d(1024);
  std::string data, pending;
  std::size_t pos = 0;
  *result = 0;  // 0: need more at the end, 1: done, 2: error
  for (;;) {
    if (pos < in.size()) {
      std::size_t n = std::min(piece, in.size() - pos);
      pending.append(in.substr(pos, n));
      pos += n;
    }
    bool progressed = false;
    for (;;) {
      std::size_t used = 0;
      std::string_view got;
      auto st = d.decode(pending, out, &used, &got);
      if (used > pending.size()) fail("consumed more than offered");
      if (st == chunked_decoder::status::data) {
        if (!inside(got, pending) || got.size() > out || got.empty()) fail("bad data view");
        data.append(got);
      }
      if (used) progressed = true;
      pending.erase(0, used);
      if (st == chunked_decoder::status::error) {
        *result = 2;
        return data;
      }
      if (st == chunked_decoder::status::done) {
        *result = 1;
        return data;
      }
      if (st == chunked_decoder::status::need_more) break;
    }
    if (pos >= in.size() && (!progressed || pending.empty())) return data;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const unsigned step = 1 + data[0] % 17;
  std::string_view msg(reinterpret_cast<const char*>(data + 1), size - 1);
  check_head(msg, step);

  int r1 = 0, r2 = 0;
  std::string a = dechunk(msg, msg.size() + 1, 1 << 20, &r1);
  std::string b = dechunk(msg, step, 1 + data[0] % 5, &r2);
  if (r1 != r2 || a != b) fail("the chunked decoder depends on how the input is split");
  if (a.size() > msg.size()) fail("more data than input");
  return 0;
}
