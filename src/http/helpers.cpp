// src/http/helpers.cpp — Error, NotFound, Redirect, StripPrefix,
// MaxBytesHandler.
#include <memory>

#include "goro/http.hpp"
#include "http/url.hpp"

namespace goro::http {

void error(response_writer& w, std::string_view msg, int code) {
  // As Go 1.22: the body is msg and a newline; headers that described
  // another body go.
  header& h = w.header();
  h.del("Content-Length");
  h.set("Content-Type", "text/plain; charset=utf-8");
  h.set("X-Content-Type-Options", "nosniff");
  w.write_header(code);
  std::string body(msg);
  body.push_back('\n');
  w.write(body);
}

void not_found(response_writer& w, request&) { error(w, "404 page not found", 404); }

handler not_found_handler() {
  return [](response_writer& w, request& r) { not_found(w, r); };
}

namespace {

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace

void redirect(response_writer& w, request& r, std::string_view target, int code) {
  std::string loc(target);
  // A path without a scheme is made absolute against the request's path
  // (Go's Redirect), keeping a trailing slash.
  bool has_scheme = false;
  for (std::size_t i = 0; i < loc.size(); ++i) {
    char c = loc[i];
    if (c == ':') {
      has_scheme = i > 0;
      break;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))))
      break;
  }
  if (!has_scheme && !(loc.size() >= 2 && loc[0] == '/' && loc[1] == '/')) {
    std::string query;
    if (auto q = loc.find('?'); q != std::string::npos) {
      query = loc.substr(q);
      loc.resize(q);
    }
    if (loc.empty() || loc[0] != '/') {
      std::string olddir = r.url.path;
      auto slash = olddir.rfind('/');
      olddir = slash == std::string::npos ? "/" : olddir.substr(0, slash + 1);
      loc = olddir + loc;
    }
    bool trailing = !loc.empty() && loc.back() == '/';
    loc = detail::clean_path(loc);
    if (trailing && loc.back() != '/') loc.push_back('/');
    loc += query;
  }
  header& h = w.header();
  bool had_ct = h.has("Content-Type");
  h.set("Location", loc);
  if (!had_ct && (r.method == "GET" || r.method == "HEAD")) h.set("Content-Type", "text/html; charset=utf-8");
  w.write_header(code);
  if (!had_ct && r.method == "GET") {
    std::string body = "<a href=\"" + html_escape(loc) + "\">" + std::string(status_text(code)) + "</a>.\n\n";
    w.write(body);
  }
}

handler strip_prefix(std::string prefix, handler h) {
  return [prefix = std::move(prefix), h = std::move(h)](response_writer& w, request& r) {
    std::string_view p = r.url.path;
    std::string_view rp = r.url.raw_path;
    if (p.substr(0, prefix.size()) != prefix || (!rp.empty() && rp.substr(0, prefix.size()) != prefix)) {
      not_found(w, r);
      return;
    }
    r.url.path.erase(0, prefix.size());
    if (!r.url.raw_path.empty()) r.url.raw_path.erase(0, prefix.size());
    h(w, r);
  };
}

namespace {

// Forwards to a writer and remembers whether the status went out.
class tracking_writer final : public response_writer {
 public:
  explicit tracking_writer(response_writer& w) noexcept : w_(w) {}
  http::header& header() override { return w_.header(); }
  void write_header(int status) override {
    if (status >= 200) wrote_ = true;
    w_.write_header(status);
  }
  using response_writer::write;
  std::size_t write(std::span<const std::byte> b, std::error_code& ec) override {
    wrote_ = true;
    return w_.write(b, ec);
  }
  void flush() override {
    wrote_ = true;
    w_.flush();
  }
  bool wrote() const noexcept { return wrote_; }

 private:
  response_writer& w_;
  bool wrote_ = false;
};

// http.MaxBytesReader.
class max_bytes_source final : public body_source {
 public:
  max_bytes_source(request_body inner, std::int64_t n, tracking_writer& w)
      : inner_(std::move(inner)), left_(n), w_(w) {}
  std::size_t read(std::span<std::byte> buf, std::error_code& ec) noexcept override {
    ec.clear();
    if (hit_) {
      ec = make_error_code(errc::body_too_large);
      return 0;
    }
    if (buf.empty()) return 0;
    // Read one byte more than allowed, to tell "exactly n" from "more".
    std::size_t want = buf.size();
    if (static_cast<std::uint64_t>(want) > static_cast<std::uint64_t>(left_) + 1)
      want = static_cast<std::size_t>(left_ + 1);
    std::size_t n = inner_.read(buf.first(want), ec);
    if (static_cast<std::int64_t>(n) <= left_) {
      left_ -= static_cast<std::int64_t>(n);
      return n;
    }
    n = static_cast<std::size_t>(left_);
    left_ = 0;
    hit_ = true;
    ec = make_error_code(errc::body_too_large);
    // Go's requestTooLarge: the connection is not reused; a response not yet
    // started is a 413.
    try {
      if (!w_.wrote()) {
        w_.header().set("Connection", "close");
        error(w_, "http: request body too large", 413);
      }
    } catch (...) {
    }
    return n;
  }

 private:
  request_body inner_;
  std::int64_t left_;
  tracking_writer& w_;
  bool hit_ = false;
};

}  // namespace

handler max_bytes_handler(handler h, std::int64_t n) {
  return [h = std::move(h), n](response_writer& w, request& r) {
    tracking_writer tw(w);
    r.body = request_body(std::make_unique<max_bytes_source>(std::move(r.body), n, tw));
    h(tw, r);
  };
}

}  // namespace goro::http
