// http_test_util.hpp — what goro::http's tests share: a server on a free
// loopback port inside goro::run, and a raw HTTP/1.1 client over goro::net
// whose response parser is the tests' own (it shares no code with the
// server, so the server is checked against an independent reading).
#pragma once

#include <goro/goro.hpp>
#include <goro/http.hpp>
#include <gtest/gtest.h>
#include <dirent.h>
#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace http_test {

using namespace std::chrono_literals;
namespace http = goro::http;
namespace net = goro::net;

inline bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

struct response {
  int status = 0;
  std::string proto;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool chunked = false;

  std::string get(std::string_view k) const {
    for (const auto& [hk, hv] : headers)
      if (iequal(hk, k)) return hv;
    return {};
  }
  bool has(std::string_view k) const {
    for (const auto& kv : headers)
      if (iequal(kv.first, k)) return true;
    return false;
  }
};

// Reads responses from a connection, keeping what follows one response for
// the next (pipelining).
class client {
 public:
  explicit client(net::conn c) : c_(std::move(c)) {}
  explicit client(const std::string& addr) : c_(net::dial("tcp", addr)) {}

  net::conn& conn() { return c_; }
  void send(std::string_view s) { c_.write(s); }

  // The next response; nullopt if the connection ended (or failed) before
  // a complete head. head_request: the response has no body.
  std::optional<response> next(bool head_request = false) {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!more()) return std::nullopt;
    response r;
    std::string_view head(buf_.data(), end);
    std::size_t nl = head.find("\r\n");
    std::string_view line = head.substr(0, nl);
    r.proto = std::string(line.substr(0, line.find(' ')));
    // (from_chars, not stoi: stoi saves errno, a per-thread variable that
    // every goroutine on a thread shares, which ThreadSanitizer reports.)
    std::string_view code = line.substr(line.find(' ') + 1, 3);
    std::from_chars(code.data(), code.data() + code.size(), r.status);
    std::string_view rest = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 2);
    while (!rest.empty()) {
      std::size_t e = rest.find("\r\n");
      std::string_view h = rest.substr(0, e);
      std::size_t colon = h.find(':');
      std::string_view v = h.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      r.headers.emplace_back(std::string(h.substr(0, colon)), std::string(v));
      if (e == std::string_view::npos) break;
      rest = rest.substr(e + 2);
    }
    buf_.erase(0, end + 4);
    if (head_request || r.status / 100 == 1 || r.status == 204 || r.status == 304) return r;
    if (iequal(r.get("Transfer-Encoding"), "chunked")) {
      r.chunked = true;
      for (;;) {
        std::size_t le;
        while ((le = buf_.find("\r\n")) == std::string::npos)
          if (!more()) return std::nullopt;
        std::size_t n = 0;
        std::from_chars(buf_.data(), buf_.data() + le, n, 16);
        buf_.erase(0, le + 2);
        while (buf_.size() < n + 2)
          if (!more()) return std::nullopt;
        r.body.append(buf_, 0, n);
        buf_.erase(0, n + 2);
        if (n == 0) break;
      }
      return r;
    }
    if (r.has("Content-Length")) {
      std::size_t n = 0;
      std::string cl = r.get("Content-Length");
      std::from_chars(cl.data(), cl.data() + cl.size(), n);
      while (buf_.size() < n)
        if (!more()) return std::nullopt;
      r.body = buf_.substr(0, n);
      buf_.erase(0, n);
      return r;
    }
    while (more()) {
    }
    r.body = std::move(buf_);
    buf_.clear();
    return r;
  }

  // True when the server closed the connection (end of stream or reset)
  // with nothing more sent.
  bool closed_by_server() {
    while (more()) {
    }
    return buf_.empty();
  }
  const std::string& leftover() const { return buf_; }

 private:
  bool more() {
    char tmp[16384];
    std::error_code ec;
    std::size_t n = c_.read(std::as_writable_bytes(std::span<char>(tmp)), ec);
    if (n == 0) return false;
    buf_.append(tmp, n);
    return true;
  }

  net::conn c_;
  std::string buf_;
};

// Raises this process's descriptor limit to at least `needed` (the hard
// limit too, which root may do); returns the soft limit now in force.
inline rlim_t raise_fd_limit(rlim_t needed) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_max < needed) {
    rlimit more{needed, needed};
    if (setrlimit(RLIMIT_NOFILE, &more) == 0) return needed;
  }
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

// One request on a fresh connection; the response.
inline std::optional<response> roundtrip(const std::string& addr, std::string_view raw, bool head = false) {
  client c(addr);
  c.send(raw);
  return c.next(head);
}

inline std::string get_request(std::string_view path, std::string_view extra = {}) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) + "\r\n";
}

// The number of open descriptors of this process.
inline int open_fds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    --n;  // the directory's own descriptor
  }
  return n;
}

// Runs fn(server, addr) inside goro::run with a server on 127.0.0.1:0, then
// shuts the server down (10 s), checks that shutdown returned {} and serve
// returned server_closed, and that no goroutine and no descriptor is left
// behind.
inline void with_server(http::server_config cfg, const std::function<void(http::server&, const std::string&)>& fn,
                        bool shut_down = true) {
  goro::run([&] {
    const int baseline = goro::num_goroutine();
    const int fds = open_fds();
    http::server srv(std::move(cfg));
    auto l = net::listen("tcp", "127.0.0.1:0");
    const std::string addr = l.addr();
    auto served = goro::make_chan<std::error_code>(1);
    goro::go([&srv, &served, l = std::move(l)]() mutable { served.send(srv.serve(std::move(l))); });
    fn(srv, addr);
    if (shut_down) {
      auto [ctx, cancel] = goro::with_timeout(goro::background(), 10s);
      EXPECT_EQ(srv.shutdown(ctx), std::error_code());
      cancel();
    }
    EXPECT_EQ(*served.recv(), http::errc::server_closed);
    goro_test::bailout bail;
    while (goro::num_goroutine() > baseline && !bail.expired()) goro::sleep(1ms);
    EXPECT_EQ(goro::num_goroutine(), baseline) << "goroutines left behind by the server";
    EXPECT_EQ(open_fds(), fds) << "descriptors left open";
  });
}

}  // namespace http_test
