// src/http/response.cpp — the server's response_writer.
//
// The body is buffered until it passes kBufferBeforeChunking bytes or the
// handler flushes. A response whose handler returned with the whole body
// in the buffer goes out in one write with a Content-Length (Go's
// chunkWriter does the same); otherwise the head goes out as soon as the
// buffer overflows, with the handler's own Content-Length if it set one,
// else chunked for HTTP/1.1 and delimited by the connection's close for
// HTTP/1.0.
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "goro/panic.hpp"
#include "http/parse.hpp"
#include "http/server_impl.hpp"

namespace goro::http::detail {

namespace {

constexpr std::size_t kBufferBeforeChunking = 4096;  // Go's bufferBeforeChunkingSize is 2048; its bufio is 4096

bool body_allowed_for_status(int s) noexcept { return !(s >= 100 && s < 200) && s != 204 && s != 304; }

void append_uint(std::string& out, std::uint64_t v) {
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  out.append(tmp, static_cast<std::size_t>(r.ptr - tmp));
}

void append_hex(std::string& out, std::uint64_t v) {
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, v, 16);
  out.append(tmp, static_cast<std::size_t>(r.ptr - tmp));
}

// A field value with CR and LF replaced by spaces (no response splitting;
// Go's headerNewlineToSpace).
void append_value(std::string& out, std::string_view v) {
  for (char ch : v) out.push_back(ch == '\r' || ch == '\n' ? ' ' : ch);
}

}  // namespace

void append_http_date(std::string& out) {
  // Formatted on every call: pure arithmetic (Howard Hinnant's
  // civil_from_days), no gmtime_r, no snprintf, no cache. A per-thread cache
  // would be shared by every goroutine that runs on the thread, which
  // ThreadSanitizer (a fiber per goroutine) rightly calls a race.
  static constexpr char days[] = "ThuFriSatSunMonTueWed";  // 1970-01-01 was a Thursday
  static constexpr char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const std::int64_t t = static_cast<std::int64_t>(std::time(nullptr));
  std::int64_t z = t / 86400;
  const std::int64_t secs = t % 86400;
  const int wday = static_cast<int>(z % 7);
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int y = static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0));
  char b[29];
  auto two = [](char* p, int v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  std::memcpy(b, days + 3 * wday, 3);
  b[3] = ',';
  b[4] = ' ';
  two(b + 5, d);
  b[7] = ' ';
  std::memcpy(b + 8, months + 3 * (m - 1), 3);
  b[11] = ' ';
  two(b + 12, y / 100);
  two(b + 14, y % 100);
  b[16] = ' ';
  two(b + 17, static_cast<int>(secs / 3600));
  b[19] = ':';
  two(b + 20, static_cast<int>(secs / 60 % 60));
  b[22] = ':';
  two(b + 23, static_cast<int>(secs % 60));
  std::memcpy(b + 25, " GMT", 4);
  out.append(b, 29);
}

std::string_view detect_content_type(std::string_view d) noexcept {
  // A subset of Go's sniff.go (mimesniff): the signatures servers meet most.
  std::string_view s = d.substr(0, 512);
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f')) ++i;
  std::string_view t = s.substr(i);
  auto starts_ci = [&t](std::string_view p) {
    if (t.size() < p.size() + 1) return false;
    if (!ascii_iequal(t.substr(0, p.size()), p)) return false;
    char end = t[p.size()];
    return end == ' ' || end == '>';  // Go: the tag-terminating byte
  };
  static constexpr std::string_view html_tags[] = {
      "<!DOCTYPE HTML", "<HTML",  "<HEAD", "<SCRIPT", "<IFRAME", "<H1", "<DIV", "<FONT", "<TABLE", "<A",
      "<STYLE",         "<TITLE", "<B",    "<BODY",   "<BR",     "<P",  "<!--"};
  for (auto tag : html_tags)
    if (starts_ci(tag)) return "text/html; charset=utf-8";
  if (t.substr(0, 5) == "<?xml") return "text/xml; charset=utf-8";
  if (s.substr(0, 5) == "%PDF-") return "application/pdf";
  if (s.substr(0, 8) == "\x89PNG\r\n\x1a\n") return "image/png";
  if (s.substr(0, 6) == "GIF87a" || s.substr(0, 6) == "GIF89a") return "image/gif";
  if (s.substr(0, 3) == "\xff\xd8\xff") return "image/jpeg";
  if (s.substr(0, 3) == "\x1f\x8b\x08") return "application/x-gzip";
  if (s.substr(0, 4) == "PK\x03\x04") return "application/zip";
  for (unsigned char c : s)
    if (c <= 0x08 || c == 0x0b || (c >= 0x0e && c <= 0x1a) || (c >= 0x1c && c <= 0x1f))
      return "application/octet-stream";
  return "text/plain; charset=utf-8";
}

void conn_writer::reset(const request& r, bool keep_alive) noexcept {
  header_.clear();
  out_.clear();
  body_.clear();
  status_ = 0;
  is_head_ = r.method == "HEAD";
  http10_ = r.proto_minor == 0;
  keep_alive_ = keep_alive;
  head_sent_ = false;
  chunking_ = false;
  failed_ = false;
  declared_length_ = -1;
  written_ = 0;
}

bool conn_writer::body_allowed() const noexcept { return body_allowed_for_status(status_); }

void conn_writer::write_header(int code) {
  if (head_sent_ || status_ != 0) {
    std::fprintf(stderr, "http: superfluous response.WriteHeader call (status %d)\n", code);
    return;
  }
  if (code < 100 || code > 999) throw panic_error("invalid WriteHeader code " + std::to_string(code));
  if (code < 200 && code != 101) {
    // An informational response goes out at once, with the header as it is.
    out_.assign("HTTP/1.1 ");
    append_uint(out_, static_cast<unsigned>(code));
    out_.push_back(' ');
    out_.append(status_text(code));
    out_.append("\r\n");
    for (const auto& [k, v] : header_) {
      if (!is_token(k)) continue;
      out_.append(k).append(": ");
      append_value(out_, v);
      out_.append("\r\n");
    }
    out_.append("\r\n");
    send(out_);
    out_.clear();
    return;
  }
  status_ = code;
  std::string_view cl = header_.get("Content-Length");
  if (!cl.empty()) {
    std::int64_t n = parse_content_length(cl);
    if (n >= 0) {
      declared_length_ = n;
    } else {
      std::fprintf(stderr, "http: invalid Content-Length of \"%.*s\"\n", static_cast<int>(cl.size()), cl.data());
      header_.del("Content-Length");
    }
  }
}

bool conn_writer::send(std::string_view a, std::string_view b) noexcept {
  if (failed_) return false;
  std::error_code ec;
  if (!a.empty()) c_.c.write(a, ec);
  if (!ec && !b.empty()) c_.c.write(b, ec);
  if (ec) {
    failed_ = true;
    keep_alive_ = false;
    return false;
  }
  return true;
}

void conn_writer::send_head(bool final_body_known, std::string_view sniff) {
  bool has_cl = declared_length_ >= 0;
  bool te_chunked = false;
  const bool allowed = body_allowed();

  if (list_has_token(header_.get("Connection"), "close")) keep_alive_ = false;
  if (c_.srv->in_shutdown()) keep_alive_ = false;  // Go: no keep-alive once shutting down
  if (allowed && !has_cl) {
    if (final_body_known) {
      if (!(is_head_ && written_ == 0)) {
        declared_length_ = written_;
        has_cl = true;
      }
    } else if (http10_) {
      keep_alive_ = false;  // the close ends the body
    } else {
      te_chunked = true;
      chunking_ = !is_head_;
    }
  }
  if (http10_ && !has_cl && keep_alive_ && allowed) keep_alive_ = false;

  out_.assign("HTTP/1.1 ");
  append_uint(out_, static_cast<unsigned>(status_));
  out_.push_back(' ');
  std::string_view text = status_text(status_);
  out_.append(text.empty() ? std::string_view("status code") : text);
  out_.append("\r\n");
  for (const auto& [k, v] : header_) {
    if (!is_token(k)) continue;
    if (!allowed && (k == "Content-Length" || k == "Transfer-Encoding")) continue;
    if (te_chunked && k == "Transfer-Encoding") continue;
    out_.append(k).append(": ");
    append_value(out_, v);
    out_.append("\r\n");
  }
  if (allowed && has_cl && !header_.has("Content-Length")) {
    out_.append("Content-Length: ");
    append_uint(out_, static_cast<std::uint64_t>(declared_length_));
    out_.append("\r\n");
  }
  if (allowed && written_ > 0 && !header_.has("Content-Type") && !sniff.empty()) {
    out_.append("Content-Type: ").append(detect_content_type(sniff)).append("\r\n");
  }
  if (!header_.has("Date")) {
    out_.append("Date: ");
    append_http_date(out_);
    out_.append("\r\n");
  }
  if (te_chunked) out_.append("Transfer-Encoding: chunked\r\n");
  if (!keep_alive_) {
    if (!list_has_token(header_.get("Connection"), "close")) out_.append("Connection: close\r\n");
  } else if (http10_) {
    out_.append("Connection: keep-alive\r\n");
  }
  out_.append("\r\n");
  head_sent_ = true;
}

std::size_t conn_writer::write(std::span<const std::byte> b, std::error_code& ec) {
  ec.clear();
  if (failed_) {
    ec = goro::errc::closed;
    return 0;
  }
  if (status_ == 0) write_header(200);
  if (!body_allowed()) {
    ec = std::make_error_code(std::errc::operation_not_permitted);  // Go: http.ErrBodyNotAllowed
    return 0;
  }
  if (declared_length_ >= 0 && written_ + static_cast<std::int64_t>(b.size()) > declared_length_) {
    ec = std::make_error_code(std::errc::message_size);  // Go: http.ErrContentLength
    return 0;
  }
  std::string_view data(reinterpret_cast<const char*>(b.data()), b.size());
  written_ += static_cast<std::int64_t>(b.size());
  if (is_head_) {
    if (!head_sent_ && written_ > static_cast<std::int64_t>(kBufferBeforeChunking)) {
      send_head(false, {});
      send(out_);
      out_.clear();
    }
    return b.size();
  }
  if (!head_sent_) {
    if (body_.size() + data.size() <= kBufferBeforeChunking) {
      body_.append(data);
      return b.size();
    }
    // Overflow: the head goes now, with what was buffered.
    send_head(false, body_.empty() ? data : std::string_view(body_));
    append_buffered_body();
    bool ok = send(out_);
    out_.clear();
    if (!ok) {
      ec = goro::errc::closed;
      return 0;
    }
  }
  if (chunking_) {
    out_.clear();
    append_hex(out_, data.size());
    out_.append("\r\n");
    if (data.size() <= 65536) {
      out_.append(data).append("\r\n");
      send(out_);
    } else {
      send(out_, data);
      send("\r\n");
    }
    out_.clear();
  } else {
    send(data);
  }
  if (failed_) {
    ec = goro::errc::closed;
    return 0;
  }
  return b.size();
}

void conn_writer::append_buffered_body() {
  if (body_.empty()) return;
  if (chunking_) {
    append_hex(out_, body_.size());
    out_.append("\r\n").append(body_).append("\r\n");
  } else {
    out_.append(body_);
  }
  body_.clear();
}

void conn_writer::flush() {
  if (failed_) return;
  if (status_ == 0) write_header(200);
  if (head_sent_) return;  // nothing is buffered once the head is out
  send_head(false, body_);
  if (body_allowed() && !is_head_) append_buffered_body();
  body_.clear();
  send(out_);
  out_.clear();
}

bool conn_writer::finish() {
  if (failed_) return false;
  if (status_ == 0) write_header(200);
  if (!head_sent_) {
    send_head(true, body_);
    if (body_allowed() && !is_head_) out_.append(body_);
    send(out_);
  } else if (chunking_) {
    send("0\r\n\r\n");
  }
  out_.clear();
  body_.clear();
  if (declared_length_ >= 0 && written_ != declared_length_ && body_allowed() && !is_head_) keep_alive_ = false;
  return !failed_;
}

}  // namespace goro::http::detail
