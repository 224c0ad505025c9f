// goro/http.hpp — Go's net/http: an HTTP/1.1 server over goro::net, a
// goroutine per connection, handlers written as plain blocking code.
//
//   goro::http::serve_mux mux;
//   mux.handle("GET /hello/{name}", [](goro::http::response_writer& w, goro::http::request& r) {
//     w.header().set("Content-Type", "text/plain");
//     w.write("hello, " + std::string(r.path_value("name")) + "\n");
//   });
//   goro::http::server srv(goro::http::server_config{.addr = ":8080", .handler = std::ref(mux)});
//   goro::go([&] { srv.listen_and_serve(); });    // returns errc::server_closed after shutdown
//   ...
//   auto [ctx, cancel] = goro::with_timeout(goro::background(), 10s);
//   srv.shutdown(ctx);                              // {} once every request in flight is answered
//
// Names and behaviour follow Go's net/http; where a comment is silent, goro
// does what Go does. CMake target goro::http (it links goro::goro).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <goro/context.hpp>
#include <goro/net.hpp>

namespace goro::http {

// ---------------------------------------------------------------------------
// Errors

enum class errc {
  server_closed = 1,    // "http: Server closed": serve/listen_and_serve after shutdown or close
  body_too_large = 2,   // "http: request body too large": past max_bytes_handler's limit
  handler_timeout = 3,  // "http: Handler timeout": writes after timeout_handler gave up
  malformed_body = 4,   // "http: malformed chunked encoding" (or a short Content-Length body)
  body_closed = 5,      // "http: invalid Read on closed Body": the request's body after its handler returned
};

const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace goro::http

template <>
struct std::is_error_code_enum<goro::http::errc> : std::true_type {};

namespace goro::http {

// ---------------------------------------------------------------------------
// header — http.Header. Keys are canonicalized as Go's
// textproto.CanonicalMIMEHeaderKey does ("content-type" -> "Content-Type";
// a key with a byte that is not a token character is kept as given), so
// every lookup is case-insensitive. Iteration yields (key, value) pairs in
// insertion order, one per value.
class header {
 public:
  using value_type = std::pair<std::string, std::string>;
  using const_iterator = std::vector<value_type>::const_iterator;

  // The first value of k, "" when absent.
  std::string_view get(std::string_view k) const noexcept;
  std::vector<std::string_view> values(std::string_view k) const;
  bool has(std::string_view k) const noexcept;
  // Replaces every value of k with v.
  void set(std::string_view k, std::string_view v);
  void add(std::string_view k, std::string_view v);
  void del(std::string_view k) noexcept;

  const_iterator begin() const noexcept { return kv_.begin(); }
  const_iterator end() const noexcept { return kv_.end(); }
  std::size_t size() const noexcept { return kv_.size(); }
  bool empty() const noexcept { return kv_.empty(); }
  void clear() noexcept { kv_.clear(); }

  // Appends without canonicalizing: the caller vouches that k is canonical.
  void add_canonical(std::string k, std::string v) { kv_.emplace_back(std::move(k), std::move(v)); }

 private:
  std::vector<value_type> kv_;
};

// textproto.CanonicalMIMEHeaderKey.
std::string canonical_header_key(std::string_view k);

// http.StatusText: "Not Found" for 404, "" for an unknown code.
std::string_view status_text(int code) noexcept;

// ---------------------------------------------------------------------------
// request

// The parts of the request-target a handler uses (Go's url.URL, server side).
struct url {
  std::string path;       // decoded: "/a b" for "/a%20b"
  std::string raw_path;   // as sent, when it differs from path's encoding ("" otherwise, as Go)
  std::string raw_query;  // after '?', as sent, without the '?'
  // path as sent on the wire (raw_path when set, else path).
  std::string_view escaped_path() const noexcept { return raw_path.empty() ? std::string_view(path) : raw_path; }
};

// What a request body reads from: the connection (de-chunked), or a wrapper
// such as max_bytes_handler's. read returns 0 at the end of the body.
class body_source {
 public:
  virtual ~body_source() = default;
  virtual std::size_t read(std::span<std::byte> buf, std::error_code& ec) noexcept = 0;
};

// request.body — io.ReadCloser of a server request. Bodies without
// Content-Length or Transfer-Encoding are empty.
class request_body {
 public:
  request_body() noexcept = default;
  explicit request_body(body_source* src) noexcept : src_(src) {}
  explicit request_body(std::unique_ptr<body_source> src) noexcept : src_(src.get()), owned_(std::move(src)) {}
  request_body(request_body&&) noexcept = default;
  request_body& operator=(request_body&&) noexcept = default;

  // Reads what is available (at least one byte unless at the end); 0 at the
  // end. A malformed body, a connection error or a deadline: throws
  // std::system_error / sets ec.
  std::size_t read(std::span<std::byte> buf);
  std::size_t read(std::span<std::byte> buf, std::error_code& ec) noexcept;
  // io.ReadAll.
  std::string read_all();
  std::string read_all(std::error_code& ec);

  // Takes the source out (for wrappers: max_bytes_handler).
  std::unique_ptr<body_source> release_owned() noexcept { return std::move(owned_); }
  body_source* source() const noexcept { return src_; }

 private:
  body_source* src_ = nullptr;
  std::unique_ptr<body_source> owned_;
};

namespace detail {
struct conn_state;
struct request_access;
// Starts watching the request's connection for the client going away (the
// first time the request's context is asked for; see src/http/conn.cpp).
void watch_client(conn_state& c) noexcept;
}  // namespace detail

class request {
 public:
  request() = default;
  request(const request&) = delete;
  request& operator=(const request&) = delete;
  request(request&&) noexcept = default;
  request& operator=(request&&) noexcept = default;

  std::string method;  // "GET"
  std::string target;  // the request-target as sent: "/search?q=go"
  http::url url;       // target's path (decoded) and query
  std::string proto;   // "HTTP/1.1"
  int proto_major = 1;
  int proto_minor = 1;
  http::header header;                         // without Host (it is in host), as Go
  std::string host;                            // the Host header, or the authority of an absolute-form target
  std::int64_t content_length = -1;            // -1: unknown (chunked)
  std::vector<std::string> transfer_encoding;  // {"chunked"} or empty
  bool close = false;                          // the connection closes after this request
  std::string remote_addr;                     // "127.0.0.1:53211"
  std::string request_uri;                     // = target (Go's RequestURI)
  request_body body;

  // Cancelled when the handler returns, when the client's connection is
  // closed (once the body has been read to its end, as Go), and when the
  // server is closed.
  const goro::context& context() const noexcept {
    if (conn_ != nullptr) detail::watch_client(*conn_);
    return ctx_;
  }
  void set_context(goro::context ctx) noexcept { ctx_ = std::move(ctx); }

  // The first value of the query parameter name, decoded; "" if absent.
  std::string query(std::string_view name) const;
  // The value of the wildcard name in the serve_mux pattern that matched.
  std::string_view path_value(std::string_view name) const noexcept;
  void set_path_value(std::string_view name, std::string_view value);

 private:
  friend struct detail::request_access;
  goro::context ctx_;
  std::vector<std::pair<std::string, std::string>> path_values_;
  detail::conn_state* conn_ = nullptr;  // the server's connection, for watch_client
};

// ---------------------------------------------------------------------------
// response_writer — http.ResponseWriter.
//
// header() may be changed until the header is written; later changes are
// ignored. The first write sends status 200 if write_header was not called.
// The server's writer buffers the body: a handler whose whole body fits the
// buffer (4 KiB) gets a Content-Length; a longer body goes out chunked
// (HTTP/1.1) or delimited by closing the connection (HTTP/1.0). Date is
// added; HEAD responses and 1xx/204/304 carry no body. A write to a
// connection that failed returns 0 and sets ec; it never throws.
class response_writer {
 public:
  virtual ~response_writer() = default;
  virtual http::header& header() = 0;
  virtual void write_header(int status) = 0;
  virtual std::size_t write(std::span<const std::byte> b, std::error_code& ec) = 0;
  virtual void flush() = 0;

  std::size_t write(std::span<const std::byte> b) {
    std::error_code ec;
    return write(b, ec);
  }
  std::size_t write(std::string_view s) { return write(std::as_bytes(std::span<const char>(s.data(), s.size()))); }
  std::size_t write(std::string_view s, std::error_code& ec) {
    return write(std::as_bytes(std::span<const char>(s.data(), s.size())), ec);
  }
  std::size_t write(const char* s) { return write(std::string_view(s)); }
  std::size_t write(const std::string& s) { return write(std::string_view(s)); }
};

// http.Handler. An exception escaping a handler is logged to stderr with the
// request line, its connection is closed, and the server goes on.
using handler = std::function<void(response_writer&, request&)>;

// ---------------------------------------------------------------------------
// Helpers

// http.Error: plain-text msg (and a newline) with the code.
void error(response_writer& w, std::string_view msg, int code);
// http.NotFound: 404 "404 page not found".
void not_found(response_writer& w, request& r);
// http.Redirect: Location resolved against r's path, with a short HTML body for GET/HEAD.
void redirect(response_writer& w, request& r, std::string_view url, int code);
// http.StripPrefix: h sees url.path without prefix; 404 when it does not start with it.
handler strip_prefix(std::string prefix, handler h);
// http.MaxBytesHandler: reading past n bytes of body fails with
// errc::body_too_large and the response, if not yet written, is 413.
handler max_bytes_handler(handler h, std::int64_t n);
// http.NotFoundHandler.
handler not_found_handler();
// http.TimeoutHandler: runs h in its own goroutine with r.context() ending
// after d. If h returns in time, what it wrote is sent; otherwise the answer
// is 503 with msg (Go's "<html>...Timeout..." page when msg is empty), h's
// writes fail with errc::handler_timeout, and h's context is cancelled. The
// 503 goes out complete at once; the connection is then held (not reused)
// until h has returned, since h may still be using the request.
handler timeout_handler(handler h, std::chrono::nanoseconds d, std::string msg);

// ---------------------------------------------------------------------------
// serve_mux — http.ServeMux with Go 1.22's patterns:
//
//   [METHOD ][HOST]/path    "/index.html", "GET /static/", "example.com/", "POST /items/{id}"
//
// {name} matches one path segment, {name...} the rest of the path, and a
// trailing slash is an anonymous {...}; "{$}" matches only the end
// ("/{$}" is just "/"). The most specific pattern wins; registering a
// pattern that matches the same requests as one already registered, with
// neither more specific, throws std::invalid_argument, as does a malformed
// pattern. GET also matches HEAD. No match: 404; a path match with the
// wrong method: 405 with Allow. "/tree/" also answers "/tree" with a 301.
// Paths with "." or ".." segments or doubled slashes are redirected (301) to
// their clean form. Register everything before serving.
class serve_mux {
 public:
  serve_mux();
  ~serve_mux();
  serve_mux(const serve_mux&) = delete;
  serve_mux& operator=(const serve_mux&) = delete;

  void handle(std::string_view pattern, handler h);
  void handle_func(std::string_view pattern, handler h) { handle(pattern, std::move(h)); }
  void operator()(response_writer& w, request& r) const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// ---------------------------------------------------------------------------
// server — http.Server.

struct server_config {
  std::string addr;       // ":8080", "127.0.0.1:0"; "" means ":http" (port 80)
  http::handler handler;  // empty: answers every request with 404
  // Reading a request's head (from its first byte, or from the connection's
  // start) may take this long; 0: read_timeout. A connection that overruns
  // it is closed.
  std::chrono::nanoseconds read_header_timeout{0};
  // Reading the whole request, body included; 0: none.
  std::chrono::nanoseconds read_timeout{0};
  // From the end of the request's head to the end of the response; 0: none.
  std::chrono::nanoseconds write_timeout{0};
  // How long a keep-alive connection waits for its next request; 0: read_timeout.
  std::chrono::nanoseconds idle_timeout{0};
  // Largest request head, in bytes; 0: 1 MiB. Over it: 431.
  std::size_t max_header_bytes = 0;
  // Go's DisableGeneralOptionsHandler: when false, "OPTIONS *" requests are
  // answered by the server itself (200, Content-Length: 0), not the handler.
  bool disable_general_options_handler = false;
};

class server {
 public:
  explicit server(server_config cfg);
  // Closes what is still open (as close()); serve must have returned.
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Listens on cfg.addr (TCP) and serves until shutdown or close; then
  // returns errc::server_closed. A listen failure, or an accept failure that
  // is not temporary, is returned.
  std::error_code listen_and_serve();
  std::error_code serve(net::listener l);

  // Stops accepting at once, closes idle connections, lets active requests
  // finish (their connections close after the response), and returns {}
  // when all are done, or ctx.err() if ctx ends first. Functions given to
  // register_on_shutdown are started, each in its own goroutine.
  std::error_code shutdown(const goro::context& ctx);
  // Closes every listener and connection now; handlers still running see
  // their request's context cancelled.
  void close() noexcept;
  void register_on_shutdown(std::function<void()> f);

  // The address the most recent serve is accepting on ("" before).
  std::string addr() const;

  struct state;

 private:
  std::shared_ptr<state> st_;
};

// ---------------------------------------------------------------------------
// client — http.Client over http:// URLs.
//
// Keep-alive connections are pooled per host:port and reused once a
// response's body has been read to its end, or the response destroyed (its
// unread rest, up to 256 KiB, is read and dropped first; a longer rest
// closes the connection). A request that fails on a reused connection
// before any byte of an answer arrived is sent once more on a new one (the
// server may have closed the idle connection meanwhile), as Go's Transport
// does. Redirects (301, 302, 303, 307, 308) are followed up to 10 times:
// 301-303 turn a POST into a GET without body, 307/308 resend the same
// request. Failures throw std::system_error; when the context (or the
// client's timeout) ends first, its code is the context's error
// (goro::errc::canceled or deadline_exceeded).

namespace detail {
struct client_conn;
struct client_pool;
}  // namespace detail

struct client_config {
  // The whole exchange, redirects and reading the body included; 0: none.
  std::chrono::nanoseconds timeout{0};
  int max_redirects = 10;
  std::size_t max_idle_conns_per_host = 2;  // Go's DefaultMaxIdleConnsPerHost
  std::chrono::nanoseconds idle_conn_timeout = std::chrono::seconds(90);
};

struct client_request {
  std::string method = "GET";
  std::string url;  // "http://host[:port]/path?query"
  http::header header;
  std::string body;
};

// A response's body (io.ReadCloser): reads from the connection; 0 at the end.
class response_body {
 public:
  response_body() noexcept = default;
  response_body(response_body&&) noexcept;
  response_body& operator=(response_body&&) noexcept;
  ~response_body();

  std::size_t read(std::span<std::byte> buf);
  std::size_t read(std::span<std::byte> buf, std::error_code& ec) noexcept;
  std::string read_all();
  std::string read_all(std::error_code& ec);
  // Gives the connection back (or closes it) now; later reads return 0.
  void close() noexcept;

  explicit response_body(std::unique_ptr<detail::client_conn> c) noexcept;

 private:
  friend class client;
  std::unique_ptr<detail::client_conn> c_;
  goro::cancel_func on_close_;  // ends the client's timeout context
};

struct response {
  int status = 0;           // 200
  std::string status_line;  // "200 OK" (Go's Status)
  std::string proto;        // "HTTP/1.1"
  http::header header;
  std::int64_t content_length = -1;  // -1: unknown
  std::string url;                   // the URL that answered (after redirects)
  response_body body;
};

class client {
 public:
  explicit client(client_config cfg = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  response get(std::string_view url);
  response post(std::string_view url, std::string_view content_type, std::string body);
  response send(const goro::context& ctx, client_request req);
  // Closes the pooled idle connections.
  void close_idle_connections() noexcept;

 private:
  client_config cfg_;
  std::shared_ptr<detail::client_pool> pool_;
};

// http.Get / http.Post with a process-wide default client.
response get(std::string_view url);
response post(std::string_view url, std::string_view content_type, std::string body);
client& default_client();

// net/http/pprof: mux.handle("/debug/pprof/", pprof_handler()) serves
// goroutine (the pprof protobuf of write_goroutine_profile; ?debug=1 or 2:
// the text of dump_goroutines), trace?seconds=N (the tracer's JSON for N
// seconds) and profile?seconds=N (a CPU profile of N seconds, default 30),
// so `go tool pprof http://HOST/debug/pprof/goroutine` reads a live server.
handler pprof_handler();

// The runtime's metrics (goro::read_metrics) in Prometheus' text exposition
// format, for a scraper: mux.handle("/metrics", metrics_handler()).
handler metrics_handler();

// http.ListenAndServe / http.Serve with a fresh server.
std::error_code listen_and_serve(std::string_view addr, handler h);
std::error_code serve(net::listener l, handler h);

}  // namespace goro::http
