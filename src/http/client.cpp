// src/http/client.cpp — http::client: requests over pooled keep-alive
// connections, redirects, timeouts and cancellation.
//
// A client_conn is one connection with its read buffer and the reader of
// the response body being read. It travels: from the pool (or a fresh
// dial) into round_trip, then into the response's body, and back into the
// pool when the body ends (or is closed after its rest was read and
// dropped), or it is closed. A context that can end gets a watcher
// goroutine that closes the connection when the context ends, which fails
// the blocked read or write; the watcher is stopped and waited for before
// the connection may go back to the pool, so it can never close a pooled
// connection. The context's deadline is also set on the connection.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <unordered_map>

#include "goro/goro.hpp"
#include "goro/http.hpp"
#include "http/body.hpp"
#include "http/parse.hpp"

namespace goro::http {

namespace detail {

struct client_pool {
  goro::mutex mu;
  struct idle_conn {
    std::unique_ptr<client_conn> c;
    std::chrono::steady_clock::time_point since;
  };
  std::unordered_map<std::string, std::vector<idle_conn>> idle;  // guarded by mu
  std::size_t max_per_host = 2;
  std::chrono::nanoseconds idle_timeout{0};

  std::unique_ptr<client_conn> take(const std::string& key);
  void put(std::unique_ptr<client_conn> c);
  void close_all() noexcept;
};

struct client_conn {
  net::conn c;
  std::string key;  // "host:port"
  read_buffer in;
  body_reader body;
  bool reusable = false;  // the response lets the connection be kept
  bool reused = false;    // it came from the pool
  std::weak_ptr<client_pool> pool;

  // The exchange's context: its error when a read or write failed because
  // it ended; the watcher that closes the connection when it ends.
  goro::context ctx;
  chan<std::monostate> stop_watch;
  chan<std::monostate> watch_exited;
  bool watching = false;

  ~client_conn() { disarm(); }

  void arm(const goro::context& x) {
    ctx = x;
    if (auto dl = x.deadline()) c.set_deadline(*dl);
    recv_chan<std::monostate> done = x.done();
    if (done == recv_chan<std::monostate>()) return;  // background: never ends
    stop_watch = make_chan<std::monostate>();
    watch_exited = make_chan<std::monostate>(1);
    watching = true;
    goro::go(spawn_options{.name = "http client watch"},
             [conn = c, done, stop = stop_watch, exited = watch_exited]() mutable {
               bool fired = false;
               goro::select(goro::case_recv(done, [&] { fired = true; }), goro::case_recv(stop));
               if (fired) conn.close();
               exited.send({});
             });
  }

  void disarm() noexcept {
    if (!watching) return;
    watching = false;
    try {
      stop_watch.close();
      watch_exited.recv();
    } catch (...) {
    }
  }

  // The error to report for a failed operation: the context's when it ended.
  std::error_code failure(std::error_code ec) const {
    if (auto e = ctx.err()) return e;
    return ec;
  }
};

std::unique_ptr<client_conn> client_pool::take(const std::string& key) {
  std::lock_guard lk(mu);
  auto it = idle.find(key);
  if (it == idle.end()) return nullptr;
  auto& v = it->second;
  const auto now = std::chrono::steady_clock::now();
  while (!v.empty()) {
    idle_conn e = std::move(v.back());  // the most recently used first
    v.pop_back();
    if (idle_timeout.count() > 0 && now - e.since > idle_timeout) {
      e.c->c.close();
      continue;
    }
    e.c->reused = true;
    return std::move(e.c);
  }
  return nullptr;
}

void client_pool::put(std::unique_ptr<client_conn> c) {
  std::lock_guard lk(mu);
  auto& v = idle[c->key];
  if (v.size() >= max_per_host) {
    c->c.close();
    return;
  }
  v.push_back({std::move(c), std::chrono::steady_clock::now()});
}

void client_pool::close_all() noexcept {
  try {
    std::lock_guard lk(mu);
    for (auto& [k, v] : idle)
      for (auto& e : v) e.c->c.close();
    idle.clear();
  } catch (...) {
  }
}

namespace {

constexpr std::size_t kMaxResponseHead = (1 << 20) + 4096;
constexpr std::size_t kMaxDrainOnClose = 256 << 10;

struct parsed_url {
  std::string host;    // as in the URL, for Host: "example.com:8080"
  std::string key;     // "example.com:8080" with the default port filled in
  std::string target;  // "/path?query"
};

[[noreturn]] void fail(std::error_code ec, const std::string& what) { throw std::system_error(ec, what); }

parsed_url parse_url(std::string_view url) {
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    fail(std::make_error_code(std::errc::invalid_argument), "http: unsupported URL \"" + std::string(url) + "\"");
  std::string scheme(url.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (scheme != "http")
    fail(std::make_error_code(std::errc::protocol_not_supported), "unsupported protocol scheme \"" + scheme + "\"");
  std::string_view rest = url.substr(scheme_end + 3);
  std::size_t end = rest.find_first_of("/?#");
  parsed_url u;
  u.host = std::string(rest.substr(0, end));
  if (auto at = u.host.rfind('@'); at != std::string::npos) u.host.erase(0, at + 1);  // userinfo: not sent
  if (u.host.empty()) fail(std::make_error_code(std::errc::invalid_argument), "http: no Host in request URL");
  std::string_view path = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (auto hash = path.find('#'); hash != std::string_view::npos) path = path.substr(0, hash);
  u.target = path.empty() || path[0] != '/' ? "/" + std::string(path) : std::string(path);
  const bool has_port =
      u.host.back() != ']' &&
      u.host.find(':', u.host.rfind(']') == std::string::npos ? 0 : u.host.rfind(']')) != std::string::npos;
  u.key = has_port ? u.host : u.host + ":80";
  return u;
}

// Resolves a Location against the URL that answered.
std::string resolve(const std::string& base, std::string_view loc) {
  if (loc.find("://") != std::string_view::npos) return std::string(loc);
  std::size_t scheme_end = base.find("://");
  std::size_t path_start = base.find_first_of("/?#", scheme_end + 3);
  std::string origin = base.substr(0, path_start);
  if (loc.substr(0, 2) == "//") return base.substr(0, scheme_end + 1) + std::string(loc);
  if (!loc.empty() && loc[0] == '/') return origin + std::string(loc);
  std::string path = path_start == std::string::npos ? "/" : base.substr(path_start);
  path = path.substr(0, path.find_first_of("?#"));
  path = path.substr(0, path.rfind('/') + 1);
  return origin + path + std::string(loc);
}

bool idempotent(std::string_view m) { return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE"; }

std::string serialize(const client_request& req, const parsed_url& u) {
  std::string out;
  out.reserve(256 + req.body.size());
  out.append(req.method).append(" ").append(u.target).append(" HTTP/1.1\r\nHost: ").append(u.host).append("\r\n");
  if (!req.header.has("User-Agent")) out.append("User-Agent: goro-http-client/1.1\r\n");
  for (const auto& [k, v] : req.header) {
    if (k == "Host" || k == "Content-Length" || k == "Transfer-Encoding") continue;
    out.append(k).append(": ");
    for (char ch : v) out.push_back(ch == '\r' || ch == '\n' ? ' ' : ch);
    out.append("\r\n");
  }
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH")
    out.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n");
  out.append("\r\n");
  out.append(req.body);
  return out;
}

}  // namespace

}  // namespace detail

// ---------------------------------------------------------------------------
// response_body

response_body::response_body(std::unique_ptr<detail::client_conn> c) noexcept : c_(std::move(c)) {
  if (c_ && c_->body.done()) close();  // no body: the connection can go back at once
}
response_body::response_body(response_body&& o) noexcept : c_(std::move(o.c_)), on_close_(std::move(o.on_close_)) {}
response_body& response_body::operator=(response_body&& o) noexcept {
  if (this != &o) {
    close();
    c_ = std::move(o.c_);
    on_close_ = std::move(o.on_close_);
  }
  return *this;
}
response_body::~response_body() { close(); }

std::size_t response_body::read(std::span<std::byte> buf, std::error_code& ec) noexcept {
  ec.clear();
  if (!c_) return 0;
  std::size_t n = c_->body.read(c_->in, c_->c, buf, ec);
  if (ec) {
    ec = c_->failure(ec);
    c_->reusable = false;
    close();
    return 0;
  }
  if (c_->body.done()) close();
  return n;
}

std::size_t response_body::read(std::span<std::byte> buf) {
  std::error_code ec;
  std::size_t n = read(buf, ec);
  if (ec) throw std::system_error(ec, "http: reading the response body");
  return n;
}

std::string response_body::read_all(std::error_code& ec) {
  std::string out;
  ec.clear();
  std::byte tmp[16384];
  while (c_) {
    std::size_t n = read(tmp, ec);
    if (ec) break;
    out.append(reinterpret_cast<const char*>(tmp), n);
  }
  return out;
}

std::string response_body::read_all() {
  std::error_code ec;
  std::string s = read_all(ec);
  if (ec) throw std::system_error(ec, "http: reading the response body");
  return s;
}

void response_body::close() noexcept {
  if (!c_) {
    on_close_();
    on_close_ = {};
    return;
  }
  std::unique_ptr<detail::client_conn> c = std::move(c_);
  try {
    if (!c->body.done() && !c->body.broken() && c->reusable) {
      // Read and drop a short rest so the connection can be reused.
      c->c.set_read_deadline(std::chrono::steady_clock::now() + std::chrono::seconds(1));
      c->body.discard(c->in, c->c, detail::kMaxDrainOnClose);
    }
    c->disarm();
    auto pool = c->pool.lock();
    if (pool && c->reusable && c->body.done() && !c->ctx.err()) {
      c->c.set_deadline(no_deadline);
      c->ctx = {};
      pool->put(std::move(c));
      c = nullptr;
    }
  } catch (...) {
  }
  if (c) c->c.close();
  on_close_();
  on_close_ = {};
}

// ---------------------------------------------------------------------------
// client

client::client(client_config cfg) : cfg_(std::move(cfg)), pool_(std::make_shared<detail::client_pool>()) {
  pool_->max_per_host = cfg_.max_idle_conns_per_host;
  pool_->idle_timeout = cfg_.idle_conn_timeout;
}

client::~client() { pool_->close_all(); }

void client::close_idle_connections() noexcept { pool_->close_all(); }

response client::get(std::string_view url) {
  return send(goro::background(), client_request{.method = "GET", .url = std::string(url), .header = {}, .body = {}});
}

response client::post(std::string_view url, std::string_view content_type, std::string body) {
  client_request req{.method = "POST", .url = std::string(url), .header = {}, .body = std::move(body)};
  req.header.set("Content-Type", content_type);
  return send(goro::background(), std::move(req));
}

namespace {

// One request and its response's head on one connection; the response's
// body is left on the connection.
response round_trip(detail::client_pool& pool, const std::shared_ptr<detail::client_pool>& pool_ref,
                    const goro::context& ctx, const client_request& req, const std::string& url) {
  const detail::parsed_url u = detail::parse_url(url);
  const std::string wire = detail::serialize(req, u);
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<detail::client_conn> c = pool.take(u.key);
    if (!c) {
      std::error_code ec;
      net::conn nc = net::dial(ctx, "tcp", u.key, ec);
      if (ec) detail::fail(ctx.err() ? ctx.err() : ec, "http: dial " + u.key);
      c = std::make_unique<detail::client_conn>();
      c->c = std::move(nc);
      c->key = u.key;
      c->pool = pool_ref;
    }
    c->arm(ctx);
    const bool retry_allowed = c->reused && attempt == 0;
    std::error_code ec;
    c->c.write(wire, ec);
    if (ec) {
      if (retry_allowed && !ctx.err()) continue;  // nothing was answered: a stale pooled connection
      detail::fail(c->failure(ec), "http: writing the request to " + u.key);
    }
    // The head, skipping 1xx interim answers.
    detail::response_head h;
    std::size_t head_len = 0;
    for (;;) {
      std::size_t scanned = 0;
      bool got_any = !c->in.empty();
      while ((head_len = detail::find_head_end(c->in.buffered(), scanned)) == 0) {
        if (c->in.fill(c->c, detail::kMaxResponseHead, ec) == 0) break;
        got_any = true;
      }
      if (head_len == 0) break;
      detail::parse_error perr;
      if (!detail::parse_response_head(c->in.buffered().substr(0, head_len), req.method == "HEAD", h, perr)) {
        detail::fail(std::make_error_code(std::errc::bad_message),
                     "http: malformed response from " + u.key + ": " + std::string(perr.reason));
      }
      (void)got_any;
      if (h.status >= 100 && h.status < 200 && h.status != 101) {
        c->in.r += head_len;
        head_len = 0;
        continue;
      }
      break;
    }
    if (head_len == 0) {
      if (retry_allowed && c->in.empty() && !ctx.err() && (detail::idempotent(req.method) || req.body.empty()))
        continue;
      if (!ec) ec = std::make_error_code(std::errc::connection_reset);  // EOF before a response
      detail::fail(c->failure(ec), "http: reading the response from " + u.key);
    }
    response r;
    r.status = h.status;
    r.status_line = std::to_string(h.status) + (h.reason.empty() ? "" : " " + std::string(h.reason));
    r.proto = std::string(h.version);
    for (const auto& f : h.fields) r.header.add_canonical(canonical_header_key(f.name), std::string(f.value));
    r.content_length = h.body == detail::body_kind::none ? 0 : h.content_length;
    r.url = url;
    c->body.reset(h.body, h.content_length, 1 << 20);
    c->reusable = !h.close && h.body != detail::body_kind::until_close;
    c->in.r += head_len;
    r.body = response_body(std::move(c));
    return r;
  }
}

bool is_redirect(int s) { return s == 301 || s == 302 || s == 303 || s == 307 || s == 308; }

}  // namespace

response client::send(const goro::context& parent, client_request req) {
  goro::context ctx = parent;
  goro::cancel_func timeout_cancel;
  if (cfg_.timeout.count() > 0) {
    auto [c, cancel] = goro::with_timeout(parent, cfg_.timeout);
    ctx = std::move(c);
    timeout_cancel = std::move(cancel);
  }
  for (char& ch : req.method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (req.method.empty()) req.method = "GET";
  std::string url = req.url;
  for (int redirects = 0;; ++redirects) {
    response r = round_trip(*pool_, pool_, ctx, req, url);
    const std::string loc(r.header.get("Location"));
    if (!is_redirect(r.status) || loc.empty()) {
      r.body.on_close_ = std::move(timeout_cancel);  // the timeout lives until the body is done
      return r;
    }
    if (redirects >= cfg_.max_redirects)
      detail::fail(std::make_error_code(std::errc::too_many_links),
                   "stopped after " + std::to_string(cfg_.max_redirects) + " redirects");
    r.body.close();
    url = detail::resolve(url, loc);
    if ((r.status == 301 || r.status == 302 || r.status == 303) && req.method != "HEAD") {
      // Go: 301/302/303 turn the request into a GET without body (HEAD stays HEAD).
      if (req.method != "GET") {
        req.method = "GET";
        req.body.clear();
        req.header.del("Content-Type");
      }
    }
  }
}

client& default_client() {
  static client c;
  return c;
}

response get(std::string_view url) { return default_client().get(url); }

response post(std::string_view url, std::string_view content_type, std::string body) {
  return default_client().post(url, content_type, std::move(body));
}

}  // namespace goro::http
