// src/http/server_impl.hpp — the server's internals, shared by server.cpp
// (listeners, the connection set, shutdown), conn.cpp (a connection's
// goroutine) and response.cpp (the response writer).
//
// Ownership. server::state is shared (shared_ptr) by the server object and
// every connection goroutine, so a goroutine that outlives serve() still
// finds it. A conn_state belongs to its goroutine: it is created by the
// accept loop, handed to the goroutine, entered in state::conns, and the
// goroutine removes it from there (under state::mu) before freeing it.
// close() and shutdown() reach a connection only through state::conns,
// under state::mu, so they never touch a freed conn_state.
//
// Connection states (Go's ConnState), in conn_state::phase:
//
//   fresh  --first byte--> active --response done--> idle --first byte--> active ...
//     |                      |                          |
//     +-------- closed <-----+--------------------------+
//
// A connection is active from the first byte of a request's head to the
// end of its response. shutdown() closes a connection only by moving it
// from idle (or from fresh, once it is 5 s old, as Go does) to closed with
// a compare-and-swap; the connection's goroutine moves idle -> active with
// a compare-and-swap too, so exactly one of them wins: either the request
// is served to the end, or the connection is closed before its handler
// starts. A request in flight is never cut short by shutdown.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "goro/http.hpp"
#include "goro/sync.hpp"
#include "http/body.hpp"
#include "http/parse.hpp"

namespace goro::http {

namespace detail {

enum class phase : int { fresh, active, idle, closed };

// The request body as read from the connection (body_reader over the
// connection's buffer), answering "Expect: 100-continue" on the first read.
class conn_body final : public body_source {
 public:
  explicit conn_body(conn_state& c) noexcept : c_(c) {}
  void reset(const request_head& h, bool expect_continue) noexcept;
  std::size_t read(std::span<std::byte> buf, std::error_code& ec) noexcept override;
  bool done() const noexcept { return r_.done(); }
  bool broken() const noexcept { return r_.broken(); }
  // Reads and drops up to limit bytes of what is left; true if the body
  // ended within them.
  bool discard(std::size_t limit) noexcept;
  bool continue_pending() const noexcept { return expect_continue_; }

 private:
  conn_state& c_;
  body_reader r_;
  bool expect_continue_ = false;  // "100 Continue" not yet sent
};

// The server's response_writer for one request.
class conn_writer final : public response_writer {
 public:
  explicit conn_writer(conn_state& c) noexcept : c_(c) {}
  void reset(const request& r, bool keep_alive) noexcept;

  http::header& header() override { return header_; }
  void write_header(int status) override;
  using response_writer::write;
  std::size_t write(std::span<const std::byte> b, std::error_code& ec) override;
  void flush() override;

  // After the handler: sends what is left (the whole response if nothing
  // was sent yet) and the last chunk. False if the connection must close.
  bool finish();
  bool head_sent() const noexcept { return head_sent_; }
  bool keep_alive() const noexcept { return keep_alive_; }
  void set_close() noexcept { keep_alive_ = false; }
  int status() const noexcept { return status_; }

 private:
  void send_head(bool final_body_known, std::string_view sniff);
  bool send(std::string_view a, std::string_view b = {}) noexcept;
  // Moves the buffered body to out_, as a chunk when chunking.
  void append_buffered_body();
  bool body_allowed() const noexcept;

  conn_state& c_;
  http::header header_;
  std::string out_;   // the head being built, then the body buffered before the head goes
  std::string body_;  // body bytes buffered until the head is sent
  int status_ = 0;
  bool is_head_ = false;
  bool http10_ = false;
  bool keep_alive_ = true;
  bool head_sent_ = false;
  bool chunking_ = false;
  bool failed_ = false;
  std::int64_t declared_length_ = -1;  // the handler's own Content-Length
  std::int64_t written_ = 0;           // body bytes the handler wrote
};

struct conn_state {
  conn_state(std::shared_ptr<server::state> s, net::conn c);
  ~conn_state();

  std::shared_ptr<server::state> srv;
  net::conn c;
  std::string remote;
  std::atomic<phase> ph{phase::fresh};
  std::chrono::steady_clock::time_point born;
  goro::context ctx;  // cancelled when the server closes the connection
  goro::cancel_func cancel;

  read_buffer in;  // bytes read and not yet parsed

  // Go's background read (conn.cpp, "The client going away"): once the
  // request's context is wanted and its body is read, a watcher goroutine
  // reads one byte; the end of the stream cancels the request's context.
  std::atomic<int> watch{0};  // 0: off, 1: wanted (starts when the body ends), 2: reading
  std::atomic<bool> watch_abort{false};
  bool watch_allowed = false;   // room in the buffer for the watcher's byte
  bool watch_got_byte = false;  // written by the watcher before watch_done
  bool client_gone = false;     // likewise
  chan<std::monostate> watch_done = make_chan<std::monostate>(1);
  goro::cancel_func req_cancel;  // the current request's context

  request_head head;
  request req;
  conn_body body{*this};
  conn_writer writer{*this};

  std::size_t fill(std::size_t limit, std::error_code& ec) noexcept { return in.fill(c, limit, ec); }
};

// A connection's goroutine.
void serve_conn(std::unique_ptr<conn_state> c);

// The watcher of the client going away: started once wanted and the body is
// read (any goroutine), stopped by the connection's goroutine when the
// handler returns.
void start_watch(conn_state& c) noexcept;
bool stop_watch(conn_state& c) noexcept;  // true if a watcher was stopped

struct request_access {
  static void attach(request& r, conn_state* c) noexcept { r.conn_ = c; }
};

// "HTTP/1.1 400 Bad Request..." for a request that could not be parsed,
// then the connection is closed.
void reply_error_and_close(conn_state& c, int status, std::string_view reason);

// Appends the Date header's value for now ("Mon, 02 Jan 2006 15:04:05 GMT").
void append_http_date(std::string& out);
// http.DetectContentType for the start of a body (a subset: HTML, XML,
// images, PDF, archives; else text or binary).
std::string_view detect_content_type(std::string_view data) noexcept;

}  // namespace detail

struct server::state {
  explicit state(server_config c);

  server_config cfg;
  std::size_t max_header_bytes;

  goro::mutex mu;
  std::unordered_set<detail::conn_state*> conns;   // guarded by mu
  std::vector<net::listener*> listeners;           // guarded by mu
  std::vector<std::function<void()>> on_shutdown;  // guarded by mu
  int serving = 0;                                 // serve loops running; guarded by mu
  std::string addr;                                // guarded by mu
  std::atomic<bool> shutting_down{false};
  std::atomic<bool> closed{false};
  chan<std::monostate> changed;  // shutdown's wake-up: a connection ended or went idle

  bool in_shutdown() const noexcept { return shutting_down.load(std::memory_order_acquire); }
  void notify_change() noexcept;
  // Closes idle connections (and fresh ones older than 5 s); true when no
  // connection is left.
  bool close_idle();
  void close_listeners();
};

}  // namespace goro::http
