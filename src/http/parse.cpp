// src/http/parse.cpp — see parse.hpp.
#include "http/parse.hpp"

#include <cstring>

namespace goro::http::detail {

bool ascii_iequal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

namespace {

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(token) for each element of a comma-separated list, trimmed, empty
// elements skipped (RFC 9110 §5.6.1).
template <class F>
void for_each_list_element(std::string_view v, F&& f) {
  while (!v.empty()) {
    std::size_t comma = v.find(',');
    std::string_view elem = trim_ows(v.substr(0, comma));
    if (!elem.empty()) f(elem);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
}

// A byte class: letters, digits, the bytes of `extra`, and bytes >= 0x80 if high.
struct char_table {
  bool v[256] = {};
};
constexpr char_table make_char_table(std::string_view extra, bool high) {
  char_table t;
  for (int c = '0'; c <= '9'; ++c) t.v[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t.v[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t.v[c] = true;
  for (char c : extra) t.v[static_cast<unsigned char>(c)] = true;
  for (int c = 0x80; high && c <= 0xff; ++c) t.v[c] = true;
  return t;
}
constexpr char_table token_table = make_char_table("!#$%&'*+-.^_`|~", false);
// httpguts.ValidHostHeader's set: permissive, it is not a URL parser.
constexpr char_table host_table = make_char_table("!$%&'()*+,-.:;=[]_~", true);

// The lines of a measured head, each without its CRLF or LF.
class line_reader {
 public:
  explicit line_reader(std::string_view head) noexcept : head_(head) {}
  // The next line, false after the last; *bare_cr: a CR is left in it.
  bool next(std::string_view& line, bool* bare_cr) noexcept {
    if (pos_ >= head_.size()) return false;
    std::size_t nl = head_.find('\n', pos_);
    if (nl == std::string_view::npos) nl = head_.size();  // cannot happen for a measured head
    std::size_t end = nl;
    if (end > pos_ && head_[end - 1] == '\r') --end;
    line = head_.substr(pos_, end - pos_);
    *bare_cr = line.find('\r') != std::string_view::npos;
    pos_ = nl + 1;
    return true;
  }

 private:
  std::string_view head_;
  std::size_t pos_ = 0;
};

bool parse_version(std::string_view v, int& major, int& minor) noexcept {
  // Go's ParseHTTPVersion: exactly "HTTP/d.d".
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.') return false;
  if (v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') return false;
  major = v[5] - '0';
  minor = v[7] - '0';
  return true;
}

bool valid_target(std::string_view method, std::string_view t) noexcept {
  if (t.empty()) return false;
  for (unsigned char c : t)
    if (c <= 0x20 || c == 0x7f) return false;
  if (t[0] == '/') return true;
  if (t == "*") return true;
  if (method == "CONNECT") return true;  // authority-form: host:port
  // absolute-form: scheme "://"
  std::size_t colon = t.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    char c = t[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool is_token_char(unsigned char c) noexcept { return token_table.v[c]; }

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!token_table.v[c]) return false;
  return true;
}

bool is_field_value_char(unsigned char c) noexcept { return c == '\t' || (c >= 0x20 && c != 0x7f); }

namespace {
// "name: value" with Go's checks (textproto, httpguts); nullptr or why not.
const char* parse_field_line(std::string_view line, field& f) noexcept {
  if (line[0] == ' ' || line[0] == '\t') return "malformed MIME header: obsolete line folding";
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return "malformed MIME header line";
  f.name = line.substr(0, colon);
  if (!is_token(f.name)) return "malformed MIME header line";
  f.value = trim_ows(line.substr(colon + 1));
  for (unsigned char c : f.value)
    if (!is_field_value_char(c)) return "invalid header field value";
  return nullptr;
}

}  // namespace

bool list_has_token(std::string_view list, std::string_view token) noexcept {
  bool found = false;
  for_each_list_element(list, [&](std::string_view e) { found = found || ascii_iequal(e, token); });
  return found;
}

bool valid_host_header(std::string_view h) noexcept {
  for (unsigned char c : h)
    if (!host_table.v[c]) return false;
  return true;
}

std::int64_t parse_content_length(std::string_view s) noexcept {
  if (s.empty() || s.size() > 19) return -1;
  std::int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    int d = c - '0';
    if (n > (INT64_MAX - d) / 10) return -1;
    n = n * 10 + d;
  }
  return n;
}

std::size_t find_head_end(std::string_view buf, std::size_t& scanned) noexcept {
  const char* base = buf.data();
  std::size_t i = scanned;
  while (i < buf.size()) {
    const void* p = std::memchr(base + i, '\n', buf.size() - i);
    if (p == nullptr) {
      scanned = buf.size();
      return 0;
    }
    i = static_cast<std::size_t>(static_cast<const char*>(p) - base);
    // A line ends at i; the head ends if the next line is empty.
    if (i + 1 >= buf.size()) break;
    if (buf[i + 1] == '\n') return i + 2;
    if (buf[i + 1] == '\r') {
      if (i + 2 >= buf.size()) break;
      if (buf[i + 2] == '\n') return i + 3;
    }
    ++i;
  }
  scanned = i < buf.size() ? i : buf.size();
  return 0;
}

namespace {

bool fail(parse_error& err, int status, std::string_view reason) noexcept {
  err.status = status;
  err.reason = reason;
  return false;
}

// Request line: method SP target SP version, single spaces (Go cuts at the
// first two spaces; anything else fails one of the checks below).
bool parse_request_line(std::string_view line, request_head& out, parse_error& err) {
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return fail(err, 400, "malformed HTTP request");
  std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return fail(err, 400, "malformed HTTP request");
  out.method = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  out.version = line.substr(sp2 + 1);
  if (!parse_version(out.version, out.major, out.minor)) return fail(err, 400, "malformed HTTP version");
  if (!is_token(out.method)) return fail(err, 400, "invalid method");
  if (!valid_target(out.method, out.target)) return fail(err, 400, "malformed request URI");
  return true;
}

// What the fields say about the host, the body's framing and persistence,
// gathered while they are read and judged once the head has ended.
struct request_fields {
  int host_count = 0;
  int te_count = 0;
  std::string_view te_value;
  bool have_cl = false;
  std::string_view cl_value;
  bool conn_close = false, conn_keep_alive = false;
  std::string_view expect;

  bool note(const field& f, request_head& out, parse_error& err) {
    const std::string_view name = f.name, value = f.value;
    switch (name.size()) {
      case 4:
        if (ascii_iequal(name, "host")) {
          ++host_count;
          out.host = value;
        }
        break;
      case 6:
        if (ascii_iequal(name, "expect")) expect = value;
        break;
      case 10:
        if (ascii_iequal(name, "connection")) {
          for_each_list_element(value, [&](std::string_view t) {
            if (ascii_iequal(t, "close")) conn_close = true;
            else if (ascii_iequal(t, "keep-alive")) conn_keep_alive = true;
          });
        }
        break;
      case 14:
        if (ascii_iequal(name, "content-length")) {
          // Go's fixLength: repeated Content-Length fields must agree.
          if (have_cl && value != cl_value)
            return fail(err, 400, "http: message cannot contain multiple Content-Length headers");
          have_cl = true;
          cl_value = value;
        }
        break;
      case 17:
        if (ascii_iequal(name, "transfer-encoding")) {
          ++te_count;
          te_value = value;
        }
        break;
      default: break;
    }
    return true;
  }

  bool judge(request_head& out, parse_error& err) const {
    if (out.major != 1) return fail(err, 505, "HTTP Version Not Supported");

    // Host (RFC 9112 §3.2: exactly one in HTTP/1.1).
    if (host_count > 1) return fail(err, 400, "too many Host headers");
    if (host_count == 0 && out.minor >= 1) return fail(err, 400, "missing required Host header");
    if (!valid_host_header(out.host)) return fail(err, 400, "malformed Host header");

    // Body framing (RFC 9112 §6.1, §6.3; Go's transferReader).
    if (te_count > 0) {
      if (have_cl) return fail(err, 400, "http: Transfer-Encoding and Content-Length in one request");
      if (te_count > 1 || !ascii_iequal(te_value, "chunked")) return fail(err, 501, "Unsupported transfer encoding");
      out.body = body_kind::chunked;
      out.content_length = -1;
    } else if (have_cl) {
      std::int64_t n = parse_content_length(cl_value);
      if (n < 0) return fail(err, 400, "bad Content-Length");
      out.content_length = n;
      out.body = n > 0 ? body_kind::length : body_kind::none;
    }

    // Persistence (RFC 9112 §9.3).
    if (out.minor == 0) out.close = !conn_keep_alive || conn_close;
    else out.close = conn_close;

    if (!expect.empty()) {
      if (ascii_iequal(expect, "100-continue")) out.expect_continue = out.minor >= 1;
      else out.expect_other = true;
    }
    return true;
  }
};

}  // namespace

bool parse_request_head(std::string_view head, request_head& out, parse_error& err) {
  out.clear();
  line_reader lines(head);
  std::string_view line;
  bool bare_cr = false;
  if (!lines.next(line, &bare_cr) || line.empty()) return fail(err, 400, "malformed HTTP request");
  if (bare_cr) return fail(err, 400, "malformed HTTP request");
  if (!parse_request_line(line, out, err)) return false;
  request_fields rf;
  while (lines.next(line, &bare_cr)) {
    if (line.empty()) break;  // the end of the head
    if (bare_cr) return fail(err, 400, "malformed MIME header line");
    field f;
    if (const char* why = parse_field_line(line, f)) return fail(err, 400, why);
    out.fields.push_back(f);
    if (!rf.note(f, out, err)) return false;
  }
  return rf.judge(out, err);
}

bool parse_response_head(std::string_view head, bool head_request, response_head& out, parse_error& err) {
  out.clear();
  auto bad = [&err](std::string_view reason) {
    err.status = 0;
    err.reason = reason;
    return false;
  };
  line_reader lines(head);
  std::string_view line;
  bool bare_cr = false;
  if (!lines.next(line, &bare_cr)) return bad("malformed HTTP response");
  // "HTTP/1.1 200 OK" (the reason may be empty, and so may its space).
  std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return bad("malformed HTTP response");
  out.version = line.substr(0, sp);
  if (!parse_version(out.version, out.major, out.minor) || out.major != 1) return bad("malformed HTTP version");
  std::string_view rest = line.substr(sp + 1);
  if (rest.size() < 3 || rest[0] < '1' || rest[0] > '9' || rest[1] < '0' || rest[1] > '9' || rest[2] < '0' ||
      rest[2] > '9' || (rest.size() > 3 && rest[3] != ' '))
    return bad("malformed HTTP status code");
  out.status = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
  out.reason = rest.size() > 4 ? rest.substr(4) : std::string_view();
  if (bare_cr) return bad("malformed HTTP response");

  int te_count = 0;
  std::string_view te_value;
  bool have_cl = false;
  std::string_view cl_value;
  bool conn_close = false, conn_keep_alive = false;
  while (lines.next(line, &bare_cr)) {
    if (line.empty()) break;
    field f;
    if (const char* why = parse_field_line(line, f)) return bad(why);
    out.fields.push_back(f);
    const std::string_view name = f.name, value = f.value;
    if (ascii_iequal(name, "content-length")) {
      if (have_cl && value != cl_value) return bad("http: message cannot contain multiple Content-Length headers");
      have_cl = true;
      cl_value = value;
    } else if (ascii_iequal(name, "transfer-encoding")) {
      ++te_count;
      te_value = value;
    } else if (ascii_iequal(name, "connection")) {
      for_each_list_element(value, [&](std::string_view t) {
        if (ascii_iequal(t, "close")) conn_close = true;
        else if (ascii_iequal(t, "keep-alive")) conn_keep_alive = true;
      });
    }
  }
  out.close = out.minor == 0 ? (!conn_keep_alive || conn_close) : conn_close;
  if (have_cl) {
    out.content_length = parse_content_length(cl_value);
    if (out.content_length < 0) return bad("bad Content-Length");
  }
  if (head_request || (out.status >= 100 && out.status < 200) || out.status == 204 || out.status == 304) {
    out.body = body_kind::none;
    return true;
  }
  if (te_count > 0) {
    if (te_count > 1 || !ascii_iequal(te_value, "chunked")) return bad("unsupported transfer encoding");
    out.body = body_kind::chunked;
    out.content_length = -1;
    return true;
  }
  if (have_cl) {
    out.body = out.content_length == 0 ? body_kind::none : body_kind::length;
    return true;
  }
  out.body = body_kind::until_close;
  out.close = true;
  return true;
}

// ---------------------------------------------------------------------------
// chunked_decoder

// One byte of a chunk-size line: hex digits, optional whitespace, an
// ignored extension, CRLF. False if malformed (reject() has said why).
bool chunked_decoder::size_line_byte(unsigned char c) noexcept {
  const st after_line = remaining_ == 0 ? st::trailer : st::data;
  switch (state_) {
    case st::size: {
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d >= 0) {
        if (digits_ == 16 || remaining_ > (static_cast<std::uint64_t>(INT64_MAX) >> 4))
          return reject("http chunk length too large");
        remaining_ = remaining_ << 4 | static_cast<unsigned>(d);
        ++digits_;
        return true;
      }
      if (digits_ == 0) return reject("empty hex number for chunk length");
      if (c == ' ' || c == '\t') state_ = st::size_ws;
      else if (c == ';') state_ = st::ext;
      else if (c == '\r') state_ = st::size_lf;
      else if (c == '\n') state_ = after_line;
      else return reject("invalid byte in chunk length");
      return true;
    }
    case st::size_ws:
      if (c == ' ' || c == '\t') {
      } else if (c == ';') {
        state_ = st::ext;
      } else if (c == '\r') {
        state_ = st::size_lf;
      } else if (c == '\n') {
        state_ = after_line;
      } else {
        return reject("invalid byte in chunk length");
      }
      return true;
    case st::ext:
      // Extensions are ignored, but their bytes must be field-value bytes
      // (no bare CR, no NUL).
      if (c == '\r') state_ = st::size_lf;
      else if (c == '\n') state_ = after_line;
      else if (!is_field_value_char(c)) return reject("invalid byte in chunk extension");
      if (++trailer_bytes_ > 4096) return reject("header line too long");
      return true;
    default:  // st::size_lf
      if (c != '\n') return reject("malformed chunked encoding");
      state_ = after_line;
      trailer_bytes_ = 0;
      return true;
  }
}

// One byte of the trailer section: field lines, then the final empty line.
// False if malformed (reject() has said why); *ended once the body ended.
bool chunked_decoder::trailer_byte(unsigned char c, bool* ended) noexcept {
  switch (state_) {
    case st::trailer:
      if (c == '\r') {
        state_ = st::end_lf;
      } else if (c == '\n') {
        state_ = st::done;
        *ended = true;
        return true;
      } else if (c == ' ' || c == '\t' || c == ':' || !is_token_char(c)) {
        return reject("malformed MIME header line");
      } else {
        state_ = st::trailer_line;
        colon_ = false;
      }
      if (++trailer_bytes_ > max_trailer_) return reject("http: trailers too large");
      return true;
    case st::trailer_line:
      // name ':' value: the name is token characters, the value field-value bytes.
      if (c == '\r' || c == '\n') {
        if (!colon_) return reject("malformed MIME header line");
        state_ = c == '\r' ? st::trailer_lf : st::trailer;
      } else if (!colon_) {
        if (c == ':') colon_ = true;
        else if (!is_token_char(c)) return reject("malformed MIME header line");
      } else if (!is_field_value_char(c)) {
        return reject("invalid trailer field");
      }
      if (++trailer_bytes_ > max_trailer_) return reject("http: trailers too large");
      return true;
    case st::trailer_lf:
      if (c != '\n') return reject("malformed MIME header line");
      state_ = st::trailer;
      return true;
    default:  // st::end_lf
      if (c != '\n') return reject("malformed chunked encoding");
      state_ = st::done;
      *ended = true;
      return true;
  }
}

chunked_decoder::status chunked_decoder::decode(std::string_view in, std::size_t max_data, std::size_t* consumed,
                                                std::string_view* out) noexcept {
  std::size_t i = 0;
  while (i < in.size()) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    switch (state_) {
      case st::size:
      case st::size_ws:
      case st::ext:
      case st::size_lf:
        if (!size_line_byte(c)) return status::error;
        ++i;
        break;
      case st::data: {
        std::size_t avail = in.size() - i;
        std::size_t n = avail;
        if (n > remaining_) n = static_cast<std::size_t>(remaining_);
        if (n > max_data) n = max_data;
        if (n == 0) {  // max_data == 0
          *consumed = i;
          *out = {};
          return status::data;
        }
        remaining_ -= n;
        if (remaining_ == 0) state_ = st::data_cr;
        *out = in.substr(i, n);
        *consumed = i + n;
        return status::data;
      }
      case st::data_cr:
        if (c == '\r') state_ = st::data_lf;
        else return fail("malformed chunked encoding");
        ++i;
        break;
      case st::data_lf:
        if (c != '\n') return fail("malformed chunked encoding");
        state_ = st::size;
        digits_ = 0;
        remaining_ = 0;
        trailer_bytes_ = 0;
        ++i;
        break;
      case st::trailer:
      case st::trailer_line:
      case st::trailer_lf:
      case st::end_lf: {
        bool ended = false;
        if (!trailer_byte(c, &ended)) return status::error;
        ++i;
        if (ended) {
          *consumed = i;
          return status::done;
        }
        break;
      }
      case st::done: *consumed = i; return status::done;
      case st::failed: *consumed = i; return status::error;
    }
  }
  *consumed = i;
  if (state_ == st::done) return status::done;
  if (state_ == st::failed) return status::error;
  return status::need_more;
}

}  // namespace goro::http::detail
